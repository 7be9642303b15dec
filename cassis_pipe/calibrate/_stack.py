"""Shape helpers: kernels work on stacks (N, H, W) of framelets; a single framelet is (H, W)."""

from __future__ import annotations

import numpy as np


def as_stack(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``a`` as a C-contiguous (N, H, W) stack and whether the input was one framelet."""
    arr = np.asarray(a)
    if arr.ndim == 2:
        return np.ascontiguousarray(arr[None]), True
    if arr.ndim == 3:
        return np.ascontiguousarray(arr), False
    raise ValueError(f"expected a framelet (H, W) or a stack (N, H, W), got shape {arr.shape}")


def unstack(a: np.ndarray, single: bool) -> np.ndarray:
    """Undo :func:`as_stack` for a result."""
    return a[0] if single else a


def check_plane(plane: np.ndarray, shape: tuple[int, ...], what: str) -> np.ndarray:
    """A per-window (H, W) float32 field matching the framelet shape."""
    p = np.ascontiguousarray(plane, dtype=np.float32)
    if p.shape != tuple(shape[-2:]):
        raise ValueError(f"{what} shape {p.shape} does not match framelet shape {shape[-2:]}")
    return p
