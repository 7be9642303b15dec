"""Inverse-mapping resampler: map grid pixel -> lat/lon -> ellipsoid point -> framelet
(line, sample) through the frame camera -> bilinear or bicubic interpolation.

Everything per pixel runs inside one ``njit(parallel=True)`` kernel (prange over bands of
map rows); the camera math is the point kernel of :mod:`cassis_pipe.geometry.projection`
(``ground_to_image_point``, the camera passed as one ``CameraArrays`` tuple), evaluated
exactly on nodes every ``cell`` map pixels and bilinearly interpolated in between (``cell=1``:
exact everywhere). Only map pixels inside the framelet footprint are visited: the
footprint outline (framelet edge projected to the ground and onto the map) gives a column span
per map row (plus a 2-pixel margin). Ground points lie on the ellipsoid, optionally raised by
a constant height or a DEM given on the map grid.

Image coordinates: window-image (line, sample), 0-based, pixel centres on integers; a framelet
of ``nl x ns`` pixels covers ``[-0.5, nl - 0.5) x [-0.5, ns - 0.5)``. Outside that area, where
the ground point faces away from the camera, or where an interpolation neighbour with non-zero
weight is masked or NaN, the map pixel is NaN (nodata). Neighbour indices are clamped at the
framelet edge, so the outer half pixel is covered (nearest-edge extension); the interpolation
kernels are those of :mod:`cassis_pipe.imaging.resample` (map rule). Numba: ``cache=True``;
point kernels ``inline="always"``; the per-framelet kernels are parallel (prange over bands).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..geometry.camera import FrameCamera
from ..geometry.ellipsoid import xyz_to_latlon
from ..geometry.projection import CameraArrays, ground_to_image_point
from ..imaging.resample import bilinear_blend, check_order, prepare_image, sample_point
from .grid import MapGrid
from .projections import inverse_point

__all__ = ["block_coords", "centre_score", "footprint_outline", "framelet_spans", "height_map",
           "map_to_image", "project_framelet", "resample_framelet", "row_spans"]

MODE_WRITE = 0
"""Write every valid value (single framelet)."""
MODE_NEAREST_CENTRE = 1
"""Keep, per map pixel, the value from the framelet where the pixel is most central."""
MODE_FEATHER = 2
"""Accumulate value x weight and weight (weight = distance to the framelet edge, pixels)."""
SPAN_MARGIN_PX = 2.0
DEFAULT_CELL = 16
"""Node spacing (map pixels) of the exact camera model; coordinates are bilinear in between
(max error measured on the flown ISD geometry: see docs/mapping.md)."""


@njit(cache=True, inline="always")
def map_pixel_to_ground(x: float, y: float, prm: np.ndarray, a: float, c: float,
                        height_km: float) -> tuple[float, float, float]:
    """Map (x, y) m -> body-fixed km on the ellipsoid (+ radial ``height_km``); NaN off-map."""
    lat, lon = inverse_point(x, y, prm)
    cl = np.cos(lat)
    sl = np.sin(lat)
    r = a * c / np.sqrt((c * cl) ** 2 + (a * sl) ** 2) + height_km
    return r * cl * np.cos(lon), r * cl * np.sin(lon), r * sl


@njit(cache=True)
def row_spans(poly_l: np.ndarray, poly_s: np.ndarray, lines: int, samples: int,
              margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Column span ``[lo[i], hi[i])`` of map row ``i`` covered by the closed polygon (fractional
    map pixel coordinates), widened by ``margin`` pixels; empty rows have lo == hi == 0."""
    lo = np.zeros(lines, dtype=np.int64)
    hi = np.zeros(lines, dtype=np.int64)
    n = poly_l.size
    for i in range(lines):
        top = i - 0.5 - margin
        bot = i + 0.5 + margin
        smin = np.inf
        smax = -np.inf
        for k in range(n):
            l0, s0 = poly_l[k], poly_s[k]
            l1, s1 = poly_l[(k + 1) % n], poly_s[(k + 1) % n]
            ea, eb = min(l0, l1), max(l0, l1)
            if eb < top or ea > bot:
                continue
            # clip the edge to the band [top, bot]
            if l1 != l0:
                ta = (top - l0) / (l1 - l0)
                tb = (bot - l0) / (l1 - l0)
                t0 = max(min(ta, tb), 0.0)
                t1 = min(max(ta, tb), 1.0)
            else:
                t0, t1 = 0.0, 1.0
            for t in (t0, t1):
                s = s0 + t * (s1 - s0)
                smin = min(smin, s)
                smax = max(smax, s)
        if smax >= smin:
            smin = min(max(smin - margin, -1.0), samples + 1.0)  # no int overflow
            smax = min(max(smax + margin, -1.0), samples + 1.0)
            a = max(int(np.floor(smin)), 0)
            b = min(int(np.ceil(smax)) + 1, samples)
            if b > a:
                lo[i] = a
                hi[i] = b
    return lo, hi


