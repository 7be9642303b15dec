"""Bit-level I/O for JPEG-LS entropy-coded segments (numba kernels, no Python objects).

Marker stuffing (T.87 A.1, D.1): inside entropy-coded data a 0xFF byte is always followed by a
byte whose most significant bit is a stuffed 0, so only 7 data bits follow a 0xFF. A 0xFF followed
by a byte >= 0x80 is a marker and ends the segment.

Decoding works on a *destuffed* copy: the stuffed bits are removed once per segment so that the
hot loop reads a plain big-endian bit string with 64-bit windows and count-leading-zeros.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros

# ---------------------------------------------------------------------------- reading


@njit(cache=True, inline="always")
def peek64(buf: np.ndarray, p: int) -> int:
    """64-bit window (int64 bit pattern) starting at bit ``p`` of ``buf``; >= 57 bits are valid,
    the bits below them are zero. ``buf`` must have 8 bytes of padding beyond ``p >> 3``."""
    i = p >> 3
    w = (
        (np.int64(buf[i]) << 56) | (np.int64(buf[i + 1]) << 48) | (np.int64(buf[i + 2]) << 40)
        | (np.int64(buf[i + 3]) << 32) | (np.int64(buf[i + 4]) << 24)
        | (np.int64(buf[i + 5]) << 16) | (np.int64(buf[i + 6]) << 8) | np.int64(buf[i + 7])
    )
    return w << (p & 7)


@njit(cache=True, inline="always")
def read_bits(buf: np.ndarray, p: int, n: int) -> int:
    """Value of the ``n`` bits (1 <= n <= 57) at bit position ``p``."""
    return (peek64(buf, p) >> (64 - n)) & ((np.int64(1) << n) - 1)


@njit(cache=True, inline="always")
def count_zeros(buf: np.ndarray, p: int, cap: int) -> tuple[int, int]:
    """Count 0 bits before the next 1 bit at ``p`` (the 1 is consumed).

    Returns (count, new_p); count > cap signals corrupt data (new_p is then meaningless).
    """
    q = 0
    while True:
        w = peek64(buf, p)
        if w != 0:
            lz = leading_zeros(w)
            return q + lz, p + lz + 1
        q += 56
        p += 56
        if q > cap:
            return q, p


@njit(cache=True)
def destuff(
    data: np.ndarray, start: int, n_segments: int, clean: np.ndarray,
    seg_start: np.ndarray, seg_end: np.ndarray,
) -> tuple[int, int]:
    """Copy the entropy-coded data starting at byte ``start`` into ``clean`` minus stuffed bits.

    Segments are separated by RSTm markers (m = segment index mod 8). Bit ranges of each segment in
    ``clean`` go to ``seg_start``/``seg_end``. Returns (status, byte offset): status 0 with the
    offset of the marker that ends the scan, or -3 with the offset of a missing/wrong RST marker.
    A scan that runs to the end of ``data`` without a marker ends there (the caller then reports
    the missing EOI).
    """
    n = data.shape[0]
    i = start
    o = 0
    acc = np.int64(0)
    nacc = 0
    for s in range(n_segments):
        # each segment starts on a byte boundary of ``clean``
        if nacc > 0:
            clean[o] = (acc << (8 - nacc)) & 0xFF
            o += 1
            nacc = 0
        seg_start[s] = o * 8
        prev_ff = False
        while i < n:
            b = data[i]
            if b == 0xFF and (i + 1 >= n or data[i + 1] >= 0x80):
                break
            if prev_ff:
                acc = (acc << 7) | b
                nacc += 7
            else:
                acc = (acc << 8) | b
                nacc += 8
            if nacc >= 8:
                nacc -= 8
                clean[o] = (acc >> nacc) & 0xFF
                o += 1
            prev_ff = b == 0xFF
            i += 1
        seg_end[s] = o * 8 + nacc
        if s < n_segments - 1:
            # expect RSTm, possibly preceded by fill bytes 0xFF
            while i + 1 < n and data[i + 1] == 0xFF:
                i += 1
            if i + 1 >= n or data[i + 1] != 0xD0 + (s & 7):
                return -3, i
            i += 2
    if nacc > 0:
        clean[o] = (acc << (8 - nacc)) & 0xFF
        o += 1
    return 0, i


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


@njit(cache=True, inline="always")
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
