"""One-pass "nearest centre" mosaic of all framelets of one band (numba).

Each block of map rows (``cell`` rows; 8 for the exact camera model) is owned by one thread:
it sets its rows to NaN, then applies every framelet in list order with a block-local best
score, so a map pixel gets the value of the framelet in which it lies most centrally (ties keep
the earlier framelet) - the same result, bit for bit, as resampling the framelets one after the
other into a full-grid score array, without that array and with a float32 output written once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit, prange

from ..geometry.camera import FrameCamera
from ..geometry.projection import CameraArrays, camera_at, stack_cameras
from ..imaging.resample import check_order, sample_point
from .grid import MapGrid
from .project import band_rows, block_coords, centre_score, framelet_spans, height_map


@njit(cache=True, parallel=True)
def mosaic_nearest_kernel(imgs: np.ndarray, valids: np.ndarray, has_mask: bool, order: int,
                          cell: int, prm: np.ndarray, gvec: np.ndarray, lo: np.ndarray,
                          hi: np.ndarray, hmap: np.ndarray, cams: CameraArrays,
                          out: np.ndarray) -> None:
    """``imgs``/``valids`` (framelets, lines, samples) float32 / uint8; per framelet k: row
    spans ``lo[k]``/``hi[k]`` (map rows) and camera ``camera_at(cams, k)`` (``cams`` from
    :func:`~cassis_pipe.geometry.projection.stack_cameras`). ``out`` (map lines, samples)
    float32 gets the mosaic, NaN = no data."""
    lines = out.shape[0]
    band = band_rows(cell)
    nband = (lines + band - 1) // band
    nf = imgs.shape[0]
    for bi in prange(nband):
        i0 = bi * band
        i1 = min(i0 + band, lines)
        best = np.full((i1 - i0, out.shape[1]), np.inf)
        for i in range(i0, i1):
            out[i, :] = np.nan
        for k in range(nf):
            any_row = False
            for i in range(i0, i1):
                if hi[k, i] > lo[k, i]:
                    any_row = True
                    break
            if not any_row:
                continue
            cam = camera_at(cams, k)
            hl = 0.5 * cam.win[3]
            hs = 0.5 * cam.win[4]
            jb, lbuf, sbuf = block_coords(i0, i1, lo[k], hi[k], cell, prm, gvec, hmap, cam)
            img = imgs[k]
            val = valids[k]
            for i in range(i0, i1):
                for j in range(lo[k, i], hi[k, i]):
                    li = lbuf[i - i0, j - jb]
                    si = sbuf[i - i0, j - jb]
                    v = sample_point(img, val, has_mask, li, si, order)
                    if not np.isfinite(v):
                        continue
                    score = centre_score(li, si, hl, hs)
                    if score < best[i - i0, j]:
                        out[i, j] = v
                        best[i - i0, j] = score


def stackable(framelets: Sequence[tuple[np.ndarray, FrameCamera, np.ndarray | None]]) -> bool:
    """True if the framelets share one image shape, all or none have a mask, and their optics
    arrays have equal sizes and their planet radii are equal (the one-pass kernel's layout)."""
    if not framelets:
        return False
    shapes = {np.shape(img) for img, _, _ in framelets}
    masks = {mask is None for _, _, mask in framelets}
    sizes = {(np.shape(cam.optics.params), np.shape(cam.optics.corr), np.shape(cam.optics.dist),
              tuple(float(r) for r in cam.radii_km)) for _, cam, _ in framelets}
    return len(shapes) == 1 and len(masks) == 1 and len(sizes) == 1 \
        and len(next(iter(shapes))) == 2


def mosaic_nearest(framelets: Sequence[tuple[np.ndarray, FrameCamera, np.ndarray | None]],
                   grid: MapGrid, order: int = 1, height_km: float | np.ndarray = 0.0,
                   cell: int = 16, outlines: Sequence[np.ndarray] | None = None
                   ) -> np.ndarray:
    """float32 "nearest centre" mosaic (``grid.shape``, NaN = no data) of ``framelets``
    (image, camera with window, mask True = valid or None) that are :func:`stackable`;
    ``outlines`` the already computed footprint outlines (km), one per framelet."""
    if not stackable(framelets):
        raise ValueError("framelets differ in shape, mask presence or optics layout")
    imgs = np.ascontiguousarray(np.stack([np.asarray(f[0], np.float32) for f in framelets]))
    has_mask = framelets[0][2] is not None
    valids = (np.ascontiguousarray(np.stack([np.asarray(f[2], bool) for f in framelets]))
              .view(np.uint8) if has_mask else np.zeros((len(framelets), 1, 1), np.uint8))
    shape = imgs.shape[1:]
    for _, cam, _ in framelets:
        if cam.window is not None and shape != cam.window.binned_shape:
            raise ValueError(f"image shape {shape} != window image shape "
                             f"{cam.window.binned_shape} of the camera")
    spans = [framelet_spans(grid, cam, imgs.shape[1:],
                            outline=None if outlines is None else outlines[k])
             for k, (_, cam, _) in enumerate(framelets)]
    lo = np.ascontiguousarray(np.stack([s[0] for s in spans]))
    hi = np.ascontiguousarray(np.stack([s[1] for s in spans]))
    hmap, cell = height_map(height_km, grid, cell)
    out = np.empty(grid.shape, np.float32)
    cams = stack_cameras([cam.arrays(shape) for _, cam, _ in framelets])
    mosaic_nearest_kernel(imgs, valids, has_mask, check_order(order), cell,
                          grid.projection.params,
                          np.array([grid.ulx_m, grid.uly_m, grid.pixel_m]), lo, hi, hmap, cams,
                          out)
    return out
