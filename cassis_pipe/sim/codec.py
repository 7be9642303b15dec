"""JPEG-LS encoding of window DN for the simulator (thin adapter over ``cassis_pipe.codec``).

The ratio id -> NEAR table comes from ``cassis_pipe.codec.ratio`` when present; until that module
is available the same nominal table (NEAR = id for ids 0..5) is used here.
"""

from __future__ import annotations

import numpy as np

from cassis_pipe.codec.jpegls import encode

try:  # the ratio table is committed separately by the codec work
    from cassis_pipe.codec.ratio import near_for_ratio_id as _near_for_ratio_id
except ImportError:  # pragma: no cover - depends on merge state
    _near_for_ratio_id = None

BITS_PER_SAMPLE = 14


def near_for_ratio_id(ratio_id: int) -> int:
    """JPEG-LS NEAR (DN) for a commanded compression ratio id."""
    if _near_for_ratio_id is not None:
        return int(_near_for_ratio_id(ratio_id))
    if not 0 <= ratio_id <= 5:
        raise ValueError(f"compression ratio id {ratio_id} not in 0..5")
    return int(ratio_id)


def compress_window(dn: np.ndarray, ratio_id: int) -> bytes:
    """One JPEG-LS stream (14-bit samples) of a window's DN at the NEAR of ``ratio_id``."""
    return encode(np.ascontiguousarray(dn, dtype=np.uint16), near=near_for_ratio_id(ratio_id),
                  bits_per_sample=BITS_PER_SAMPLE)
