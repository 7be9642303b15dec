"""Bias subtraction (DN) with an optional per-row offset from dark reference columns.

The master bias is a full-detector float32 field in DN; cut it out and bin it for the window
with :func:`cassis_pipe.calibrate.binning.bin_field` (mode = the PE binning mode) first.

Dark reference columns: if a window contains detector columns that receive no light (masked
pixels), pass their window-relative indices as ``dark_cols``. The median of the
bias-subtracted DN over those columns, per row, is a per-row offset (bias drift since the
master was made) which is then removed from every pixel of that row. The simulated and the
flown windows have no such columns, so the pipeline uses ``dark_cols=None`` by default.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.calibrate._stack import as_stack, check_plane, unstack


@nb.njit(cache=True, parallel=True)
def _subtract(dn: np.ndarray, bias: np.ndarray, out: np.ndarray) -> None:
    n, h, w = dn.shape
    for idx in nb.prange(n * h):
        k = idx // h
        i = idx - k * h
        for j in range(w):
            out[k, i, j] = np.float32(dn[k, i, j]) - bias[i, j]


def subtract_bias(dn: np.ndarray, bias_w: np.ndarray) -> np.ndarray:
    """``dn`` (H, W) or (N, H, W), any real dtype, minus the window bias ``bias_w`` (H, W),
    DN. Returns float32 of the same shape."""
    stack, single = as_stack(dn)
    b = check_plane(bias_w, stack.shape, "bias")
    out = np.empty(stack.shape, dtype=np.float32)
    _subtract(stack, b, out)
    return unstack(out, single)


def row_offsets(residual: np.ndarray, dark_cols: np.ndarray) -> np.ndarray:
    """Per-row offset (DN): median of the bias-subtracted ``residual`` over ``dark_cols``.

    ``residual`` (H, W) or (N, H, W); returns float32 (H,) or (N, H).
    """
    stack, single = as_stack(residual)
    cols = np.asarray(dark_cols, dtype=np.int64)
    if cols.ndim != 1 or cols.size == 0:
        raise ValueError("dark_cols must be a non-empty 1-D list of column indices")
    if cols.min() < 0 or cols.max() >= stack.shape[2]:
        raise ValueError(f"dark column outside the window width {stack.shape[2]}")
    off = np.median(stack[:, :, cols], axis=2).astype(np.float32)
    return unstack(off, single)


def subtract_row_offsets(residual: np.ndarray, dark_cols: np.ndarray) -> np.ndarray:
    """Remove the per-row dark-column offset from every pixel of each row (float32, DN)."""
    stack, single = as_stack(residual)
    off = row_offsets(stack, dark_cols)
    return unstack((stack - off[:, :, None]).astype(np.float32), single)