def footprint_outline(cam: FrameCamera, shape: tuple[int, int] | None = None,
                      per_side: int = 33) -> np.ndarray:
    """Ground points (4 per_side, 3) km of the framelet's outer pixel edge (NaN off-planet)."""
    nl, ns = cam.image_shape() if shape is None else shape
    t = np.linspace(0.0, 1.0, per_side, endpoint=False)
    lt, st = -0.5 + t * nl, -0.5 + t * ns
    line = np.concatenate([np.full(per_side, -0.5), lt, np.full(per_side, nl - 0.5),
                           (nl - 0.5) - t * nl])
    sample = np.concatenate([st, np.full(per_side, ns - 0.5), (ns - 0.5) - t * ns,
                             np.full(per_side, -0.5)])
    return cam.image_to_ground(line, sample)


def framelet_spans(grid: MapGrid, cam: FrameCamera, shape: tuple[int, int] | None = None,
                   margin: float = SPAN_MARGIN_PX, outline: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Per-row column spans of ``grid`` covering the framelet footprint (``outline``: the
    already computed :func:`footprint_outline`). If part of the outline misses Mars (limb)
    every column of every row is spanned."""
    pts = footprint_outline(cam, shape) if outline is None else outline
    if not np.isfinite(pts).all():
        return (np.zeros(grid.lines, np.int64), np.full(grid.lines, grid.samples, np.int64))
    lat, lon, _ = xyz_to_latlon(pts)
    pl, ps = grid.latlon_to_index(lat, lon)
    return row_spans(np.ascontiguousarray(pl), np.ascontiguousarray(ps), grid.lines,
                     grid.samples, float(margin))


@njit(cache=True, inline="always")
def _exact_coords(i: int, j: int, prm: np.ndarray, gvec: np.ndarray, hmap: np.ndarray,
                  cam: CameraArrays) -> tuple[float, float]:
    x = gvec[0] + (j + 0.5) * gvec[2]
    y = gvec[1] - (i + 0.5) * gvec[2]
    if hmap.shape[0] == 1 and hmap.shape[1] == 1:
        h = hmap[0, 0]
    else:
        h = hmap[i, j]
    gx, gy, gz = map_pixel_to_ground(x, y, prm, cam.a, cam.c, h)
    return ground_to_image_point(gx, gy, gz, cam)


@njit(cache=True, inline="always")
def centre_score(li: float, si: float, half_lines: float, half_samples: float) -> float:
    """How far window-image (line, sample) lies from the window centre, as a fraction of the
    half-size (0 at the centre, 1 at the edge): the "nearest centre" mosaic rule."""
    return max(abs(li - (half_lines - 0.5)) / half_lines,
               abs(si - (half_samples - 0.5)) / half_samples)


@njit(cache=True, inline="always")
def band_rows(cell: int) -> int:
    """Map rows per parallel task: one node cell, or 8 rows for the exact camera model."""
    return cell if cell > 1 else 8


@njit(cache=True)
def block_coords(i0: int, i1: int, lo: np.ndarray, hi: np.ndarray, cell: int, prm: np.ndarray,
                 gvec: np.ndarray, hmap: np.ndarray, cam: CameraArrays
                 ) -> tuple[int, np.ndarray, np.ndarray]:
    """Image (line, sample) of the spanned pixels of map rows ``i0..i1-1`` as (rows, width)
    buffers starting at column ``jb`` (returned first). With ``cell > 1`` the exact camera
    model is evaluated on nodes every ``cell`` pixels (at pixel centres) and bilinearly
    interpolated in between; cells with a non-finite node are computed exactly."""
    jb = 1 << 62
    je = 0
    for i in range(i0, i1):
        if hi[i] > lo[i]:
            jb = min(jb, lo[i])
            je = max(je, hi[i])
    if je <= jb:
        return 0, np.empty((0, 0)), np.empty((0, 0))
    lbuf = np.full((i1 - i0, je - jb), np.nan)
    sbuf = np.full((i1 - i0, je - jb), np.nan)
    if cell <= 1:
        for i in range(i0, i1):
            for j in range(lo[i], hi[i]):
                lbuf[i - i0, j - jb], sbuf[i - i0, j - jb] = _exact_coords(i, j, prm, gvec,
                                                                           hmap, cam)
        return jb, lbuf, sbuf
    c0 = (jb // cell) * cell
    nn = (je - 1 - c0) // cell + 2
    nl_ = np.empty((2, nn))
    ns_ = np.empty((2, nn))
    for r in range(2):
        for q in range(nn):
            nl_[r, q], ns_[r, q] = _exact_coords(i0 + r * cell, c0 + q * cell, prm, gvec, hmap,
                                                 cam)
    for i in range(i0, i1):
        v = (i - i0) / cell
        for j in range(lo[i], hi[i]):
            q = (j - c0) // cell
            u = (j - c0 - q * cell) / cell
            l00, l01, l10, l11 = nl_[0, q], nl_[0, q + 1], nl_[1, q], nl_[1, q + 1]
            s00, s01, s10, s11 = ns_[0, q], ns_[0, q + 1], ns_[1, q], ns_[1, q + 1]
            if np.isfinite(l00 + l01 + l10 + l11 + s00 + s01 + s10 + s11):
                lbuf[i - i0, j - jb] = bilinear_blend(l00, l01, l10, l11, v, u)
                sbuf[i - i0, j - jb] = bilinear_blend(s00, s01, s10, s11, v, u)
            else:
                lbuf[i - i0, j - jb], sbuf[i - i0, j - jb] = _exact_coords(i, j, prm, gvec,
                                                                           hmap, cam)
    return jb, lbuf, sbuf


@njit(cache=True, parallel=True)
def project_framelet_kernel(img: np.ndarray, valid: np.ndarray, has_mask: bool, order: int,
                            mode: int, cell: int, prm: np.ndarray, gvec: np.ndarray,
                            lo: np.ndarray, hi: np.ndarray, hmap: np.ndarray,
                            cam: CameraArrays, out: np.ndarray, aux: np.ndarray) -> None:
    """Resample one framelet onto the grid rows/spans (``gvec = [ulx, uly, pixel]`` m).
    ``out``/``aux`` are updated per ``mode`` (see MODE_*): aux is the best score (nearest
    centre) or the weight sum (feather). Work is split in bands of :func:`band_rows` rows."""
    nl = cam.win[3]
    ns = cam.win[4]
    hl = 0.5 * nl
    hs = 0.5 * ns
    band = band_rows(cell)
    nband = (lo.size + band - 1) // band
    for bi in prange(nband):
        i0 = bi * band
        i1 = min(i0 + band, lo.size)
        jb, lbuf, sbuf = block_coords(i0, i1, lo, hi, cell, prm, gvec, hmap, cam)
        for i in range(i0, i1):
            for j in range(lo[i], hi[i]):
                li = lbuf[i - i0, j - jb]
                si = sbuf[i - i0, j - jb]
                v = sample_point(img, valid, has_mask, li, si, order)
                if not np.isfinite(v):
                    continue
                if mode == MODE_WRITE:
                    out[i, j] = v
                elif mode == MODE_NEAREST_CENTRE:
                    score = centre_score(li, si, hl, hs)
                    if score < aux[i, j]:
                        out[i, j] = v
                        aux[i, j] = score
                else:
                    w = min(min(li + 0.5, nl - 0.5 - li), min(si + 0.5, ns - 0.5 - si))
                    w = max(w, 1e-3)
                    out[i, j] += w * v
                    aux[i, j] += w


@njit(cache=True, parallel=True)
def map_to_image_kernel(cell: int, prm: np.ndarray, gvec: np.ndarray, lo: np.ndarray,
                        hi: np.ndarray, hmap: np.ndarray, cam: CameraArrays, line: np.ndarray,
                        sample: np.ndarray) -> None:
    """Window-image (line, sample) of every spanned map pixel (others left untouched)."""
    band = band_rows(cell)
    for bi in prange((lo.size + band - 1) // band):
        i0 = bi * band
        i1 = min(i0 + band, lo.size)
        jb, lbuf, sbuf = block_coords(i0, i1, lo, hi, cell, prm, gvec, hmap, cam)
        for i in range(i0, i1):
            for j in range(lo[i], hi[i]):
                line[i, j] = lbuf[i - i0, j - jb]
                sample[i, j] = sbuf[i - i0, j - jb]


# -- Python entry points ---------------------------------------------------------------------
def height_map(height_km: float | np.ndarray, grid: MapGrid, cell: int
               ) -> tuple[np.ndarray, int]:
    """(2-D float64 height array for the kernels, node spacing): a constant becomes 1 x 1; a
    per-pixel DEM (km, ``grid.shape``) forces the exact camera model (cell 1)."""
    h = np.asarray(height_km, dtype=np.float64)
    if h.ndim == 0:
        return h.reshape(1, 1), max(int(cell), 1)
    if h.shape != grid.shape:
        raise ValueError(f"height map shape {h.shape} != grid shape {grid.shape}")
    return np.ascontiguousarray(h), 1


def project_framelet(image: np.ndarray, cam: FrameCamera, grid: MapGrid, out: np.ndarray,
                     aux: np.ndarray, mode: int = MODE_WRITE, mask: np.ndarray | None = None,
                     order: int = 1, height_km: float | np.ndarray = 0.0,
                     cell: int = DEFAULT_CELL) -> None:
    """Resample ``image`` (window image of ``cam``) into ``out`` (float64, ``grid.shape``)
    per ``mode`` (``aux`` float64: best score or weight sum); ``mask`` is True where the
    framelet pixel is valid."""
    img, valid, has_mask = prepare_image(image, mask)
    if cam.window is not None and img.shape != cam.window.binned_shape:
        raise ValueError(f"image shape {img.shape} != window image shape "
                         f"{cam.window.binned_shape} of the camera (an on-ground expanded "
                         "binned window needs a binning-1 window)")
    ca = cam.arrays(img.shape)
    lo, hi = framelet_spans(grid, cam, img.shape)
    gvec = np.array([grid.ulx_m, grid.uly_m, grid.pixel_m])
    if out.dtype != np.float64 or aux.dtype != np.float64 or out.shape != grid.shape:
        raise ValueError("out/aux must be float64 arrays, out of grid.shape")
    hmap, cell = height_map(height_km, grid, cell)
    project_framelet_kernel(img, valid, has_mask, check_order(order), int(mode), cell,
                            grid.projection.params, gvec, lo, hi, hmap, ca, out, aux)


def resample_framelet(image: np.ndarray, cam: FrameCamera, grid: MapGrid,
                      mask: np.ndarray | None = None, order: int = 1,
                      height_km: float | np.ndarray = 0.0, cell: int = DEFAULT_CELL
                      ) -> np.ndarray:
    """Map-project one framelet: float32 array of ``grid.shape``, NaN = nodata. ``cam`` must
    carry the framelet's window (image coordinates = window image); ``mask`` True = valid;
    ``order`` 1 bilinear, 3 bicubic; ``height_km`` the radial height above the ellipsoid (km):
    a constant, or a DEM already on ``grid`` (array of ``grid.shape``, NaN = nodata; then the
    camera model is evaluated exactly at every pixel); ``cell`` the node spacing (map pixels)
    of the exact camera model, 1 = exact at every pixel (see :func:`block_coords`)."""
    out = np.full(grid.shape, np.nan)
    project_framelet(image, cam, grid, out, np.zeros((1, 1)), MODE_WRITE, mask, order,
                     height_km, cell)
    return out.astype(np.float32)


def map_to_image(grid: MapGrid, cam: FrameCamera, shape: tuple[int, int] | None = None,
                 height_km: float | np.ndarray = 0.0, spans: bool = True,
                 cell: int = DEFAULT_CELL) -> tuple[np.ndarray, np.ndarray]:
    """Window-image (line, sample) of every map pixel centre (float64, ``grid.shape``; NaN
    where not visible, and outside the footprint spans when ``spans``)."""
    shape = cam.image_shape() if shape is None else shape
    if spans:
        lo, hi = framelet_spans(grid, cam, shape)
    else:
        lo = np.zeros(grid.lines, np.int64)
        hi = np.full(grid.lines, grid.samples, np.int64)
    line = np.full(grid.shape, np.nan)
    sample = np.full(grid.shape, np.nan)
    gvec = np.array([grid.ulx_m, grid.uly_m, grid.pixel_m])
    hmap, cell = height_map(height_km, grid, cell)
    map_to_image_kernel(cell, grid.projection.params, gvec, lo, hi, hmap, cam.arrays(shape), line,
                        sample)
    return line, sample
