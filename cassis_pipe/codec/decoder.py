"""JPEG-LS scan decoder kernel (T.87 annex A, decoding side; single component, ILV = 0).

Reads the stream bytes directly through a 64-bit bit cache kept in registers (``cache`` holds
``nb`` valid bits, most significant first; ``bp`` is the next byte; stuffed bits are dropped
while filling). Golomb prefixes are decoded with count-leading-zeros. Indices are cast to
``uintp`` in the hot loop so numba emits no negative-index wraparound code. Every loop is bounded
by the image size, and past the end of the data zeros are fed, so corrupt input always stops.
Status codes: 0 ok, -1 data exhausted (truncated), -2 invalid Golomb code, -3 bad RST marker,
-4 run longer than the line.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.numbers import leading_zeros

from .context import derived, fix_reconstructed, golomb_k, predict_med, quant_lut
from .params import J_TABLE

OK = 0
E_TRUNCATED = -1
E_CODE = -2
E_RESTART = -3
E_RUN = -4

_U = np.uintp
# columns of the regular-context table
_A, _B, _C, _N = 0, 1, 2, 3


@njit(cache=True, inline="always")
def _fill(
    data: np.ndarray, cache: int, nb: int, bp: int, end: int
) -> tuple[int, int, int, int]:
    """Top up the bit cache to >= 49 valid bits from ``data[bp:end]``, removing stuffed bits.

    A 0xFF byte is taken together with the next byte's 7 low bits. A 0xFF followed by a byte
    >= 0x80 (or by the end of ``data``) is a marker: ``end`` becomes its offset and zero bits are
    fed from there on (``bp`` keeps counting them, so overruns are detectable).
    """
    n = data.shape[0]
    while nb <= 48:
        if bp < end:
            b = np.int64(data[_U(bp)])
            if b != 0xFF:
                cache |= b << (56 - nb)
                nb += 8
                bp += 1
                continue
            b2 = np.int64(data[_U(bp + 1)]) if bp + 1 < n else np.int64(0xFF)
            if b2 < 0x80:
                cache |= (np.int64(0xFF) << (56 - nb)) | (b2 << (49 - nb))
                nb += 15
                bp += 2
                continue
            end = bp
        nb += 8
        bp += 1
    return cache, nb, bp, end


@njit(cache=True, inline="always")
def _decode_value(
    buf: np.ndarray, cache: int, nb: int, bp: int, end: int, k: int, limit: int, qbpp: int
) -> tuple[int, int, int, int, int]:
    """Limited-length Golomb decoding (A.5.3). Returns (value, cache, nb, bp, end); value < 0
    means corrupt data (too many leading zeros or k out of range)."""
    cap = limit - qbpp - 1
    if nb <= 48:
        cache, nb, bp, end = _fill(buf, cache, nb, bp, end)
    if cache != 0:
        q = leading_zeros(cache)
        if q < cap and q + 1 + k <= nb:
            n = q + 1 + k
            if k == 0:
                v = q
            else:
                v = (q << k) | ((cache >> (64 - n)) & ((np.int64(1) << k) - 1))
            return v, cache << n, nb - n, bp, end
    # slow path: long unary prefix or escape code
    q = 0
    while True:
        if cache != 0:
            lz = leading_zeros(cache)
            q += lz
            cache <<= lz + 1
            nb -= lz + 1
            break
        q += nb
        nb = 0
        cache = np.int64(0)
        if q > cap:
            return -1, cache, nb, bp, end
        cache, nb, bp, end = _fill(buf, cache, nb, bp, end)
    if q > cap or k > 48:
        return -1, cache, nb, bp, end
    cache, nb, bp, end = _fill(buf, cache, nb, bp, end)
    n = qbpp if q == cap else k
    if n == 0:
        return q, cache, nb, bp, end
    v = (cache >> (64 - n)) & ((np.int64(1) << n) - 1)
    cache <<= n
    nb -= n
    if q == cap:
        return v + 1, cache, nb, bp, end
    return (q << k) | v, cache, nb, bp, end


@njit(cache=True, inline="always")
def _overrun(nb: int, bp: int, end: int) -> bool:
    """True if the decoder consumed bits beyond ``end`` (the zero bits fed past the data)."""
    return bp > end and 8 * (bp - end) > nb


@njit(cache=True)
def _fail(code: int, nb: int, bp: int, end: int) -> tuple[int, int]:
    """Status for a decoding failure: corrupt data that ran past the end is reported truncated."""
    if _overrun(nb, bp, end):
        return E_TRUNCATED, end
    return code, bp - nb // 8


@njit(cache=True)
def find_marker(data: np.ndarray, pos: int) -> int:
    """Offset of the first marker (0xFF followed by a byte >= 0x80) at or after ``pos``, or the
    length of ``data`` if there is none."""
    n = data.shape[0]
    while pos < n:
        if data[pos] == 0xFF and (pos + 1 >= n or data[pos + 1] >= 0x80):
            return pos
        pos += 1
    return n


@njit(cache=True)
def decode_scan(
    data: np.ndarray, start: int, prm: np.ndarray, out: np.ndarray
) -> tuple[int, int]:
    """Decode the scan whose entropy-coded data begins at byte ``start`` into ``out``.

    ``prm`` = [width, height, maxval, near, t1, t2, t3, reset, lines per restart interval];
    ``out`` is (height, width) uint16. Returns (status, byte offset): on success the offset of the
    marker that follows the scan (EOI expected), else where the error was detected.
    """
    width = prm[0]
    height = prm[1]
    maxval = prm[2]
    near = prm[3]
    reset = prm[7]
    ri_lines = prm[8]
    n = data.shape[0]
    rng, qbpp, limit = derived(maxval, near)
    step = 2 * near + 1
    rng_step = rng * step
    ql = quant_lut(maxval, near, prm[4], prm[5], prm[6], 1).astype(np.int8)
    jt = J_TABLE.copy()
    lines = np.zeros((2, width + 2), dtype=np.int32)
    ctx = np.zeros((365, 4), dtype=np.int64)
    RA = np.zeros(2, dtype=np.int64)
    RN = np.zeros(2, dtype=np.int64)
    RNn = np.zeros(2, dtype=np.int64)
    a0 = max(2, (rng + 32) // 64)
    ri = 0
    cache = np.int64(0)
    nb = 0
    bp = start
    end = n
    seg = -1
    for y in range(height):
        if y % ri_lines == 0:
            if seg >= 0:
                # end of a restart interval: drop the padding bits, expect RSTm
                m = find_marker(data, bp - nb // 8) if end == n else end
                while m + 1 < n and data[m + 1] == 0xFF:
                    m += 1
                if m + 1 >= n or data[m + 1] != 0xD0 + (seg & 7):
                    return E_RESTART, m
                bp = m + 2
                end = n
            seg += 1
            for i in range(365):
                ctx[i, _A] = a0
                ctx[i, _B] = 0
                ctx[i, _C] = 0
                ctx[i, _N] = 1
            for t in range(2):
                RA[t] = a0
                RN[t] = 1
                RNn[t] = 0
            ri = 0
            lines[:, :] = 0
            cache = np.int64(0)
            nb = 0
        prev = lines[(y + 1) & 1]
        cur = lines[y & 1]
        prev[width + 1] = prev[width]
        cur[0] = prev[1]
        x = 1
        rc = np.int64(prev[0])
        rb = np.int64(prev[1])
        while x <= width:
            ra = np.int64(cur[_U(x - 1)])
            rd = np.int64(prev[_U(x + 1)])
            q = (81 * np.int64(ql[_U(rd - rb + maxval)]) + 9 * np.int64(ql[_U(rb - rc + maxval)])
                 + np.int64(ql[_U(rc - ra + maxval)]))
            if q != 0:
                # ---- regular mode
                c = -q if q < 0 else q
                a_ = ctx[c, _A]
                b_ = ctx[c, _B]
                c_ = ctx[c, _C]
                n_ = ctx[c, _N]
                k = golomb_k(a_, n_)
                px = predict_med(ra, rb, rc)
                px = px + c_ if q > 0 else px - c_
                if px < 0:
                    px = 0
                elif px > maxval:
                    px = maxval
                merr, cache, nb, bp, end = _decode_value(
                    data, cache, nb, bp, end, k, limit, qbpp
                )
                if merr < 0:
                    return _fail(E_CODE, nb, bp, end)
                err = (merr >> 1) ^ -(merr & 1)
                if k == 0 and near == 0 and 2 * b_ <= -n_:
                    err = -err - 1
                # variable and bias update (A.6)
                a_ += abs(err)
                b_ += err * step
                if n_ == reset:
                    a_ >>= 1
                    b_ >>= 1
                    n_ >>= 1
                n_ += 1
                if b_ + n_ <= 0:
                    b_ += n_
                    if b_ <= -n_:
                        b_ = -n_ + 1
                    if c_ > -128:
                        c_ -= 1
                elif b_ > 0:
                    b_ -= n_
                    if b_ > 0:
                        b_ = 0
                    if c_ < 127:
                        c_ += 1
                ctx[c, _A] = a_
                ctx[c, _B] = b_
                ctx[c, _C] = c_
                ctx[c, _N] = n_
                if q < 0:
                    err = -err
                rx = px + err * step
                if near == 0:
                    if rx < 0:
                        rx += rng
                    elif rx > maxval:
                        rx -= rng
                    if rx < 0:  # only reachable with corrupt data
                        rx = 0
                    elif rx > maxval:
                        rx = maxval
                else:
                    if rx < -near:
                        rx += rng_step
                    elif rx > maxval + near:
                        rx -= rng_step
                    if rx < 0:
                        rx = 0
                    elif rx > maxval:
                        rx = maxval
                cur[_U(x)] = rx
                x += 1
                rc = rb
                rb = rd
                continue
            # ---- run mode
            remaining = width - x + 1
            cnt = 0
            while True:
                if nb <= 48:
                    cache, nb, bp, end = _fill(data, cache, nb, bp, end)
                bit = cache < 0
                cache <<= 1
                nb -= 1
                if not bit:
                    break
                m = np.int64(1) << jt[ri]
                if m > remaining - cnt:
                    cnt = remaining
                    break
                cnt += m
                if ri < 31:
                    ri += 1
                if cnt == remaining:
                    break
            if cnt != remaining:
                j = jt[ri]
                if j > 0:
                    if nb <= 48:
                        cache, nb, bp, end = _fill(data, cache, nb, bp, end)
                    cnt += (cache >> (64 - j)) & ((np.int64(1) << j) - 1)
                    cache <<= j
                    nb -= j
                if cnt > remaining:
                    return _fail(E_RUN, nb, bp, end)
            for i in range(cnt):
                cur[_U(x + i)] = ra
            x += cnt
            if x > width:
                break
            # ---- run interruption sample
            rb = np.int64(prev[_U(x)])
            if abs(ra - rb) <= near:
                t = 1
                px = ra
                sgn = 1
            else:
                t = 0
                px = rb
                sgn = 1 if rb > ra else -1
            k = golomb_k(RA[t] + (RN[t] >> 1) * t, RN[t])
            em, cache, nb, bp, end = _decode_value(
                data, cache, nb, bp, end, k, limit - jt[ri] - 1, qbpp
            )
            if em < 0:
                return _fail(E_CODE, nb, bp, end)
            tmp = em + t
            mp = tmp & 1
            eabs = (tmp + mp) >> 1
            if (k != 0 or 2 * RNn[t] >= RN[t]) == (mp == 1):
                err = -eabs
            else:
                err = eabs
            if err < 0:
                RNn[t] += 1
            RA[t] += (em + 1 - t) >> 1
            if RN[t] == reset:
                RA[t] >>= 1
                RN[t] >>= 1
                RNn[t] >>= 1
            RN[t] += 1
            cur[_U(x)] = fix_reconstructed(px + sgn * err * step, maxval, near, rng)
            if ri > 0:
                ri -= 1
            x += 1
            rc = np.int64(prev[_U(x - 1)])
            rb = np.int64(prev[_U(x)])
        for i in range(width):
            out[y, i] = cur[i + 1]
        if _overrun(nb, bp, end):
            return E_TRUNCATED, min(end, n)
    if end == n:
        end = find_marker(data, bp - nb // 8)
    return OK, end


@njit(cache=True, parallel=True)
def decode_many(
    data: np.ndarray, offsets: np.ndarray, prms: np.ndarray, outs: np.ndarray,
    out_off: np.ndarray, status: np.ndarray,
) -> None:
    """Decode many scans in parallel (prange over scans). Stream i is
    ``data[offsets[i, 0]:offsets[i, 1]]`` with its scan data at offset ``offsets[i, 2]``;
    writes ``outs``, ``status[i, 0]`` (status) and ``status[i, 1]`` (byte offset)."""
    for i in prange(prms.shape[0]):
        buf = data[offsets[i, 0]:offsets[i, 1]]
        w = prms[i, 0]
        h = prms[i, 1]
        out = outs[out_off[i]:out_off[i] + w * h].reshape((h, w))
        st, pos = decode_scan(buf, offsets[i, 2], prms[i], out)
        status[i, 0] = st
        status[i, 1] = pos
