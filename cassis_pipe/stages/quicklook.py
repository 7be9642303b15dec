"""JPG quick-looks of the non-projected swath (the archive's "non-map-projected JPG of the full
calibrated swath"), one per image and filter.

With geometry (the ISD of the geometry stage and the SPICE clock kernels) every commanded
exposure's framelet is placed at the along-track and cross-track offsets predicted from its
camera (``register.stitch.predict_offsets``, rounded to whole pixels, no resampling), and each
swath line is taken from ONE framelet, the one whose centre line is nearest: the overlaps are
not duplicated, nothing is blended, so every framelet's own defects stay visible; a missing
framelet leaves a black band where no other framelet sees the ground. Without geometry the
framelets are stacked whole (overlaps duplicated), in exposure order, and the stage JSON says so.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.detector import Window
from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.level0.plan import CommandPlan, ImagingPlan
from cassis_pipe.products.images import block_mean, write_quicklook_jpg
from cassis_pipe.register.stitch import predict_offsets
from cassis_pipe.telemetry.timecode import timecode_to_et

NO_GEOMETRY = "exposure order (no geometry): framelets stacked whole, overlaps duplicated"
PLACED = ("overlaps removed: framelets placed at the offsets predicted from the geometry, "
          "each line from one framelet (no blending)")


def later_on_top(isd_path: str | Path, dt_s: float = 0.2) -> bool | None:
    """True if a ground point seen at the detector centre moves to higher lines within
    ``dt_s`` seconds (ISD at its centre time); None without a usable ISD."""
    try:
        isd = read_isd(isd_path)
        t = isd.center_ephemeris_time
        c0 = FrameCamera.from_isd(isd, et=t)
        ground = c0.image_to_ground(np.array([1023.5]), np.array([1023.5]))
        line, _ = FrameCamera.from_isd(isd, et=t + dt_s).ground_to_image(ground)
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None  # no usable geometry: exposure order
    if not np.all(np.isfinite(line)):
        return None
    return bool(line[0] > 1023.5)


def swath(framelets: Mapping[int, np.ndarray], num_exp: int, later_on_top: bool = False
          ) -> np.ndarray | None:
    """(num_exp x rows, cols) float32 I/F: framelet k at rows k*rows.. (or, with
    ``later_on_top``, at (num_exp - 1 - k) * rows..); absent ones NaN."""
    if not framelets:
        return None
    first = next(iter(framelets.values()))
    rows, cols = first.shape
    out = np.full((num_exp * rows, cols), np.nan, dtype=np.float32)
    for k, img in framelets.items():
        if 0 <= k < num_exp and img.shape == (rows, cols):
            j = num_exp - 1 - k if later_on_top else k
            out[j * rows:(j + 1) * rows] = img
    return out


def swath_positions(isd_path: str | Path, image: ImagingPlan, window: Window,
                    shape: tuple[int, int], sclk: str | Path, lsk: str | Path
                    ) -> np.ndarray | None:
    """(num_exp, 2) whole-pixel (line, sample) position of every commanded exposure's framelet
    of ``window`` (level-1 image ``shape``) in the swath, predicted from the ISD at each
    exposure's time; None without usable geometry or exposure times. Runs the numba-parallel
    geometry kernels: main thread only."""
    try:
        isd = read_isd(isd_path)
        cams = []
        for k in range(image.num_exp):
            tc = image.exposure_timecode(k)
            if tc is None:
                return None
            cams.append(FrameCamera.from_isd(isd, window=window,
                                             et=timecode_to_et(tc, sclk, lsk)))
        if len(cams) < 2:
            return None
        offsets = predict_offsets(cams, [shape] * len(cams))
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    pos = np.vstack([np.zeros((1, 2)), np.cumsum(offsets, axis=0)])
    if not np.all(np.isfinite(pos)):
        return None
    pos = np.rint(pos).astype(np.int64)
    return pos - pos.min(axis=0)


def placed_swath(framelets: Mapping[int, np.ndarray], positions: np.ndarray
                 ) -> np.ndarray | None:
    """float32 I/F swath with framelet k's pixel (0, 0) at ``positions[k]`` (whole pixels);
    every line from the present framelet whose centre line is nearest (ties: the earlier
    exposure), never blended; lines no present framelet covers are NaN."""
    if not framelets:
        return None
    rows, cols = next(iter(framelets.values())).shape
    present = sorted(k for k, img in framelets.items()
                     if 0 <= k < len(positions) and img.shape == (rows, cols))
    if not present:
        return None
    pos = np.asarray(positions, dtype=np.int64)
    out = np.full((int(pos[:, 0].max()) + rows, int(pos[:, 1].max()) + cols), np.nan,
                  dtype=np.float32)
    line = np.arange(out.shape[0])[:, None]
    top = pos[present, 0][None, :]
    dist = np.abs(line - (top + (rows - 1) / 2.0))
    dist[(line < top) | (line >= top + rows)] = np.inf
    owner = np.argmin(dist, axis=1)
    covered = np.isfinite(dist.min(axis=1))
    for j, k in enumerate(present):
        lines = np.flatnonzero(covered & (owner == j))
        r0, c0 = int(pos[k, 0]), int(pos[k, 1])
        out[lines, c0:c0 + cols] = framelets[k][lines - r0]
    return out


def write_quicklooks(directory: str | Path, plan: CommandPlan,
                     swaths: Mapping[tuple[int, str], Mapping[int, np.ndarray]],
                     filters: Collection[str], max_side: int = 1024,
                     geometry_dir: str | Path | None = None, workers: int = 1, *,
                     windows: Mapping[tuple[int, str], Window] | None = None,
                     sclk: str | Path | None = None, lsk: str | Path | None = None
                     ) -> tuple[list[str], dict[str, str], dict[str, Any]]:
    """One ``<observation id>_<FILTER>.jpg`` per image and filter with at least one calibrated
    framelet. With the ISD ``<geometry_dir>/<observation id>.json``, the camera ``windows``
    per (uid, filter) and the clock kernels, the framelets are placed as the geometry predicts
    (:func:`placed_swath`); else stacked whole (:func:`swath`, ordered as the ISD says, else in
    exposure order). Swaths are assembled and block-averaged in ``workers`` threads (numpy
    releases the GIL; each file is independent of the others). Returns the file names written
    (sorted), the layout used per image and, per file, the swath size and framelet positions."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    orders: dict[str, str] = {}
    layout: dict[str, Any] = {}
    jobs: list[tuple[str, Mapping[int, np.ndarray], int, bool, np.ndarray | None]] = []
    for im in plan.images:
        obs = observation_id_string(im.uid)
        isd = None if geometry_dir is None else Path(geometry_dir) / f"{obs}.json"
        top = None if isd is None else later_on_top(isd)
        orders[obs] = (NO_GEOMETRY if top is None else
                       "last exposure on top" if top else "first exposure on top")
        for f in sorted(filters):
            frames = swaths.get((im.uid, f), {})
            win = (windows or {}).get((im.uid, f))
            pos = None
            if isd is not None and win is not None and frames and sclk and lsk:
                shape = next(iter(frames.values())).shape
                pos = swath_positions(isd, im, win, shape, sclk, lsk)
            if pos is not None:
                orders[obs] = PLACED
                layout[f"{obs}_{f}.jpg"] = {"positions": pos.tolist()}
            jobs.append((f"{obs}_{f}.jpg", frames, im.num_exp, bool(top), pos))

    def reduced(job: tuple[str, Mapping[int, np.ndarray], int, bool, np.ndarray | None]
                ) -> np.ndarray | None:
        # the heavy part (swath, block means) in the workers: numpy only
        name, frames, num_exp, on_top, pos = job
        band = swath(frames, num_exp, on_top) if pos is None else placed_swath(frames, pos)
        if band is not None and name in layout:
            layout[name]["swath_shape"] = list(band.shape)
        if band is None or not np.isfinite(band).any():
            return None
        factor = -(-max(band.shape) // max_side) if max_side is not None and max_side >= 1 else 1
        return block_mean(band, factor) if factor > 1 else band

    names = []
    with ThreadPoolExecutor(max_workers=max(1, int(workers))) as pool:
        for job, band in zip(jobs, pool.map(reduced, jobs), strict=True):
            if band is not None:
                # stretch (a numba-parallel kernel: main thread) and JPEG of the small image;
                # already within max_side, so the same bytes as stretching the full swath
                write_quicklook_jpg(out / job[0], band, max_side=max_side)
                names.append(job[0])
    return sorted(names), orders, {k: layout[k] for k in sorted(layout) if k in names}
