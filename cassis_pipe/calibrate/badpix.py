"""Bad-pixel repair: replace flagged pixels by an inverse-distance-weighted mean of valid
neighbours.

For a bad pixel the search looks at the square ring at Chebyshev distance 1, then 2, ... up to
``max_radius``; the first ring holding at least one valid (finite, not flagged) pixel supplies
the value. Where the ring has valid pixels on both sides of the bad one (opposite pairs), the
value is the mean of the pair means, each pair weighted by 1 / (dr^2 + dc^2) — exact for a
locally linear image; otherwise the inverse-distance-weighted mean of the valid ring pixels.
Only original valid values are used (never other repaired pixels), so the result does not
depend on the visiting order. A bad pixel without any valid neighbour inside ``max_radius``
becomes NaN and is reported as unfilled.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.calibrate._stack import as_stack, unstack

MAX_RADIUS_PX = 4


@nb.njit(cache=True, inline="always")
def _valid(img: np.ndarray, bad: np.ndarray, ii: int, jj: int) -> bool:
    h, w = img.shape
    if ii < 0 or ii >= h or jj < 0 or jj >= w:
        return False
    return (not bad[ii, jj]) and np.isfinite(img[ii, jj])


@nb.njit(cache=True)
def _fill_one(img: np.ndarray, bad: np.ndarray, i: int, j: int, max_radius: int) -> float:
    for r in range(1, max_radius + 1):
        pair_acc = 0.0
        pair_w = 0.0
        acc = 0.0
        wsum = 0.0
        for di in range(-r, r + 1):
            step = 1 if (di == -r or di == r) else 2 * r
            for dj in range(-r, r + 1, step):
                if not _valid(img, bad, i + di, j + dj):
                    continue
                wt = 1.0 / (di * di + dj * dj)
                v = img[i + di, j + dj]
                acc += wt * v
                wsum += wt
                # opposite pair counted once, from its "positive" member
                if (di > 0 or (di == 0 and dj > 0)) and _valid(img, bad, i - di, j - dj):
                    pair_acc += wt * 0.5 * (v + img[i - di, j - dj])
                    pair_w += wt
        if pair_w > 0.0:
            return pair_acc / pair_w
        if wsum > 0.0:
            return acc / wsum
    return np.nan


@nb.njit(cache=True, parallel=True)
def _repair(img: np.ndarray, bad: np.ndarray, max_radius: int, out: np.ndarray,
            unfilled: np.ndarray) -> None:
    n, h, w = img.shape
    for idx in nb.prange(n * h):
        k = idx // h
        i = idx - k * h
        for j in range(w):
            if bad[k, i, j]:
                v = _fill_one(img[k], bad[k], i, j, max_radius)
                out[k, i, j] = np.float32(v)
                unfilled[k, i, j] = not np.isfinite(v)
            else:
                out[k, i, j] = img[k, i, j]
                unfilled[k, i, j] = False


def interpolate_bad(img: np.ndarray, bad: np.ndarray, max_radius: int = MAX_RADIUS_PX
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Repair the pixels where ``bad`` is true. Non-finite pixels are never used as
    neighbours, and are repaired only if flagged.

    ``img`` float (H, W) or (N, H, W); ``bad`` bool/uint8 of the same shape, or (H, W) shared
    by every framelet. Returns (float32 repaired copy, bool mask of unfilled pixels).
    """
    stack, single = as_stack(np.asarray(img, dtype=np.float32))
    b = np.asarray(bad).astype(np.bool_)
    if b.shape == stack.shape[1:]:
        b = np.broadcast_to(b, stack.shape)
    elif b.shape != stack.shape:
        raise ValueError(f"bad mask shape {b.shape} does not match image shape {stack.shape}")
    b = np.ascontiguousarray(b)
    if max_radius < 1:
        raise ValueError("max_radius must be >= 1")
    out = np.empty(stack.shape, dtype=np.float32)
    unfilled = np.empty(stack.shape, dtype=np.bool_)
    _repair(stack, b, int(max_radius), out, unfilled)
    return unstack(out, single), unstack(unfilled, single)
