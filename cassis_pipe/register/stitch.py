"""Stitch one filter's framelets along track into a strip (PSA level-1c "stitched" product).

Offsets: ``o_k = (dl, ds)`` px means pixel ``(l, s)`` of framelet ``k + 1`` sees the ground of
pixel ``(l + dl, s + ds)`` of framelet ``k``. They are predicted from geometry (median over a
node grid of framelet ``k + 1`` projected through the ground into framelet ``k``), then
refined in the overlap by gradient cross-correlation (sub-pixel, :mod:`.correlate`). Framelet
``k`` is placed with its pixel ``(0, 0)`` at strip position ``P_k`` (``P_0`` = 0, ``P_k+1 =
P_k + o_k``, shifted so the strip starts at 0), resampled by cubic convolution onto the strip
grid, and overlaps are blended with a linear feather along lines (weight = distance to the
framelet's nearest line edge). Seam residual = shift (px) still measured between the two placed
framelets in their overlap. Output is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from ..geometry.camera import FrameCamera
from ..imaging.resample import column_taps, cubic_taps, node_positions, shift_cubic
from ..model import Framelet
from .correlate import RegistrationError, measure_shift, smooth


@dataclass(frozen=True)
class Seam:
    """Seam between framelets ``index`` and ``index + 1``: offsets (dl, ds) px predicted and
    used, residual shift (px) after placement, correlation peak and overlap height (lines).
    ``refined`` is False when the overlap could not be correlated (prediction kept)."""

    index: int
    predicted: tuple[float, float]
    offset: tuple[float, float]
    residual_px: float
    peak: float
    overlap_lines: int
    refined: bool


@dataclass
class StitchResult:
    """Strip (lines x samples, NaN = no data), ``placements`` (n, 2): strip (line, sample) of
    each framelet's pixel (0, 0), and the seams."""

    strip: np.ndarray
    placements: np.ndarray
    seams: list[Seam]

    @property
    def max_seam_residual_px(self) -> float:
        """Largest seam residual (px); NaN if there is no measured seam."""
        vals = [s.residual_px for s in self.seams if np.isfinite(s.residual_px)]
        return float(max(vals)) if vals else float("nan")


def predict_offsets(cameras: Sequence[FrameCamera], shapes: Sequence[tuple[int, int]],
                    node_step_px: int = 32) -> np.ndarray:
    """Geometric framelet-to-framelet offsets ``(n - 1, 2)`` (px, see module docstring) for
    consecutive cameras (windows attached) and image shapes."""
    out = np.zeros((max(len(cameras) - 1, 0), 2))
    for k in range(len(cameras) - 1):
        nl, ns = shapes[k + 1]
        rl = node_positions(int(nl), node_step_px)
        rs = node_positions(int(ns), node_step_px)
        ll, ss = np.meshgrid(rl, rs, indexing="ij")
        g = cameras[k + 1].image_to_ground(ll, ss)
        l2, s2 = cameras[k].ground_to_image(g)
        dl, ds = l2 - ll, s2 - ss
        ok = np.isfinite(dl) & np.isfinite(ds)
        inside = ok & (l2 >= 0) & (l2 <= shapes[k][0] - 1) & (s2 >= 0) & (s2 <= shapes[k][1] - 1)
        use = inside if inside.any() else ok
        if not use.any():
            raise ValueError(f"framelet {k + 1} does not project into framelet {k}")
        out[k] = (float(np.median(dl[use])), float(np.median(ds[use])))
    return out


def _overlap_rows(dl: float, nl_k: int, nl_next: int) -> tuple[int, int]:
    """[r0, r1) rows of framelet k covered by framelet k + 1 at line offset ``dl``."""
    r0 = max(0, int(np.ceil(dl)))
    r1 = min(nl_k, int(np.floor(dl + nl_next - 1)) + 1)
    return r0, max(r0, r1)


