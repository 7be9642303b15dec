"""JPEG-LS scan decoder kernel (T.87 annex A, decoding side; single component, ILV = 0).

Works on the destuffed bit string produced by :func:`bitio.destuff`. Status codes returned:
0 ok, -1 data exhausted (truncated), -2 invalid Golomb code, -4 run longer than the line.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .bitio import count_zeros, peek64, read_bits
from .context import (
    derived,
    fix_reconstructed,
    golomb_k,
    init_contexts,
    predict_med,
    quant_lut,
    run_k,
    update_regular,
    update_run,
)
from .params import J_TABLE

OK = 0
E_TRUNCATED = -1
E_CODE = -2
E_RESTART = -3
E_RUN = -4


@njit(cache=True, inline="always")
def _decode_value(buf: np.ndarray, p: int, k: int, limit: int, qbpp: int) -> tuple[int, int]:
    """Limited-length Golomb decoding (A.5.3); returns (value, new p), value < 0 if corrupt."""
    cap = limit - qbpp - 1
    q, p = count_zeros(buf, p, cap)
    if q < cap:
        if k == 0:
            return q, p
        return (q << k) | read_bits(buf, p, k), p + k
    if q > cap:
        return -1, p
    return read_bits(buf, p, qbpp) + 1, p + qbpp


@njit(cache=True)
def decode_scan(
    buf: np.ndarray, seg_start: np.ndarray, seg_end: np.ndarray, prm: np.ndarray,
    out: np.ndarray,
) -> tuple[int, int]:
    """Decode one scan into ``out`` (height x width, uint16).

    ``prm`` = [width, height, maxval, near, t1, t2, t3, reset, lines per restart interval].
    Returns (status, segment index where it happened).
    """
    width = prm[0]
    height = prm[1]
    maxval = prm[2]
    near = prm[3]
    reset = prm[7]
    ri_lines = prm[8]
    rng, qbpp, limit = derived(maxval, near)
    step = 2 * near + 1
    q81 = quant_lut(maxval, near, prm[4], prm[5], prm[6], 81)
    q9 = quant_lut(maxval, near, prm[4], prm[5], prm[6], 9)
    q1 = quant_lut(maxval, near, prm[4], prm[5], prm[6], 1)
    lines = np.zeros((2, width + 2), dtype=np.int64)
    A, B, C, N, RA, RN, RNn = init_contexts(rng)
    ri = 0
    p = 0
    seg = -1
    for y in range(height):
        if y % ri_lines == 0:
            if seg >= 0 and p > seg_end[seg]:
                return E_TRUNCATED, seg
            seg += 1
            A, B, C, N, RA, RN, RNn = init_contexts(rng)
            ri = 0
            lines[:, :] = 0
            p = seg_start[seg]
        prev = lines[(y + 1) & 1]
        cur = lines[y & 1]
        prev[width + 1] = prev[width]
        cur[0] = prev[1]
        x = 1
        while x <= width:
            ra = cur[x - 1]
            rb = prev[x]
            rc = prev[x - 1]
            rd = prev[x + 1]
            q = q81[rd - rb + maxval] + q9[rb - rc + maxval] + q1[rc - ra + maxval]
            if q != 0:
                # ---- regular mode
                if q < 0:
                    ctx = -q
                else:
                    ctx = q
                k = golomb_k(A[ctx], N[ctx])
                px = predict_med(ra, rb, rc)
                if q > 0:
                    px += C[ctx]
                else:
                    px -= C[ctx]
                if px < 0:
                    px = 0
                elif px > maxval:
                    px = maxval
                merr, p = _decode_value(buf, p, k, limit, qbpp)
                if merr < 0:
                    return E_CODE, seg
                err = (merr >> 1) ^ -(merr & 1)
                if k == 0 and near == 0 and 2 * B[ctx] <= -N[ctx]:
                    err = -err - 1
                update_regular(A, B, C, N, ctx, err, step, reset)
                if q < 0:
                    err = -err
                cur[x] = fix_reconstructed(px + err * step, maxval, near, rng)
                x += 1
                continue
            # ---- run mode
            remaining = width - x + 1
            cnt = 0
            while True:
                w = peek64(buf, p)
                if w >= 0:  # next bit is 0: run continues no further
                    p += 1
                    break
                p += 1
                m = np.int64(1) << J_TABLE[ri]
                if m > remaining - cnt:
                    cnt = remaining
                    break
                cnt += m
                if ri < 31:
                    ri += 1
                if cnt == remaining:
                    break
            if cnt != remaining:
                j = J_TABLE[ri]
                if j > 0:
                    cnt += read_bits(buf, p, j)
                    p += j
                if cnt > remaining:
                    return E_RUN, seg
            for i in range(cnt):
                cur[x + i] = ra
            x += cnt
            if x > width:
                break
            # ---- run interruption sample
            rb = prev[x]
            if abs(ra - rb) <= near:
                t = 1
                px = ra
                sgn = 1
            else:
                t = 0
                px = rb
                sgn = 1 if rb > ra else -1
            k = run_k(RA, RN, t)
            em, p = _decode_value(buf, p, k, limit - J_TABLE[ri] - 1, qbpp)
            if em < 0:
                return E_CODE, seg
            tmp = em + t
            mp = tmp & 1
            eabs = (tmp + mp) >> 1
            if (k != 0 or 2 * RNn[t] >= RN[t]) == (mp == 1):
                err = -eabs
            else:
                err = eabs
            update_run(RA, RN, RNn, t, err, em, reset)
            cur[x] = fix_reconstructed(px + sgn * err * step, maxval, near, rng)
            if ri > 0:
                ri -= 1
            x += 1
        for i in range(width):
            out[y, i] = cur[i + 1]
        if p > seg_end[seg]:
            return E_TRUNCATED, seg
    return OK, seg


@njit(cache=True, parallel=True)
def decode_many(
    bufs: np.ndarray, buf_off: np.ndarray, segs: np.ndarray, seg_off: np.ndarray,
    prms: np.ndarray, outs: np.ndarray, out_off: np.ndarray, status: np.ndarray,
) -> None:
    """Decode many scans in parallel (prange over scans); results in ``outs`` and ``status``."""
    for i in prange(prms.shape[0]):
        buf = bufs[buf_off[i]:buf_off[i + 1]]
        s0 = seg_off[i]
        s1 = seg_off[i + 1]
        w = prms[i, 0]
        h = prms[i, 1]
        out = outs[out_off[i]:out_off[i] + w * h].reshape((h, w))
        st, _ = decode_scan(buf, segs[0, s0:s1], segs[1, s0:s1], prms[i], out)
        status[i] = st
