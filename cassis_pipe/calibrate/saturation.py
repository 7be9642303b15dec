"""Saturation check on raw DN (before bias subtraction)."""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.calibrate._stack import as_stack, unstack

#: 14-bit ADC full scale, DN
ADC_MAX_DN = 16383


@nb.njit(cache=True, parallel=True)
def _mask(dn: np.ndarray, level: float, out: np.ndarray, counts: np.ndarray) -> None:
    n, h, w = dn.shape
    for k in nb.prange(n):
        c = 0
        for i in range(h):
            for j in range(w):
                s = dn[k, i, j] >= level
                out[k, i, j] = s
                c += s
        counts[k] = c


def saturation_mask(dn: np.ndarray, saturation_dn: float = ADC_MAX_DN
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Pixels with raw DN >= ``saturation_dn``: bool mask of ``dn``'s shape and the count per
    framelet (int64 scalar array () for one framelet, (N,) for a stack)."""
    stack, single = as_stack(dn)
    out = np.empty(stack.shape, dtype=np.bool_)
    counts = np.zeros(stack.shape[0], dtype=np.int64)
    _mask(stack, float(saturation_dn), out, counts)
    return unstack(out, single), unstack(counts, single)
