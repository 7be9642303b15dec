"""JPG quick-looks of the non-projected swath: the calibrated framelets of one image and filter
stacked so that the ground runs on across framelets (a missing framelet leaves a black band of
its height). The order comes from the geometry: if the ground moves towards higher detector
lines with time, later exposures see the ground beyond line 0 and go on top."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.level0.plan import CommandPlan
from cassis_pipe.products.images import block_mean, write_quicklook_jpg


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


def write_quicklooks(directory: str | Path, plan: CommandPlan,
                     swaths: Mapping[tuple[int, str], Mapping[int, np.ndarray]],
                     filters: Collection[str], max_side: int = 1024,
                     geometry_dir: str | Path | None = None, workers: int = 1
                     ) -> tuple[list[str], dict[str, str]]:
    """One ``<observation id>_<FILTER>.jpg`` per image and filter with at least one calibrated
    framelet, stacked as the ISD ``<geometry_dir>/<observation id>.json`` says (exposure order
    without it). Swaths are assembled and block-averaged in ``workers`` threads (numpy releases
    the GIL; each file is independent of the others). Returns the file names written (sorted)
    and the order used per image."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    orders: dict[str, str] = {}
    jobs: list[tuple[str, Mapping[int, np.ndarray], int, bool]] = []
    for im in plan.images:
        obs = observation_id_string(im.uid)
        top = None if geometry_dir is None else later_on_top(Path(geometry_dir) / f"{obs}.json")
        orders[obs] = ("exposure order (no geometry)" if top is None else
                       "last exposure on top" if top else "first exposure on top")
        jobs += [(f"{obs}_{f}.jpg", swaths.get((im.uid, f), {}), im.num_exp, bool(top))
                 for f in sorted(filters)]

    def reduced(job: tuple[str, Mapping[int, np.ndarray], int, bool]) -> np.ndarray | None:
        # the heavy part (swath, block means) in the workers: numpy only
        _, frames, num_exp, on_top = job
        band = swath(frames, num_exp, on_top)
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
    return sorted(names), orders
