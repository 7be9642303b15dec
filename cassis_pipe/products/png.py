"""PNG encoder for large 8-bit RGBA images: every scanline "Up"-filtered (PNG filter type 2),
one zlib stream compressed by libdeflate (through ``imagecodecs``) at a fixed level, no
ancillary chunks. The bytes depend only on the pixels (deterministic); libdeflate releases the
GIL, so several images can be encoded in threads.

Measured on a 12402 x 4896 RGBA composite (docs/performance-history.md): about 3.5 x less
CPU than Pillow's zlib level 1 with a slightly smaller file.
"""

from __future__ import annotations

import struct
import zlib

import imagecodecs
import numpy as np
from numba import njit, prange

from cassis_pipe.products.errors import ProductError

#: libdeflate compression level of the IDAT stream.
DEFLATE_LEVEL = 1
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FILTER_UP = 2


def scanline_buffer(lines: int, samples: int, channels: int = 4) -> np.ndarray:
    """Empty (lines, 1 + channels * samples) uint8 buffer of PNG scanlines (filter byte first)."""
    return np.empty((lines, 1 + channels * samples), dtype=np.uint8)


@njit(cache=True, parallel=True)
def up_filter_rows(rows: np.ndarray, out: np.ndarray) -> None:
    """PNG "Up" filter: out[i, 0] = 2, out[i, 1:] = rows[i] - rows[i - 1] (mod 256; row -1 is
    zero). ``rows`` (lines, n) uint8, ``out`` (lines, n + 1) uint8."""
    for i in prange(rows.shape[0]):
        out[i, 0] = FILTER_UP
        if i == 0:
            for k in range(rows.shape[1]):
                out[i, k + 1] = rows[i, k]
        else:
            for k in range(rows.shape[1]):
                out[i, k + 1] = np.uint8(rows[i, k] - rows[i - 1, k])


def _chunk(kind: bytes, data: bytes | memoryview) -> bytes:
    head = struct.pack(">I", len(data)) + kind
    return b"".join((head, data, struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))))


def png_from_scanlines(scanlines: np.ndarray, samples: int, color_type: int = 6,
                       level: int = DEFLATE_LEVEL) -> bytes:
    """PNG file bytes (8 bit, colour type 6 = RGBA) from already filtered scanlines
    (lines, 1 + 4 * samples) uint8."""
    lines = scanlines.shape[0]
    if lines < 1 or samples < 1 or lines >= 2**31 or samples >= 2**31:
        raise ProductError(f"PNG size {lines} x {samples} out of range")
    ihdr = struct.pack(">IIBBBBB", samples, lines, 8, color_type, 0, 0, 0)
    idat = imagecodecs.deflate_encode(np.ascontiguousarray(scanlines), level=level)
    return PNG_SIGNATURE + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def encode_rgba(rgba: np.ndarray, level: int = DEFLATE_LEVEL) -> bytes:
    """PNG bytes of an (lines, samples, 4) uint8 RGBA image."""
    a = np.ascontiguousarray(rgba)
    if a.dtype != np.uint8 or a.ndim != 3 or a.shape[2] != 4:
        raise ProductError(f"PNG needs (lines, samples, 4) uint8, got {a.dtype} {a.shape}")
    lines, samples = a.shape[:2]
    buf = scanline_buffer(lines, samples)
    up_filter_rows(a.reshape(lines, 4 * samples), buf)
    return png_from_scanlines(buf, samples, level=level)
