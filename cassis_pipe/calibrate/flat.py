"""Flat-field division (relative response, median 1) with a guard against unusable values.

The window flat is the full-detector master flat cut out and 2 x 2 *averaged* for binned
windows (:func:`cassis_pipe.calibrate.binning.bin_field` with mode "mean"): a binned pixel
collects sum_i (S flat_i), so dividing DN per detector pixel by the mean flat recovers S.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.calibrate._stack import as_stack, check_plane, unstack

#: flat values at or below this are treated as dead / unusable
MIN_FLAT = 0.05


@nb.njit(cache=True, parallel=True)
def _divide(sig: np.ndarray, flat: np.ndarray, divisor: float, min_flat: float,
            out: np.ndarray) -> None:
    n, h, w = sig.shape
    nan = np.float32(np.nan)
    for idx in nb.prange(n * h):
        k = idx // h
        i = idx - k * h
        for j in range(w):
            f = flat[i, j]
            if f > min_flat:      # also False for NaN
                out[k, i, j] = np.float32(sig[k, i, j] / (divisor * f))
            else:
                out[k, i, j] = nan


def divide_flat(signal: np.ndarray, flat_w: np.ndarray, divisor: float = 1.0,
                min_flat: float = MIN_FLAT) -> tuple[np.ndarray, np.ndarray]:
    """Bias-subtracted DN / (``divisor`` x flat) -> DN per detector pixel, float32.

    ``divisor`` is 4 for 2 x 2 sum-binned windows, else 1. Pixels whose flat is <= ``min_flat``
    (or NaN) become NaN; the second result is that (H, W) bool mask.
    """
    stack, single = as_stack(signal)
    f = check_plane(flat_w, stack.shape, "flat")
    if not divisor > 0:
        raise ValueError(f"divisor must be positive, got {divisor}")
    out = np.empty(stack.shape, dtype=np.float32)
    _divide(stack, f, float(divisor), float(min_flat), out)
    low = ~(f > min_flat)
    return unstack(out, single), low
