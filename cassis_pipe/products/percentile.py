"""Exact percentiles of the valid pixels of large 2-D bands without sorting them all.

The result equals ``np.percentile(values, q)`` (numpy's default ``"linear"`` method, same
float rounding) where ``values`` are the valid pixels of the band. A deterministic subsample
(every ``stride``-th pixel in row-major order) brackets each wanted order statistic; one pass
over the band counts the pixels below each bracket and collects those inside it, and only the
collected values are sorted. If a bracket misses its order statistics (possible for odd
distributions, never silently wrong) the value is taken from all valid pixels instead.

Validity comes as a uint8 bit set per pixel (bit k: band k finite and above -1e30, the float32
special values are below); a pixel counts where all bits of ``need`` are set.
The value of a pixel is band ``a`` or, with ``half_sum``, ``0.5 * (a + b)`` in float64.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit, prange

_SPECIAL_BELOW = -1e30
#: Subsample size aimed at (pixels) and bracket half-width (fraction of the valid pixels).
SAMPLE_PX = 1 << 18
MARGIN = 0.004
_CHUNKS = 64


@njit(cache=True, inline="always")
def _ok(v: float) -> bool:
    return np.isfinite(v) and v > _SPECIAL_BELOW


@njit(cache=True, parallel=True)
def set_valid_bit(band: np.ndarray, bit: int, bits: np.ndarray) -> None:
    """Set bit ``bit`` of ``bits`` (uint8, band shape) where ``band`` is valid (finite and
    above -1e30), clear it elsewhere."""
    on = np.uint8(1 << bit)
    off = np.uint8(255 - (1 << bit))
    for i in prange(band.shape[0]):
        for j in range(band.shape[1]):
            if _ok(np.float64(band[i, j])):
                bits[i, j] |= on
            else:
                bits[i, j] &= off


def native(a: np.ndarray) -> np.ndarray:
    """C-contiguous, native byte order view or copy of ``a`` (what the kernels take)."""
    a = np.asarray(a)
    return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder("="))


def validity_bits(bands: Sequence[np.ndarray]) -> np.ndarray:
    """uint8 bit set per pixel: bit k set where ``bands[k]`` is valid (at most 8 bands)."""
    if not 1 <= len(bands) <= 8:
        raise ValueError(f"need 1 to 8 bands, got {len(bands)}")
    bits = np.zeros(np.shape(bands[0]), np.uint8)
    for k, band in enumerate(bands):
        set_valid_bit(native(band), k, bits)
    return bits


@njit(cache=True, inline="always")
def _value(a: np.ndarray, b: np.ndarray, half_sum: bool, i: int, j: int) -> float:
    if half_sum:
        return 0.5 * (np.float64(a[i, j]) + np.float64(b[i, j]))
    return np.float64(a[i, j])


@njit(cache=True)
def _count_row(row: np.ndarray, need: int) -> int:
    c = 0
    for j in range(row.shape[0]):
        if row[j] & need == need:
            c += 1
    return c


@njit(cache=True, parallel=True)
def count_valid(bits: np.ndarray, need: int) -> int:
    """Number of pixels whose validity ``bits`` include every bit of ``need``.

    The per-row count is a separate function: a scalar accumulator inside the ``prange`` body
    makes numba 0.68's parfor reduction analysis fail ("unexpected cycle in lookup()").
    """
    lines = bits.shape[0]
    counts = np.zeros(lines, np.int64)
    for i in prange(lines):
        counts[i] = _count_row(bits[i], need)
    return counts.sum()


@njit(cache=True, parallel=True)
def same_mask(bits: np.ndarray, need_a: int, need_b: int) -> bool:
    """True if the joint masks of ``need_a`` and ``need_b`` select the same pixels."""
    lines = bits.shape[0]
    diff = np.zeros(lines, np.bool_)
    for i in prange(lines):
        for j in range(bits.shape[1]):
            if (bits[i, j] & need_a == need_a) != (bits[i, j] & need_b == need_b):
                diff[i] = True
                break
    return not diff.any()


@njit(cache=True)
def _subsample(a: np.ndarray, b: np.ndarray, half_sum: bool, bits: np.ndarray, need: int,
               stride: int) -> np.ndarray:
    """Sorted values of the valid pixels among every ``stride``-th pixel (row-major)."""
    ns = a.shape[1]
    total = a.shape[0] * ns
    out = np.empty((total + stride - 1) // stride, np.float64)
    n = 0
    for k in range(0, total, stride):
        i = k // ns
        j = k - i * ns
        if bits[i, j] & need == need:
            out[n] = _value(a, b, half_sum, i, j)
            n += 1
    return np.sort(out[:n])


@njit(cache=True, parallel=True)
def _bracket_pass(a: np.ndarray, b: np.ndarray, half_sum: bool, bits: np.ndarray, need: int,
                  lo: np.ndarray, hi: np.ndarray, fill: bool, offsets: np.ndarray,
                  below: np.ndarray, inside: np.ndarray, nans: np.ndarray, buf: np.ndarray
                  ) -> None:
    """Two brackets q = 0, 1, per row chunk: count the valid values < lo[q] (``below``), in
    [lo[q], hi[q]] (``inside``) and NaN (``nans``); with ``fill`` also copy the in-bracket
    values into ``buf`` starting at ``offsets[chunk, q]``."""
    lines = a.shape[0]
    nchunk = below.shape[0]
    lo0, hi0, lo1, hi1 = lo[0], hi[0], lo[1], hi[1]
    for ck in prange(nchunk):
        i0 = ck * lines // nchunk
        i1 = (ck + 1) * lines // nchunk
        b0 = 0
        b1 = 0
        n0 = 0
        n1 = 0
        nn = 0
        p0 = offsets[ck, 0]
        p1 = offsets[ck, 1]
        for i in range(i0, i1):
            for j in range(a.shape[1]):
                if bits[i, j] & need != need:
                    continue
                v = _value(a, b, half_sum, i, j)
                if v < lo0:
                    b0 += 1
                elif v <= hi0:
                    n0 += 1
                    if fill:
                        buf[p0] = v
                        p0 += 1
                elif v != v:
                    nn += 1
                if v < lo1:
                    b1 += 1
                elif v <= hi1:
                    n1 += 1
                    if fill:
                        buf[p1] = v
                        p1 += 1
        below[ck, 0] = b0
        below[ck, 1] = b1
        inside[ck, 0] = n0
        inside[ck, 1] = n1
        nans[ck] = nn


@njit(cache=True)
def _all_values(a: np.ndarray, b: np.ndarray, half_sum: bool, bits: np.ndarray, need: int,
                n: int) -> np.ndarray:
    out = np.empty(n, np.float64)
    k = 0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            if bits[i, j] & need == need:
                out[k] = _value(a, b, half_sum, i, j)
                k += 1
    return np.sort(out)


def _lerp(prev: float, nxt: float, gamma: float, float32: bool) -> float:
    """numpy's ``_lerp`` for one point (the difference is rounded to the data type first)."""
    diff = float(np.float32(nxt) - np.float32(prev)) if float32 else nxt - prev
    if gamma >= 0.5:
        return nxt - diff * (1.0 - gamma)
    return prev + diff * gamma


