"""Image resampling kernels (numba): cubic convolution at arbitrary positions and bilinear
up-sampling of a coarse coordinate-mapping grid.

Coordinates are image ``(line, sample)``, 0-based with pixel centres on integers (ICD section
9). Positions outside ``[0, n - 1]`` on either axis are invalid (NaN out); NaN input pixels
propagate to every output that touches them.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _keys(t: float) -> float:
    """Keys cubic-convolution kernel (a = -0.5) at distance ``t`` (px)."""
    t = abs(t)
    if t < 1.0:
        return (1.5 * t - 2.5) * t * t + 1.0
    if t < 2.0:
        return ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    return 0.0


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
        wy = _keys(fy - j)
        if wy == 0.0:
            continue
        yy = min(max(iy + j, 0), nl - 1)
        row = 0.0
        for i in range(-1, 3):
            wx = _keys(fx - i)
            if wx == 0.0:
                continue
            xx = min(max(ix + i, 0), ns - 1)
            row += wx * image[yy, xx]
        acc += wy * row
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
def _column_taps(n_cols: int, s0: float, ds: float, ns: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per output column ``c`` (image sample ``x = s0 + c - ds``): the 4 clamped source columns,
    the 4 Keys weights (for offsets -1..2 from ``floor(x)``) and whether ``x`` is inside
    ``[0, ns - 1]`` (the same numbers :func:`_cubic_at` computes per pixel)."""
    cols = np.zeros((n_cols, 4), dtype=np.int64)
    wts = np.zeros((n_cols, 4), dtype=np.float64)
    inside = np.zeros(n_cols, dtype=np.bool_)
    for c in range(n_cols):
        x = s0 + c - ds
        if not (x >= 0.0 and x <= ns - 1.0):
            continue
        inside[c] = True
        ix = int(np.floor(x))
        fx = x - ix
        for i in range(4):
            wts[c, i] = _keys(fx - (i - 1))
            cols[c, i] = min(max(ix + i - 1, 0), ns - 1)
    return cols, wts, inside


@njit(cache=True, nogil=True, inline="always")
def _shift_row(image: np.ndarray, y: float, cols: np.ndarray, wts: np.ndarray,
               inside: np.ndarray, out: np.ndarray) -> None:
    """One output row at image line ``y`` with precomputed column taps (see
    :func:`_column_taps`): the arithmetic of :func:`_cubic_at`, term by term."""
    nl = image.shape[0]
    n_cols = out.shape[0]
    if not (y >= 0.0 and y <= nl - 1.0):
        out[:] = np.nan
        return
    iy = int(np.floor(y))
    fy = y - iy
    wy = np.empty(4)
    yy = np.empty(4, dtype=np.int64)
    for j in range(4):
        wy[j] = _keys(fy - (j - 1))
        yy[j] = min(max(iy + j - 1, 0), nl - 1)
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
    cols, wts, inside = _column_taps(out_samples, s0, ds, image.shape[1])
    for r in range(out_lines):
        _shift_row(image, l0 + r - dl, cols, wts, inside, out[r])
    return out


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
    top = nodes[j, i] * (1.0 - tx) + nodes[j, i1] * tx
    bot = nodes[j1, i] * (1.0 - tx) + nodes[j1, i1] * tx
    return top * (1.0 - ty) + bot * ty


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