def refine_offset(img_k: np.ndarray, img_next: np.ndarray, offset: tuple[float, float],
                  max_correction_px: float = 4.0, min_lines: int = 8
                  ) -> tuple[tuple[float, float], float, int]:
    """Correct a predicted offset by correlating the overlap (framelet ``k`` rows seen by
    ``k + 1``). Returns (offset, correlation peak, overlap lines); raises
    :class:`RegistrationError` if the overlap is too small or cannot be correlated."""
    dl, ds = float(offset[0]), float(offset[1])
    r0, r1 = _overlap_rows(dl, img_k.shape[0], img_next.shape[0])
    if r1 - r0 < min_lines:
        raise RegistrationError(f"overlap of {r1 - r0} lines < {min_lines}")
    a = np.asarray(img_k[r0:r1], dtype=np.float64)
    b = shift_cubic(np.ascontiguousarray(img_next, dtype=np.float64), dl, ds, r1 - r0,
                    img_k.shape[1], float(r0), 0.0)
    s = measure_shift(a, b, max_shift_px=max_correction_px, iterations=3, taper=0.2,
                      min_valid=16 * min_lines, single=True)
    # b(p) = next(p - o) = k(p - o + o_true) = a(p - (o - o_true)): shift = o - o_true
    return (dl - s.dl, ds - s.ds), s.peak, r1 - r0


