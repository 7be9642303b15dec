"""Context modelling shared by encoder and decoder (T.87 A.3-A.6, A.7.2): numba helpers.

Context state lives in int64 arrays: A, B, C, N for the 365 regular contexts (index 0 unused,
1..364) and RA, RN, RNn for the two run-interruption contexts (index = RItype).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros

MAX_C = 127
MIN_C = -128


@njit(cache=True)
def quant_lut(maxval: int, near: int, t1: int, t2: int, t3: int, weight: int) -> np.ndarray:
    """weight * Q(D) for every gradient D in -maxval..maxval (index D + maxval), Q in -4..4."""
    lut = np.empty(2 * maxval + 1, dtype=np.int32)
    for i in range(2 * maxval + 1):
        d = i - maxval
        if d <= -t3:
            q = -4
        elif d <= -t2:
            q = -3
        elif d <= -t1:
            q = -2
        elif d < -near:
            q = -1
        elif d <= near:
            q = 0
        elif d < t1:
            q = 1
        elif d < t2:
            q = 2
        elif d < t3:
            q = 3
        else:
            q = 4
        lut[i] = weight * q
    return lut


@njit(cache=True, inline="always")
def predict_med(ra: int, rb: int, rc: int) -> int:
    """Median edge detector prediction (T.87 A.4.1)."""
    if ra < rb:
        mn, mx = ra, rb
    else:
        mn, mx = rb, ra
    if rc >= mx:
        return mn
    if rc <= mn:
        return mx
    return ra + rb - rc


@njit(cache=True, inline="always")
def golomb_k(a: int, n: int) -> int:
    """Smallest k with n * 2**k >= a (T.87 A.5.1), via count-leading-zeros (n >= 1)."""
    if n >= a:
        return 0
    k = leading_zeros(n) - leading_zeros(a)
    if (n << k) < a:
        k += 1
    return k


@njit(cache=True, inline="always")
def update_regular(
    A: np.ndarray, B: np.ndarray, C: np.ndarray, N: np.ndarray,
    q: int, err: int, step: int, reset: int,
) -> None:
    """Variable and bias update for regular context ``q`` after coding error ``err`` (A.6)."""
    a = A[q] + abs(err)
    b = B[q] + err * step
    n = N[q]
    if n == reset:
        a >>= 1
        b >>= 1
        n >>= 1
    n += 1
    A[q] = a
    N[q] = n
    if b + n <= 0:
        b += n
        if b <= -n:
            b = -n + 1
        if C[q] > MIN_C:
            C[q] -= 1
    elif b > 0:
        b -= n
        if b > 0:
            b = 0
        if C[q] < MAX_C:
            C[q] += 1
    B[q] = b


@njit(cache=True, inline="always")
def update_run(
    RA: np.ndarray, RN: np.ndarray, RNn: np.ndarray, t: int, err: int, emerr: int, reset: int
) -> None:
    """Update of run-interruption context ``t`` (= RItype) (A.7.2.2)."""
    if err < 0:
        RNn[t] += 1
    RA[t] += (emerr + 1 - t) >> 1
    if RN[t] == reset:
        RA[t] >>= 1
        RN[t] >>= 1
        RNn[t] >>= 1
    RN[t] += 1


@njit(cache=True, inline="always")
def run_k(RA: np.ndarray, RN: np.ndarray, t: int) -> int:
    """Golomb parameter of run-interruption context ``t``."""
    return golomb_k(RA[t] + (RN[t] >> 1) * t, RN[t])


@njit(cache=True, inline="always")
def fix_reconstructed(v: int, maxval: int, near: int, rng: int) -> int:
    """Modulo reduction and clamping of a reconstructed sample (A.4.5 inverse, A.6.3)."""
    if v < -near:
        v += rng * (2 * near + 1)
    elif v > maxval + near:
        v -= rng * (2 * near + 1)
    if v < 0:
        return 0
    if v > maxval:
        return maxval
    return v


@njit(cache=True)
def init_contexts(
    rng: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fresh context arrays (A.2.1): A = max(2, (RANGE + 32) // 64), N = 1, B = C = Nn = 0."""
    a0 = max(2, (rng + 32) // 64)
    A = np.full(365, a0, dtype=np.int64)
    B = np.zeros(365, dtype=np.int64)
    C = np.zeros(365, dtype=np.int64)
    N = np.ones(365, dtype=np.int64)
    RA = np.full(2, a0, dtype=np.int64)
    RN = np.ones(2, dtype=np.int64)
    RNn = np.zeros(2, dtype=np.int64)
    return A, B, C, N, RA, RN, RNn


@njit(cache=True, inline="always")
def derived(maxval: int, near: int) -> tuple[int, int, int]:
    """(RANGE, qbpp, LIMIT) for the given MAXVAL and NEAR (A.2.1)."""
    rng = (maxval + 2 * near) // (2 * near + 1) + 1
    qbpp = 0
    while (1 << qbpp) < rng:
        qbpp += 1
    bpp = 0
    while (1 << bpp) < maxval + 1:
        bpp += 1
    bpp = max(2, bpp)
    limit = 2 * (bpp + max(8, bpp))
    return rng, qbpp, limit
