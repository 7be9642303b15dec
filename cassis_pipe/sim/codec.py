"""JPEG-LS encoding of window DN for the simulator (thin adapter over ``cassis_pipe.codec``)."""

from __future__ import annotations

import numpy as np

from cassis_pipe.codec.jpegls import encode
from cassis_pipe.codec.ratio import near_for_ratio_id

BITS_PER_SAMPLE = 14


#: ratio id sent uncompressed, as the flown 2016 windows (word 0: 2 bytes per pixel)
RAW_RATIO_ID = 0


def compress_window(dn: np.ndarray, ratio_id: int) -> bytes:
    """Window data as sent: big-endian uint16 pixels for ratio id 0 (uncompressed, as flown),
    otherwise one JPEG-LS stream (14-bit samples) at the NEAR of ``ratio_id``."""
    if ratio_id == RAW_RATIO_ID:
        return np.ascontiguousarray(dn, dtype=">u2").tobytes()
    return encode(np.ascontiguousarray(dn, dtype=np.uint16), near=near_for_ratio_id(ratio_id),
                  bits_per_sample=BITS_PER_SAMPLE)