@njit(cache=True, nogil=True)
def _blend(stack: np.ndarray, starts: np.ndarray, widths: np.ndarray, pos: np.ndarray,
           row0: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
    """Fill ``out`` (strip lines x samples) row by row: framelet ``k`` (lines
    ``starts[k]:starts[k + 1]``, samples ``0:widths[k]`` of ``stack``) placed at strip
    position ``pos[k]`` covers strip rows ``row0[k] .. row0[k] + rows[k] - 1``; it is
    resampled (cubic, as :func:`shift_cubic`) and added with feather weight = distance
    (lines) to the framelet's nearest line edge. Sums in float64 in framelet order; NaN where
    no framelet has a finite value. Serial and GIL-free: safe in worker threads under any
    numba threading layer.

    The cubic is done in two passes with the arithmetic of :func:`shift_cubic` term by term:
    every framelet line is first filtered along samples (its 4 column taps, one set per
    framelet), then each strip row combines 4 filtered lines."""
    n = pos.shape[0]
    n_out, ns_out = out.shape
    cols = np.empty((n, ns_out, 4), dtype=np.int64)
    wts = np.empty((n, ns_out, 4), dtype=np.float64)
    inside = np.empty((n, ns_out), dtype=np.bool_)
    for k in range(n):
        c_k, w_k, i_k = column_taps(ns_out, 0.0, pos[k, 1], widths[k])
        cols[k] = c_k
        wts[k] = w_k
        inside[k] = i_k
    # pass 1: every framelet line filtered along samples onto the strip columns
    hor = np.empty((stack.shape[0], ns_out))
    for k in range(n):
        for line in range(starts[k], starts[k + 1]):
            for c in range(ns_out):
                h = 0.0
                if inside[k, c]:
                    for i in range(4):
                        wx = wts[k, c, i]
                        if wx == 0.0:
                            continue
                        h += wx * stack[line, cols[k, c, i]]
                hor[line, c] = h
    # pass 2: strip rows
    acc = np.empty(ns_out)
    wsum = np.empty(ns_out)
    wy = np.empty(4)
    yy = np.empty(4, dtype=np.int64)
    for big_r in range(n_out):
        acc[:] = 0.0
        wsum[:] = 0.0
        for k in range(n):
            r = big_r - row0[k]
            if r < 0 or r >= rows[k]:
                continue
            n_lines = starts[k + 1] - starts[k]
            y = (row0[k] - pos[k, 0]) + r
            w = min(y + 0.5, n_lines - 0.5 - y)
            if w <= 0.0:
                continue
            ys = float(row0[k]) + r - pos[k, 0]       # framelet line sampled (shift_cubic)
            if not (ys >= 0.0 and ys <= n_lines - 1.0):
                continue
            cubic_taps(ys, n_lines, wy, yy)
            for j in range(4):
                yy[j] += starts[k]
            for c in range(ns_out):
                if not inside[k, c]:
                    continue
                v = 0.0
                for j in range(4):
                    if wy[j] == 0.0:
                        continue
                    v += wy[j] * hor[yy[j], c]
                if np.isfinite(v):
                    acc[c] += w * v
                    wsum[c] += w
        for c in range(ns_out):
            out[big_r, c] = acc[c] / wsum[c] if wsum[c] > 0 else np.nan


def _smoothed_overlaps(imgs: list[np.ndarray], predicted: np.ndarray, sigma_px: float,
                       max_correction_px: float) -> list[np.ndarray]:
    """Copies of ``imgs`` smoothed (:func:`.correlate.smooth`, sigma in px) on the lines the
    seams can use (overlap at the predicted offset widened by twice the largest correction
    plus the cubic taps), NaN on the others; the smoothed lines are those of smoothing the
    whole framelet (each block is cut with a margin of the kernel half-width)."""
    slack = 2 * int(np.ceil(max_correction_px)) + 8
    margin = max(int(np.ceil(3.0 * sigma_px)), 1) + 1
    need = [np.zeros(im.shape[0], dtype=bool) for im in imgs]
    for k, (dl, _) in enumerate(predicted):
        nk, nn = imgs[k].shape[0], imgs[k + 1].shape[0]
        need[k][max(0, int(np.floor(dl)) - slack):max(0, int(np.ceil(dl + nn)) + slack)] = True
        need[k + 1][max(0, int(np.floor(-dl)) - slack):
                    max(0, int(np.ceil(nk - dl)) + slack)] = True
    out = []
    for im, nd in zip(imgs, need, strict=True):
        if nd.mean() > 0.8:
            out.append(smooth(im, sigma_px))
            continue
        res = np.full(im.shape, np.nan)
        edges = np.flatnonzero(np.diff(np.concatenate(([0], nd.astype(np.int8), [0]))))
        for r0, r1 in zip(edges[::2], edges[1::2], strict=True):
            lo, hi = max(0, r0 - margin), min(im.shape[0], r1 + margin)
            res[r0:r1] = smooth(im[lo:hi], sigma_px)[r0 - lo:r1 - lo]
        out.append(res)
    return out


def stitch_framelets(images: Sequence[np.ndarray], predicted: np.ndarray,
                     refine: bool = True, max_correction_px: float = 4.0,
                     dtype: type = np.float32, smooth_px: float = 0.0) -> StitchResult:
    """Stitch consecutive framelets (2-D arrays, same width) using ``predicted`` offsets
    ``(n - 1, 2)`` px, refined by correlation unless ``refine`` is False. ``smooth_px``
    (Gaussian sigma) smooths the copies used for correlation only (noisy data), never the
    strip. Runs no numba-parallel kernel (numpy, FFT and serial GIL-free kernels only), so
    filters may be stitched in worker threads under any numba threading layer."""
    n = len(images)
    if n == 0:
        raise ValueError("no framelets to stitch")
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 2)
    if predicted.shape[0] != n - 1:
        raise ValueError(f"{n} framelets need {n - 1} offsets, got {predicted.shape[0]}")
    imgs = [np.ascontiguousarray(im, dtype=np.float64) for im in images]
    corr = _smoothed_overlaps(imgs, predicted, smooth_px, max_correction_px) \
        if smooth_px > 0 else imgs
    offsets = predicted.copy()
    info: list[tuple[float, int, bool]] = []
    for k in range(n - 1):
        peak, lines, ok = float("nan"), 0, False
        if refine:
            try:
                o, peak, lines = refine_offset(corr[k], corr[k + 1], tuple(predicted[k]),
                                               max_correction_px)
                offsets[k] = o
                ok = True
            except RegistrationError:
                pass
        info.append((peak, lines, ok))
    pos = np.vstack([np.zeros((1, 2)), np.cumsum(offsets, axis=0)])
    origin = np.floor(pos.min(axis=0))
    pos -= origin
    n_lines = int(np.ceil(max(p[0] + im.shape[0] - 1 for p, im in zip(pos, imgs, strict=True))))
    n_samples = int(np.ceil(max(p[1] + im.shape[1] - 1 for p, im in zip(pos, imgs, strict=True))))
    row0 = np.array([int(np.ceil(p[0])) for p in pos], dtype=np.int64)
    rows = np.array([int(np.floor(p[0] + im.shape[0] - 1)) - r0 + 1
                     for p, im, r0 in zip(pos, imgs, row0, strict=True)], dtype=np.int64)
    starts = np.concatenate(([0], np.cumsum([im.shape[0] for im in imgs]))).astype(np.int64)
    exact = np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.float64))
    strip = np.empty((n_lines + 1, n_samples + 1), dtype=dtype if exact else np.float64)
    widths = np.array([im.shape[1] for im in imgs], dtype=np.int64)
    if np.all(widths == widths[0]):
        stack = np.concatenate(imgs)
    else:  # columns beyond a framelet's width are never read
        stack = np.full((int(starts[-1]), int(widths.max())), np.nan)
        for k, im in enumerate(imgs):
            stack[starts[k]:starts[k + 1], :widths[k]] = im
    _blend(stack, starts, widths, np.ascontiguousarray(pos), row0, rows, strip)
    if not exact:
        strip = strip.astype(dtype)
    placed = [(int(r0), int(nr)) for r0, nr in zip(row0, rows, strict=True)]
    seams = []
    for k in range(n - 1):
        peak, lines, ok = info[k]
        residual = _seam_residual(placed[k], placed[k + 1], corr[k], corr[k + 1], pos[k],
                                  pos[k + 1], n_samples + 1)
        seams.append(Seam(k, (float(predicted[k, 0]), float(predicted[k, 1])),
                          (float(offsets[k, 0]), float(offsets[k, 1])), residual, peak, lines, ok))
    return StitchResult(strip, pos, seams)


