"""Expansion of 2 x 2 binned framelets to full detector resolution.

Two conventions:

* ``"bilinear"`` — what the Bern pipeline's ``c_expand`` did to the flown level-1b NIR file:
  binned pixel (i, j) lands on full-resolution pixel (2i, 2j); a pixel between two of them
  gets their mean, a pixel between four gets the mean of the four; the last full-resolution
  row and column repeat the one before.
* ``"replicate"`` — every binned pixel repeated as a 2 x 2 block (flux-preserving, no shift).

Masks are expanded with a bitwise OR over every binned pixel that contributes.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.calibrate._stack import as_stack, unstack

EXPAND_MODES = ("bilinear", "replicate")


@nb.njit(cache=True, parallel=True)
def _bilinear(img: np.ndarray, out: np.ndarray) -> None:
    n, h, w = img.shape
    for idx in nb.prange(n * 2 * h):
        k = idx // (2 * h)
        r = idx - k * 2 * h
        i0 = r // 2
        i1 = i0 + 1 if (r % 2 == 1 and i0 + 1 < h) else i0
        for c in range(2 * w):
            j0 = c // 2
            j1 = j0 + 1 if (c % 2 == 1 and j0 + 1 < w) else j0
            top = (img[k, i0, j0] + img[k, i0, j1]) * np.float32(0.5)
            if i1 == i0:
                out[k, r, c] = top
            else:
                bot = (img[k, i1, j0] + img[k, i1, j1]) * np.float32(0.5)
                out[k, r, c] = (top + bot) * np.float32(0.5)


@nb.njit(cache=True, parallel=True)
def _mask_or(mask: np.ndarray, bilinear: bool, out: np.ndarray) -> None:
    n, h, w = mask.shape
    for idx in nb.prange(n * 2 * h):
        k = idx // (2 * h)
        r = idx - k * 2 * h
        i0 = r // 2
        i1 = i0 + 1 if (bilinear and r % 2 == 1 and i0 + 1 < h) else i0
        for c in range(2 * w):
            j0 = c // 2
            j1 = j0 + 1 if (bilinear and c % 2 == 1 and j0 + 1 < w) else j0
            out[k, r, c] = mask[k, i0, j0] | mask[k, i0, j1] | mask[k, i1, j0] | mask[k, i1, j1]


def expand(img: np.ndarray, mode: str = "bilinear") -> np.ndarray:
    """Binned (H, W) or (N, H, W) float image -> (2H, 2W) / (N, 2H, 2W) float32."""
    if mode not in EXPAND_MODES:
        raise ValueError(f"expansion mode {mode!r} not one of {EXPAND_MODES}")
    stack, single = as_stack(np.asarray(img, dtype=np.float32))
    if mode == "replicate":
        out = np.ascontiguousarray(np.repeat(np.repeat(stack, 2, axis=1), 2, axis=2))
    else:
        out = np.empty((stack.shape[0], 2 * stack.shape[1], 2 * stack.shape[2]), np.float32)
        _bilinear(stack, out)
    return unstack(out, single)


def expand_mask(mask: np.ndarray, mode: str = "bilinear") -> np.ndarray:
    """Expand a uint8 flag mask like :func:`expand` (OR of the contributing binned flags)."""
    if mode not in EXPAND_MODES:
        raise ValueError(f"expansion mode {mode!r} not one of {EXPAND_MODES}")
    stack, single = as_stack(np.asarray(mask, dtype=np.uint8))
    out = np.empty((stack.shape[0], 2 * stack.shape[1], 2 * stack.shape[2]), np.uint8)
    _mask_or(stack, mode == "bilinear", out)
    return unstack(out, single)
