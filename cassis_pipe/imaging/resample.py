"""Image-space resampling kernels (numba), the one home of the package's interpolation rules:
Keys cubic convolution and bilinear interpolation at fractional positions, translations, and
bilinear up-sampling of a coarse coordinate-mapping grid.

Coordinates are image ``(line, sample)``, 0-based, pixel centres on integers (ICD section 9).
Weights: Keys (1981) cubic convolution with ``a = -0.5`` (:func:`keys`, 4 taps per axis) and
the bilinear blend of 4 corner values (:func:`bilinear_blend`, also used by the DEM sampler,
the node-interpolated camera model of the map projector and the simulator's oracle).

Two edge / nodata rules, kept apart on purpose (both are product behaviour):

* registration rule (:func:`sample_cubic`, :func:`shift_cubic`, :func:`resample_through_nodes`,
  the stitcher): a position outside ``[0, n - 1]`` on either axis gives NaN; neighbour indices
  are clamped; NaN pixels propagate into every output that touches them.
* map rule (:func:`bilinear_point`, :func:`bicubic_point`, :func:`interpolate`, the map
  projector): an image of ``nl x ns`` pixels covers ``[-0.5, nl - 0.5) x [-0.5, ns - 0.5)``;
  outside it the value is NaN; inside, neighbour indices are clamped at the edge (the outer half
  pixel is the nearest edge). If any neighbour with non-zero weight is masked (mask False) or
  NaN, the value is NaN (masks grow by the interpolation support, never leak).

Numba: every kernel ``cache=True``; point kernels ``inline="always"``; :func:`interpolate_kernel`
is parallel (prange over chunks of points); the registration kernels are serial and
``nogil`` (they run in worker threads).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


# -- weights -----------------------------------------------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def keys(t: float) -> float:
    """Keys cubic-convolution kernel (a = -0.5) at distance ``t`` (px); 0 from 2 px on."""
    t = abs(t)
    if t < 1.0:
        return (1.5 * t - 2.5) * t * t + 1.0
    if t < 2.0:
        return ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    return 0.0


@njit(cache=True, nogil=True, inline="always")
def bilinear_blend(v00: float, v01: float, v10: float, v11: float, fl: float, fs: float
                   ) -> float:
    """Bilinear value between corners ``v[line][sample]`` at fractions ``fl`` (line) and ``fs``
    (sample), each in [0, 1]: ``(1 - fl)((1 - fs) v00 + fs v01) + fl((1 - fs) v10 + fs v11)``."""
    return (1.0 - fl) * ((1.0 - fs) * v00 + fs * v01) + fl * ((1.0 - fs) * v10 + fs * v11)


@njit(cache=True, nogil=True, inline="always")
def cubic_taps(x: float, n: int, w: np.ndarray, idx: np.ndarray) -> None:
    """The 4 Keys weights ``w`` and clamped indices ``idx`` (offsets -1..2 from ``floor(x)``)
    of position ``x`` on an axis of ``n`` pixels."""
    ix = int(np.floor(x))
    fx = x - ix
    for i in range(4):
        w[i] = keys(fx - (i - 1))
        idx[i] = min(max(ix + i - 1, 0), n - 1)


# -- map rule: masks, pixel area ---------------------------------------------------------------
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
        acc = bilinear_blend(img[i0, j0], img[i0, j1], img[i1, j0], img[i1, j1], di, dj)
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
        wi = keys(lc - (i0 + a))
        if wi == 0.0:
            continue
        ii = min(max(i0 + a, 0), nl - 1)
        for b in range(-1, 3):
            wj = keys(sc - (j0 + b))
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
    integers): float32, NaN outside / masked (map rule, :func:`bilinear_point`)."""
    img, valid, has_mask = prepare_image(image, mask)
    li = np.ascontiguousarray(line, dtype=np.float64)
    si = np.ascontiguousarray(sample, dtype=np.float64)
    if li.shape != si.shape:
        raise ValueError("line and sample arrays differ in shape")
    out = np.empty(li.size, dtype=np.float32)
    interpolate_kernel(img, valid, has_mask, check_order(order), li.ravel(), si.ravel(), out)
    return out.reshape(li.shape)