def _seam_residual(a: tuple[int, int], b: tuple[int, int], img_a: np.ndarray,
                   img_b: np.ndarray, pos_a: np.ndarray, pos_b: np.ndarray,
                   n_samples: int) -> float:
    """Shift (px) between two placed framelets over their common strip rows (NaN if none)."""
    r0 = max(a[0], b[0])
    r1 = min(a[0] + a[1], b[0] + b[1])
    if r1 - r0 < 4:
        return float("nan")

    def rows(img: np.ndarray, at: np.ndarray) -> np.ndarray:
        return shift_cubic(img, at[0], at[1], r1 - r0, n_samples, float(r0), 0.0)

    try:
        s = measure_shift(rows(img_a, pos_a), rows(img_b, pos_b), max_shift_px=4.0,
                          iterations=3, taper=0.2, min_valid=64, single=True)
    except RegistrationError:
        return float("nan")
    return s.magnitude


def filter_offsets(framelets: Sequence[Framelet], node_step_px: int = 32,
                   rotation_offset_deg: float = 0.0) -> tuple[list[Framelet], np.ndarray]:
    """The framelets of one filter sorted by exposure index and their predicted offsets
    ``(n - 1, 2)`` px (cameras with the rotation-mechanism offset ``rotation_offset_deg``,
    deg). Runs the (numba-parallel) geometry kernels: call it from the main thread. Raises
    ``ValueError`` on mixed filters."""
    names = {f.filter for f in framelets}
    if len(names) > 1:
        raise ValueError(f"framelets of several filters: {sorted(names)}")
    fl = sorted(framelets, key=lambda f: f.exposure)
    cams = [f.camera.with_rotation_offset(rotation_offset_deg) for f in fl]
    return fl, predict_offsets(cams, [f.image.shape for f in fl], node_step_px)


def stitch_filter(framelets: Sequence[Framelet], refine: bool = True,
                  max_correction_px: float = 4.0, node_step_px: int = 32,
                  smooth_px: float = 0.0, rotation_offset_deg: float = 0.0) -> StitchResult:
    """Stitch the framelets of one filter (sorted by exposure index), offsets predicted from
    their cameras with the rotation-mechanism offset ``rotation_offset_deg`` (deg; use the
    recovered one: a wrong offset tilts the along-track direction and biases the predicted
    cross-track offsets). Raises ``ValueError`` on mixed filters."""
    fl, pred = filter_offsets(framelets, node_step_px, rotation_offset_deg)
    return stitch_framelets([f.image for f in fl], pred, refine, max_correction_px,
                            smooth_px=smooth_px)
