"""Image interpolation at fractional (line, sample) positions (numba): bilinear and Keys
bicubic (a = -0.5), with the nodata rules of the resampler.

Pixel centres are on integers; an image of ``nl x ns`` pixels covers
``[-0.5, nl - 0.5) x [-0.5, ns - 0.5)``. Outside that area the value is NaN; inside, neighbour
indices are clamped at the edge. If any neighbour with non-zero weight is masked (mask False)
or NaN, the value is NaN (masks grow by the interpolation support, never leak).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _take(img: np.ndarray, valid: np.ndarray, has_mask: bool, i: int, j: int) -> float:
    if has_mask and valid[i, j] == 0:
        return np.nan
    return img[i, j]


@njit(cache=True, inline="always")
def bilinear_point(img: np.ndarray, valid: np.ndarray, has_mask: bool, li: float, si: float
                   ) -> float:
    """Bilinear value at (line, sample); NaN outside the pixel area or if a neighbour with
    non-zero weight is masked/NaN."""
    nl, ns = img.shape
    if not (li >= -0.5 and li < nl - 0.5 and si >= -0.5 and si < ns - 0.5):
        return np.nan
    lc = min(max(li, 0.0), nl - 1.0)
    sc = min(max(si, 0.0), ns - 1.0)
    i0 = min(int(lc), max(nl - 2, 0))
    j0 = min(int(sc), max(ns - 2, 0))
    di = lc - i0
    dj = sc - j0
    i1 = min(i0 + 1, nl - 1)
    j1 = min(j0 + 1, ns - 1)
    if not has_mask:  # fast path; NaN/inf anywhere -> the careful weighted loop below
        acc = ((1.0 - di) * ((1.0 - dj) * img[i0, j0] + dj * img[i0, j1])
               + di * ((1.0 - dj) * img[i1, j0] + dj * img[i1, j1]))
        if np.isfinite(acc):
            return acc
    acc = 0.0
    for q in range(4):
        wi = di if q >= 2 else 1.0 - di
        wj = dj if q % 2 == 1 else 1.0 - dj
        w = wi * wj
        if w > 0.0:
            v = _take(img, valid, has_mask, i1 if q >= 2 else i0, j1 if q % 2 == 1 else j0)
            if not np.isfinite(v):
                return np.nan
            acc += w * v
    return acc


@njit(cache=True, inline="always")
def _keys(t: float) -> float:
    """Keys cubic convolution kernel, a = -0.5."""
    t = abs(t)
    if t <= 1.0:
        return (1.5 * t - 2.5) * t * t + 1.0
    if t < 2.0:
        return ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    return 0.0


@njit(cache=True, inline="always")
def bicubic_point(img: np.ndarray, valid: np.ndarray, has_mask: bool, li: float, si: float
                  ) -> float:
    """Keys bicubic value at (line, sample), 4 x 4 neighbours with clamped indices; NaN rules as
    :func:`bilinear_point`."""
    nl, ns = img.shape
    if not (li >= -0.5 and li < nl - 0.5 and si >= -0.5 and si < ns - 0.5):
        return np.nan
    lc = min(max(li, 0.0), nl - 1.0)
    sc = min(max(si, 0.0), ns - 1.0)
    i0 = int(np.floor(lc))
    j0 = int(np.floor(sc))
    acc = 0.0
    for a in range(-1, 3):
        wi = _keys(lc - (i0 + a))
        if wi == 0.0:
            continue
        ii = min(max(i0 + a, 0), nl - 1)
        for b in range(-1, 3):
            wj = _keys(sc - (j0 + b))
            if wj == 0.0:
                continue
            v = _take(img, valid, has_mask, ii, min(max(j0 + b, 0), ns - 1))
            if not np.isfinite(v):
                return np.nan
            acc += wi * wj * v
    return acc


@njit(cache=True, inline="always")
def sample_point(img: np.ndarray, valid: np.ndarray, has_mask: bool, li: float, si: float,
                 order: int) -> float:
    """Value at window-image (line, sample): bicubic for ``order`` 3, else bilinear."""
    if order == 3:
        return bicubic_point(img, valid, has_mask, li, si)
    return bilinear_point(img, valid, has_mask, li, si)


@njit(cache=True, parallel=True)
def interpolate_kernel(img: np.ndarray, valid: np.ndarray, has_mask: bool, order: int,
                       line: np.ndarray, sample: np.ndarray, out: np.ndarray) -> None:
    """Interpolate ``img`` at precomputed 1-D (line, sample) arrays into ``out`` (1-D),
    in chunks of 4096 points per task."""
    n = line.size
    nchunk = (n + 4095) // 4096
    for c in prange(nchunk):
        for k in range(c * 4096, min(n, (c + 1) * 4096)):
            out[k] = sample_point(img, valid, has_mask, line[k], sample[k], order)


# -- Python entry points ---------------------------------------------------------------------
def prepare_image(image: np.ndarray, mask: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray, bool]:
    """(float32 C-contiguous image, uint8 validity array, has_mask) for the kernels."""
    img = np.ascontiguousarray(image, dtype=np.float32)
    if img.ndim != 2:
        raise ValueError(f"framelet image must be 2-D, got shape {img.shape}")
    if mask is None:
        return img, np.zeros((1, 1), np.uint8), False
    valid = np.ascontiguousarray(mask, dtype=bool)
    if valid.shape != img.shape:
        raise ValueError(f"mask shape {valid.shape} != image shape {img.shape}")
    return img, valid.view(np.uint8), True


def check_order(order: int) -> int:
    """Validate the interpolation order (1 bilinear, 3 bicubic)."""
    if order not in (1, 3):
        raise ValueError(f"interpolation order {order!r} not 1 (bilinear) or 3 (bicubic)")
    return int(order)


def interpolate(image: np.ndarray, line: np.ndarray, sample: np.ndarray,
                mask: np.ndarray | None = None, order: int = 1) -> np.ndarray:
    """Interpolate ``image`` at (line, sample) arrays (same shape, any; pixel centres on
    integers): float32, NaN outside / masked (rules of :func:`bilinear_point`)."""
    img, valid, has_mask = prepare_image(image, mask)
    li = np.ascontiguousarray(line, dtype=np.float64)
    si = np.ascontiguousarray(sample, dtype=np.float64)
    if li.shape != si.shape:
        raise ValueError("line and sample arrays differ in shape")
    out = np.empty(li.size, dtype=np.float32)
    interpolate_kernel(img, valid, has_mask, check_order(order), li.ravel(), si.ravel(), out)
    return out.reshape(li.shape)
