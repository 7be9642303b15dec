"""Production quality metrics of the map stage, measured on the products themselves (no truth):
band-to-band misregistration against a reference band (map pixels), with the helpers that turn
an unmeasurable pair into a reported record rather than an error.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from cassis_pipe.register.mapshift import TILE_PX, AccuracyError, measure_map_shift_tiled

#: Tile side (px) of the misregistration (and the simulator's geolocation) measurements.
SHIFT_TILE_PX = TILE_PX


@njit(cache=True, nogil=True)
def _nan_unless_above(a: np.ndarray, threshold: float) -> None:
    flat = a.reshape(-1)
    for k in range(flat.size):
        if not flat[k] > threshold:
            flat[k] = np.nan


def nan_fill(product: np.ndarray, threshold: float = -1e30) -> np.ndarray:
    """Set every value of ``product`` (C-contiguous float32, modified in place) that is not
    above ``threshold`` (the products' fill value, NaN) to NaN; returns ``product``."""
    if not (product.flags.c_contiguous and product.flags.writeable):
        raise ValueError("nan_fill needs a writable C-contiguous array")
    _nan_unless_above(product, float(threshold))
    return product


def measured(fn: Any, *args: Any) -> dict[str, Any]:
    """``fn(*args)``, or ``{"measured": False, "reason": ...}`` when it cannot be measured
    (e.g. two bands that see no common ground in a short observation): reported, not raised."""
    try:
        return fn(*args)
    except AccuracyError as exc:
        return {"measured": False, "reason": str(exc)}


def largest_measured(values: Any, key: Any) -> float | None:
    """Largest ``key(v)`` over the measured records (None when nothing could be measured)."""
    got = [key(v) for v in values if v.get("measured", True)]
    return max(got) if got else None


def band_misregistration(mosaics: dict[str, np.ndarray], reference: str = "PAN",
                         max_shift_px: int = 8) -> dict[str, dict[str, Any]]:
    """Shift (map px) of every other band against ``reference``, measured on the products
    (:func:`~cassis_pipe.register.mapshift.measure_map_shift_tiled`, tiles of
    :data:`SHIFT_TILE_PX`); a band
    with no usable common ground is reported unmeasured."""
    ref = mosaics[reference]
    return {f: measured(measure_map_shift_tiled, ref, m, max_shift_px, SHIFT_TILE_PX)
            for f, m in mosaics.items() if f != reference}
