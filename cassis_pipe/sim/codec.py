"""JPEG-LS encoding of window DN for the simulator (thin adapter over ``cassis_pipe.codec``)."""

from __future__ import annotations

import numpy as np

from cassis_pipe.codec.jpegls import encode
from cassis_pipe.codec.ratio import near_for_ratio_id as _near

BITS_PER_SAMPLE = 14


def near_for_ratio_id(ratio_id: int) -> int:
    """JPEG-LS NEAR (DN) for a commanded compression ratio id (codec.ratio table)."""
    return int(_near(ratio_id))


def compress_window(dn: np.ndarray, ratio_id: int) -> bytes:
    """One JPEG-LS stream (14-bit samples) of a window's DN at the NEAR of ``ratio_id``."""
    return encode(np.ascontiguousarray(dn, dtype=np.uint16), near=near_for_ratio_id(ratio_id),
                  bits_per_sample=BITS_PER_SAMPLE)