# -- registration rule: [0, n - 1], NaN propagates ---------------------------------------------
@njit(cache=True, nogil=True, inline="always")
def _cubic_row(image: np.ndarray, yy: int, ix: int, fx: float) -> float:
    """Keys sum along line ``yy`` at sample ``ix + fx`` (clamped columns, zero taps skipped)."""
    ns = image.shape[1]
    row = 0.0
    for i in range(-1, 3):
        wx = keys(fx - i)
        if wx == 0.0:
            continue
        row += wx * image[yy, min(max(ix + i, 0), ns - 1)]
    return row


@njit(cache=True, nogil=True)
def _cubic_at(image: np.ndarray, y: float, x: float) -> float:
    nl, ns = image.shape
    if not (y >= 0.0 and y <= nl - 1.0 and x >= 0.0 and x <= ns - 1.0):
        return np.nan
    iy = int(np.floor(y))
    ix = int(np.floor(x))
    fy = y - iy
    fx = x - ix
    acc = 0.0
    for j in range(-1, 3):
        wy = keys(fy - j)
        if wy == 0.0:
            continue
        acc += wy * _cubic_row(image, min(max(iy + j, 0), nl - 1), ix, fx)
    return acc


@njit(cache=True, nogil=True)
def sample_cubic(image: np.ndarray, lines: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Values of ``image`` (2-D float) at positions ``lines``/``samples`` (2-D, same shape) by
    Keys cubic convolution (edge pixels replicated); NaN outside the image."""
    out = np.empty(lines.shape, dtype=np.float64)
    for r in range(lines.shape[0]):
        for c in range(lines.shape[1]):
            out[r, c] = _cubic_at(image, lines[r, c], samples[r, c])
    return out


@njit(cache=True, nogil=True)
def column_taps(n_cols: int, s0: float, ds: float, ns: int
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output column ``c`` (image sample ``x = s0 + c - ds``): the 4 clamped source columns,
    the 4 Keys weights (for offsets -1..2 from ``floor(x)``) and whether ``x`` is inside
    ``[0, ns - 1]`` (the same numbers :func:`sample_cubic` computes per pixel)."""
    cols = np.zeros((n_cols, 4), dtype=np.int64)
    wts = np.zeros((n_cols, 4), dtype=np.float64)
    inside = np.zeros(n_cols, dtype=np.bool_)
    for c in range(n_cols):
        x = s0 + c - ds
        if not (x >= 0.0 and x <= ns - 1.0):
            continue
        inside[c] = True
        cubic_taps(x, ns, wts[c], cols[c])
    return cols, wts, inside


@njit(cache=True, nogil=True, inline="always")
def _shift_row(image: np.ndarray, y: float, cols: np.ndarray, wts: np.ndarray,
               inside: np.ndarray, out: np.ndarray) -> None:
    """One output row at image line ``y`` with precomputed column taps (see
    :func:`column_taps`): the arithmetic of :func:`sample_cubic`, term by term."""
    nl = image.shape[0]
    n_cols = out.shape[0]
    if not (y >= 0.0 and y <= nl - 1.0):
        out[:] = np.nan
        return
    wy = np.empty(4)
    yy = np.empty(4, dtype=np.int64)
    cubic_taps(y, nl, wy, yy)
    for c in range(n_cols):
        if not inside[c]:
            out[c] = np.nan
            continue
        acc = 0.0
        for j in range(4):
            if wy[j] == 0.0:
                continue
            rr = yy[j]
            row = 0.0
            for i in range(4):
                wx = wts[c, i]
                if wx == 0.0:
                    continue
                row += wx * image[rr, cols[c, i]]
            acc += wy[j] * row
        out[c] = acc


@njit(cache=True, nogil=True)
def shift_cubic(image: np.ndarray, dl: float, ds: float, out_lines: int, out_samples: int,
                l0: float, s0: float) -> np.ndarray:
    """``out[r, c] = image(l0 + r - dl, s0 + c - ds)``: the image translated by ``(dl, ds)`` px
    and cut to an ``out_lines x out_samples`` grid starting at ``(l0, s0)``; NaN outside.

    A translation has one set of column weights for every row and one set of line weights per
    row: they are computed once (not per pixel); values are those of :func:`sample_cubic`."""
    out = np.empty((out_lines, out_samples), dtype=np.float64)
    cols, wts, inside = column_taps(out_samples, s0, ds, image.shape[1])
    for r in range(out_lines):
        _shift_row(image, l0 + r - dl, cols, wts, inside, out[r])
    return out


# -- coarse node grids -------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def _node_cell(pos: np.ndarray, k: int, p: float) -> tuple[int, int, float]:
    """Node interval ``[k, k1]`` of increasing node coordinates ``pos`` holding pixel ``p``
    (searched forward from ``k``) and ``p``'s fraction across it (0 with a single node)."""
    n = pos.shape[0]
    while k < n - 2 and pos[k + 1] <= p:
        k += 1
    k1 = min(k + 1, n - 1)
    t = (p - pos[k]) / (pos[k1] - pos[k]) if k1 != k else 0.0
    return k, k1, t


@njit(cache=True, nogil=True)
def _bilinear_node(nodes: np.ndarray, j: int, j1: int, ty: float, i: int, i1: int,
                   tx: float) -> float:
    return bilinear_blend(nodes[j, i], nodes[j, i1], nodes[j1, i], nodes[j1, i1], ty, tx)


@njit(cache=True, nogil=True)
def upsample_grid(nodes: np.ndarray, node_lines: np.ndarray, node_samples: np.ndarray,
                  n_lines: int, n_samples: int) -> np.ndarray:
    """Bilinear interpolation of ``nodes`` (values at the node rows ``node_lines`` x node
    columns ``node_samples``, both increasing and covering 0 .. n - 1) onto every pixel of an
    ``n_lines x n_samples`` grid. NaN nodes give NaN in their cells."""
    out = np.empty((n_lines, n_samples), dtype=np.float64)
    for r in range(n_lines):
        j, j1, ty = _node_cell(node_lines, 0, r)
        i = 0
        for c in range(n_samples):
            i, i1, tx = _node_cell(node_samples, i, c)
            out[r, c] = _bilinear_node(nodes, j, j1, ty, i, i1, tx)
    return out


@njit(cache=True, nogil=True)
def resample_through_nodes(image: np.ndarray, node_dl: np.ndarray, node_ds: np.ndarray,
                           node_lines: np.ndarray, node_samples: np.ndarray, n_lines: int,
                           n_samples: int) -> np.ndarray:
    """``sample_cubic(image, upsample_grid(node_dl, ...), upsample_grid(node_ds, ...))`` in
    one pass, without the two full-size position arrays (same arithmetic, same values)."""
    out = np.empty((n_lines, n_samples), dtype=np.float64)
    for r in range(n_lines):
        j, j1, ty = _node_cell(node_lines, 0, r)
        i = 0
        for c in range(n_samples):
            i, i1, tx = _node_cell(node_samples, i, c)
            out[r, c] = _cubic_at(image, _bilinear_node(node_dl, j, j1, ty, i, i1, tx),
                                  _bilinear_node(node_ds, j, j1, ty, i, i1, tx))
    return out


def node_positions(n: int, step: int) -> np.ndarray:
    """Node coordinates ``0, step, 2 step, ..., n - 1`` (last pixel always included)."""
    if n <= 1:
        return np.zeros(1)
    pos = np.arange(0, n - 1, max(int(step), 1), dtype=np.float64)
    return np.append(pos, float(n - 1))
