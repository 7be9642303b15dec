"""JPEG-LS scan encoder kernel (T.87 annex A, encoding side; single component, ILV = 0).

Writes the entropy-coded data (marker-stuffed, RSTm markers between restart intervals) into a
preallocated byte array; the caller adds the marker segments around it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .bitio import finish_bits, put_bits, put_zeros
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

_U = np.uintp


@njit(cache=True, inline="always")
def _quantize_err(e: int, near: int, rng: int) -> int:
    """Near-lossless quantisation (A.4.4) and modulo reduction (A.4.5) of a prediction error."""
    if near > 0:
        if e > 0:
            e = (e + near) // (2 * near + 1)
        else:
            e = -((near - e) // (2 * near + 1))
    if e < 0:
        e += rng
    if e >= (rng + 1) // 2:
        e -= rng
    return e


@njit(cache=True, inline="always")
def _encode_value(
    out: np.ndarray, o: int, acc: int, nacc: int, ff: bool,
    value: int, k: int, limit: int, qbpp: int,
) -> tuple[int, int, int, bool]:
    """Limited-length Golomb code of a mapped error ``value`` with parameter ``k`` (A.5.3)."""
    high = value >> k
    cap = limit - qbpp - 1
    if high < cap and high + k < 32:
        return put_bits(out, o, acc, nacc, ff, (1 << k) | (value & ((1 << k) - 1)), high + 1 + k)
    if high < cap:
        o, acc, nacc, ff = put_zeros(out, o, acc, nacc, ff, high)
        o, acc, nacc, ff = put_bits(out, o, acc, nacc, ff, 1, 1)
        if k > 0:
            o, acc, nacc, ff = put_bits(out, o, acc, nacc, ff, value & ((1 << k) - 1), k)
        return o, acc, nacc, ff
    o, acc, nacc, ff = put_zeros(out, o, acc, nacc, ff, cap)
    o, acc, nacc, ff = put_bits(out, o, acc, nacc, ff, 1, 1)
    return put_bits(out, o, acc, nacc, ff, (value - 1) & ((1 << qbpp) - 1), qbpp)


@njit(cache=True)
def encode_scan(img: np.ndarray, prm: np.ndarray, out: np.ndarray) -> int:
    """Encode ``img`` (height x width, values 0..maxval) into ``out``; returns bytes written.

    ``prm`` = [width, height, maxval, near, t1, t2, t3, reset, lines per restart interval].
    """
    width = prm[0]
    height = prm[1]
    maxval = prm[2]
    near = prm[3]
    reset = prm[7]
    ri_lines = prm[8]
    rng, qbpp, limit = derived(maxval, near)
    step = 2 * near + 1
    ql = quant_lut(maxval, near, prm[4], prm[5], prm[6], 1).astype(np.int8)
    qerr = np.empty(2 * maxval + 1, dtype=np.int32)  # near-lossless quantisation of -maxval..
    for i in range(2 * maxval + 1):
        qerr[i] = _quantize_err(i - maxval, near, rng)
    lines = np.zeros((2, width + 2), dtype=np.int32)
    A, B, C, N, RA, RN, RNn = init_contexts(rng)
    ri = 0
    o = 0
    acc = np.int64(0)
    nacc = 0
    ff = False
    n_rst = 0
    for y in range(height):
        if y > 0 and y % ri_lines == 0:
            o = finish_bits(out, o, acc, nacc, ff)
            acc = np.int64(0)
            nacc = 0
            ff = False
            out[o] = 0xFF
            out[o + 1] = 0xD0 + (n_rst & 7)
            o += 2
            n_rst += 1
            A, B, C, N, RA, RN, RNn = init_contexts(rng)
            ri = 0
            lines[:, :] = 0
        prev = lines[(y + 1) & 1]
        cur = lines[y & 1]
        prev[width + 1] = prev[width]
        cur[0] = prev[1]
        row = img[y]
        x = 1
        while x <= width:
            ra = np.int64(cur[_U(x - 1)])
            rb = np.int64(prev[_U(x)])
            rc = np.int64(prev[_U(x - 1)])
            rd = np.int64(prev[_U(x + 1)])
            q = (81 * np.int64(ql[_U(rd - rb + maxval)]) + 9 * np.int64(ql[_U(rb - rc + maxval)])
                 + np.int64(ql[_U(rc - ra + maxval)]))
            ix = np.int64(row[_U(x - 1)])
            if q != 0:
                ctx = -q if q < 0 else q
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
                e = ix - px if q > 0 else px - ix
                err = np.int64(qerr[_U(e + maxval)])
                me = -err - 1 if (k == 0 and near == 0 and 2 * B[ctx] <= -N[ctx]) else err
                merr = 2 * me if me >= 0 else -2 * me - 1
                o, acc, nacc, ff = _encode_value(out, o, acc, nacc, ff, merr, k, limit, qbpp)
                update_regular(A, B, C, N, ctx, err, step, reset)
                sgn_err = err if q > 0 else -err
                if near == 0:
                    cur[_U(x)] = ix
                else:
                    cur[_U(x)] = fix_reconstructed(px + sgn_err * step, maxval, near, rng)
                x += 1
                continue
            # ---- run mode
            run = 0
            while x + run <= width and abs(np.int64(row[_U(x + run - 1)]) - ra) <= near:
                cur[_U(x + run)] = ra
                run += 1
            eol = x + run > width
            x += run
            while run >= (1 << J_TABLE[ri]):
                o, acc, nacc, ff = put_bits(out, o, acc, nacc, ff, 1, 1)
                run -= 1 << J_TABLE[ri]
                if ri < 31:
                    ri += 1
            if eol:
                if run > 0:
                    o, acc, nacc, ff = put_bits(out, o, acc, nacc, ff, 1, 1)
                break
            o, acc, nacc, ff = put_bits(out, o, acc, nacc, ff, run, J_TABLE[ri] + 1)
            # ---- run interruption sample
            rb = np.int64(prev[_U(x)])
            ix = np.int64(row[_U(x - 1)])
            if abs(ra - rb) <= near:
                t = 1
                px = ra
                sgn = 1
            else:
                t = 0
                px = rb
                sgn = 1 if rb > ra else -1
            err = np.int64(qerr[_U(sgn * (ix - px) + maxval)])
            k = run_k(RA, RN, t)
            if k == 0 and err > 0 and 2 * RNn[t] < RN[t]:
                mp = 1
            elif err < 0 and (2 * RNn[t] >= RN[t] or k != 0):
                mp = 1
            else:
                mp = 0
            em = 2 * abs(err) - t - mp
            o, acc, nacc, ff = _encode_value(
                out, o, acc, nacc, ff, em, k, limit - J_TABLE[ri] - 1, qbpp
            )
            update_run(RA, RN, RNn, t, err, em, reset)
            cur[_U(x)] = fix_reconstructed(px + sgn * err * step, maxval, near, rng)
            if ri > 0:
                ri -= 1
            x += 1
    return finish_bits(out, o, acc, nacc, ff)


def worst_case_bytes(width: int, height: int, bits: int, n_intervals: int) -> int:
    """Upper bound of the entropy-coded size: every sample at the length limit LIMIT (<= 64 bits),
    plus 1/7 for marker stuffing, plus restart markers and padding."""
    limit = 2 * (max(2, bits) + max(8, bits))
    return (width * height * limit // 8) * 8 // 7 + 4 * n_intervals + 64
