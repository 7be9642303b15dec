"""Bit writer for JPEG-LS entropy-coded segments (numba kernels, no Python objects).

Marker stuffing (T.87 A.1): inside entropy-coded data a 0xFF byte is always followed by a byte
whose most significant bit is a stuffed 0, so only 7 data bits follow a 0xFF; a 0xFF followed by
a byte >= 0x80 is a marker. (The reader side lives in ``decoder._fill``.)
"""

from __future__ import annotations

import numpy as np
from numba import njit

# ---------------------------------------------------------------------------- writing


@njit(cache=True, inline="always")
def put_bits(
    out: np.ndarray, o: int, acc: int, nacc: int, ff: bool, value: int, n: int
) -> tuple[int, int, int, bool]:
    """Append the low ``n`` (0..32) bits of ``value``; emits whole bytes with marker stuffing.

    State: ``o`` next output byte, ``acc``/``nacc`` pending bits (right aligned), ``ff`` whether
    the last emitted byte was 0xFF (then the next byte carries only 7 bits).
    """
    acc = (acc << n) | value
    nacc += n
    while True:
        cap = 7 if ff else 8
        if nacc < cap:
            break
        nacc -= cap
        b = (acc >> nacc) & ((1 << cap) - 1)
        out[o] = b
        o += 1
        ff = b == 0xFF
    return o, acc, nacc, ff


@njit(cache=True)
def put_zeros(
    out: np.ndarray, o: int, acc: int, nacc: int, ff: bool, n: int
) -> tuple[int, int, int, bool]:
    """Append ``n`` (any count) zero bits."""
    while n > 32:
        o, acc, nacc, ff = put_bits(out, o, acc, nacc, ff, 0, 32)
        n -= 32
    return put_bits(out, o, acc, nacc, ff, 0, n)


@njit(cache=True)
def finish_bits(
    out: np.ndarray, o: int, acc: int, nacc: int, ff: bool
) -> int:
    """Pad the pending bits with zeros to a byte; if the last byte is then 0xFF append 0x00
    (as CharLS does, so a following marker is unambiguous). Returns the new output length."""
    if nacc > 0:
        cap = 7 if ff else 8
        b = (acc << (cap - nacc)) & ((1 << cap) - 1)
        out[o] = b
        o += 1
        ff = b == 0xFF
    if ff:
        out[o] = 0
        o += 1
    return o
