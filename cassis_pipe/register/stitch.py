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
from .correlate import RegistrationError, measure_shift, smooth
from .fringing import Framelet
from .resample import node_positions, shift_cubic


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
                      min_valid=16 * min_lines)
    # b(p) = next(p - o) = k(p - o + o_true) = a(p - (o - o_true)): shift = o - o_true
    return (dl - s.dl, ds - s.ds), s.peak, r1 - r0


@njit(cache=True, nogil=True)
def _accumulate(acc: np.ndarray, wsum: np.ndarray, band: np.ndarray, row0: int,
                y0: float, n_lines: int) -> None:
    """Add ``band`` (strip rows ``row0..``) with feather weight = distance (lines) to the
    framelet's nearest line edge; ``y0`` is the framelet line of strip row ``row0``."""
    for r in range(band.shape[0]):
        y = y0 + r
        w = min(y + 0.5, n_lines - 0.5 - y)
        if w <= 0.0:
            continue
        for c in range(band.shape[1]):
            v = band[r, c]
            if np.isfinite(v):
                acc[row0 + r, c] += w * v
                wsum[row0 + r, c] += w


def stitch_framelets(images: Sequence[np.ndarray], predicted: np.ndarray,
                     refine: bool = True, max_correction_px: float = 4.0,
                     dtype: type = np.float32, smooth_px: float = 0.0) -> StitchResult:
    """Stitch consecutive framelets (2-D arrays, same width) using ``predicted`` offsets
    ``(n - 1, 2)`` px, refined by correlation unless ``refine`` is False. ``smooth_px``
    (Gaussian sigma) smooths the copies used for correlation only (noisy data), never the
    strip."""
    n = len(images)
    if n == 0:
        raise ValueError("no framelets to stitch")
    predicted = np.asarray(predicted, dtype=np.float64).reshape(-1, 2)
    if predicted.shape[0] != n - 1:
        raise ValueError(f"{n} framelets need {n - 1} offsets, got {predicted.shape[0]}")
    imgs = [np.ascontiguousarray(im, dtype=np.float64) for im in images]
    corr = [smooth(im, smooth_px) for im in imgs] if smooth_px > 0 else imgs
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
    acc = np.zeros((n_lines + 1, n_samples + 1))
    wsum = np.zeros_like(acc)
    # placed: (first strip row, rows, placed band or None = the smoothed copy, resampled
    # later only over the rows a seam needs; same values, row r always at line row0 + r)
    placed: list[tuple[int, int, np.ndarray | None]] = []
    for p, im, cim in zip(pos, imgs, corr, strict=True):
        row0 = int(np.ceil(p[0]))
        rows = int(np.floor(p[0] + im.shape[0] - 1)) - row0 + 1
        band = shift_cubic(im, p[0], p[1], rows, n_samples + 1, float(row0), 0.0)
        _accumulate(acc, wsum, band, row0, row0 - p[0], im.shape[0])
        placed.append((row0, rows, band if cim is im else None))
    with np.errstate(invalid="ignore", divide="ignore"):
        strip = np.where(wsum > 0, acc / np.where(wsum > 0, wsum, 1.0), np.nan).astype(dtype)
    seams = []
    for k in range(n - 1):
        peak, lines, ok = info[k]
        residual = _seam_residual(placed[k], placed[k + 1], corr[k], corr[k + 1], pos[k],
                                  pos[k + 1], n_samples + 1)
        seams.append(Seam(k, (float(predicted[k, 0]), float(predicted[k, 1])),
                          (float(offsets[k, 0]), float(offsets[k, 1])), residual, peak, lines, ok))
    return StitchResult(strip, pos, seams)


def _seam_residual(a: tuple[int, int, np.ndarray | None], b: tuple[int, int, np.ndarray | None],
                   img_a: np.ndarray, img_b: np.ndarray, pos_a: np.ndarray, pos_b: np.ndarray,
                   n_samples: int) -> float:
    """Shift (px) between two placed framelets over their common strip rows (NaN if none)."""
    r0 = max(a[0], b[0])
    r1 = min(a[0] + a[1], b[0] + b[1])
    if r1 - r0 < 4:
        return float("nan")

    def rows(p: tuple[int, int, np.ndarray | None], img: np.ndarray, at: np.ndarray
             ) -> np.ndarray:
        if p[2] is not None:
            return p[2][r0 - p[0]:r1 - p[0]]
        return shift_cubic(img, at[0], at[1], r1 - r0, n_samples, float(r0), 0.0)

    try:
        s = measure_shift(rows(a, img_a, pos_a), rows(b, img_b, pos_b), max_shift_px=4.0,
                          iterations=3, taper=0.2, min_valid=64)
    except RegistrationError:
        return float("nan")
    return s.magnitude


def stitch_filter(framelets: Sequence[Framelet], refine: bool = True,
                  max_correction_px: float = 4.0, node_step_px: int = 32,
                  smooth_px: float = 0.0, rotation_offset_deg: float = 0.0) -> StitchResult:
    """Stitch the framelets of one filter (sorted by exposure index), offsets predicted from
    their cameras with the rotation-mechanism offset ``rotation_offset_deg`` (deg; use the
    recovered one: a wrong offset tilts the along-track direction and biases the predicted
    cross-track offsets). Raises ``ValueError`` on mixed filters."""
    names = {f.filter for f in framelets}
    if len(names) > 1:
        raise ValueError(f"framelets of several filters: {sorted(names)}")
    fl = sorted(framelets, key=lambda f: f.index)
    cams = [f.camera.with_rotation_offset(rotation_offset_deg) for f in fl]
    pred = predict_offsets(cams, [f.image.shape for f in fl], node_step_px)
    return stitch_framelets([f.image for f in fl], pred, refine, max_correction_px,
                            smooth_px=smooth_px)
