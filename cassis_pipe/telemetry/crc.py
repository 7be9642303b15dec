"""CRC-16/CCITT-FALSE as used by CaSSIS TC and HK frames.

Polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR. Check value 0x29B1 for
b"123456789". Table driven, numba compiled.
"""

from __future__ import annotations

import numba as nb
import numpy as np


def _make_table() -> np.ndarray:
    table = np.zeros(256, dtype=np.uint16)
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        table[i] = c & 0xFFFF
    return table


_TABLE = _make_table()


@nb.njit(cache=True, nogil=True)
def _crc16_kernel(data: np.ndarray, table: np.ndarray, init: int) -> int:
    crc = init
    for i in range(data.shape[0]):
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ data[i]) & 0xFF]
    return crc


def crc16(data: bytes | bytearray | memoryview | np.ndarray, init: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE of ``data`` (returns an int in 0..65535)."""
    arr = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data
    return int(_crc16_kernel(arr.astype(np.uint8, copy=False), _TABLE, init))