def _ranks(n: int, pcts: Sequence[float]) -> list[tuple[int, int, float]]:
    """(previous index, next index, gamma) of numpy's linear method per percentile."""
    q = np.true_divide(np.asarray(pcts, dtype=np.float64), 100)
    virtual = (n - 1) * q
    prev = np.floor(virtual).astype(np.intp)
    nxt = prev + 1
    above = virtual >= n - 1
    prev[above] = n - 1
    nxt[above] = n - 1
    below = virtual < 0
    prev[below] = 0
    nxt[below] = 0
    gamma = virtual - np.floor(virtual)
    return [(int(p), int(x), float(g)) for p, x, g in zip(prev, nxt, gamma, strict=True)]


def band_percentiles(a: np.ndarray, pcts: Sequence[float], bits: np.ndarray, need: int = 1,
                     b: np.ndarray | None = None, sample_px: int = SAMPLE_PX,
                     margin: float = MARGIN) -> list[float] | None:
    """Percentiles ``pcts`` (%) of the valid pixel values (float), None if no pixel is valid.
    Values are ``a`` or, given ``b``, ``0.5 * (a + b)``; a pixel is valid where its
    ``bits`` (uint8, ``a.shape``) include every bit of ``need``. Equal to ``np.percentile``
    of the same values (float32 bands keep numpy's float32 rounding of the difference)."""
    a = native(a)
    half = b is not None
    bb = native(b) if half else a
    bits = np.ascontiguousarray(bits)
    if a.ndim != 2 or bb.shape != a.shape or bits.shape != a.shape or bits.dtype != np.uint8:
        raise ValueError("need 2-D bands and uint8 validity bits of one shape")
    need = int(need)
    n = int(count_valid(bits, need))
    if n == 0:
        return None
    float32 = not half and a.dtype == np.float32
    if len(pcts) != 2:  # the counting kernel takes two brackets at a time
        out: list[float] = []
        for k in range(0, len(pcts), 2):
            pair = list(pcts[k:k + 2])
            res = band_percentiles(a, pair + pair[:1] * (2 - len(pair)), bits, need, b,
                                   sample_px, margin)
            out += res[:len(pair)] if res is not None else []
        return out
    ranks = _ranks(n, pcts)
    stride = max(1, a.size // max(int(sample_px), 1))
    sample = _subsample(a, bb, half, bits, need, stride)
    ms_ = sample.size
    lo = np.full(len(ranks), -np.inf)
    hi = np.full(len(ranks), np.inf)
    w = int(np.ceil(margin * ms_)) + 2
    for q, (p, x, _) in enumerate(ranks):
        # sample values around the wanted ranks, widened by ``margin`` of the sample
        ka = p * ms_ // n - w
        kb = x * ms_ // n + w
        if 0 <= ka < ms_:
            lo[q] = sample[ka]
        if 0 <= kb < ms_:
            hi[q] = sample[kb]
    nchunk = max(1, min(_CHUNKS, a.shape[0]))
    below = np.zeros((nchunk, lo.size), np.int64)
    inside = np.zeros((nchunk, lo.size), np.int64)
    nans = np.zeros(nchunk, np.int64)
    _bracket_pass(a, bb, half, bits, need, lo, hi, False, below.copy(), below, inside, nans,
                  np.empty(0))
    if nans.any():  # numpy: any NaN value makes every percentile NaN
        return [float("nan")] * len(ranks)
    sizes = inside.sum(axis=0)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    offsets = starts[None, :] + np.cumsum(inside, axis=0) - inside
    buf = np.empty(int(sizes.sum()), np.float64)
    below[:] = 0
    inside[:] = 0
    _bracket_pass(a, bb, half, bits, need, lo, hi, True, offsets, below, inside, nans, buf)
    nbelow = below.sum(axis=0)
    everything: np.ndarray | None = None
    out = []
    for q, (p, x, g) in enumerate(ranks):
        k0 = int(nbelow[q])
        seg = np.sort(buf[starts[q]:starts[q] + sizes[q]])
        if k0 <= p and x < k0 + seg.size:
            vp, vx = float(seg[p - k0]), float(seg[x - k0])
        else:  # the bracket missed the order statistics: take them from all values
            if everything is None:
                everything = _all_values(a, bb, half, bits, need, n)
            vp, vx = float(everything[p]), float(everything[x])
        out.append(_lerp(vp, vx, g, float32))
    return out
