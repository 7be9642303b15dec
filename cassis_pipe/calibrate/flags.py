"""Per-pixel quality flags of calibrated framelets (bit values of a uint8 mask)."""

from __future__ import annotations

#: pixel listed in the calibration bad-pixel map; value interpolated from neighbours
BAD_PIXEL = 1
#: raw DN at/above the saturation level (value kept, a lower limit)
SATURATED = 2
#: flat-field value at or below the usable minimum; value interpolated from neighbours
LOW_FLAT = 4
#: no valid neighbour within the search radius; value is NaN
UNFILLED = 8
#: non-finite input value (missing data); left NaN, never interpolated
MISSING = 16

ALL = BAD_PIXEL | SATURATED | LOW_FLAT | UNFILLED | MISSING
