"""Benchmark: cassis-pipe resampler vs scipy.ndimage.map_coordinates (order=1).

Two comparisons on the same map grid (flown ISD camera, full RED window 256 x 2048):

1. interpolation only, from the same precomputed (line, sample) coordinates (all grid
   pixels, then only those inside the framelet);
2. end to end with geometry: ours (``resample_framelet``: footprint spans, node-interpolated
   camera model, fused kernel) vs the straightforward pipeline (``grid.pixel_latlon`` ->
   ``surface_point`` -> ``FrameCamera.ground_to_image`` (numba) -> ``map_coordinates``).

Usage: ``python benchmarks/bench_resample.py [--pixel 10] [--repeat 3] [--threads N]``.
Times are medians (s) after one warm-up call (numba compilation excluded).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
from scipy.ndimage import map_coordinates

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cassis_pipe.geometry.camera import FrameCamera  # noqa: E402
from cassis_pipe.geometry.ellipsoid import surface_point  # noqa: E402
from cassis_pipe.geometry.isd import read_isd  # noqa: E402
from cassis_pipe.imaging.resample import interpolate  # noqa: E402
from cassis_pipe.instrument.detector import Window  # noqa: E402
from cassis_pipe.mapping.grid import MapGrid, grid_for_footprints  # noqa: E402
from cassis_pipe.mapping.project import (  # noqa: E402
    footprint_outline,
    map_to_image,
    resample_framelet,
)
from cassis_pipe.parallel import set_threads  # noqa: E402

ISD = ROOT / "tests/data/geometry/CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1_isd.json"


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time (s) of ``repeat`` calls after one warm-up; last result."""
    res = fn()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        res = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), res


def scipy_end_to_end(img: np.ndarray, cam: FrameCamera, grid: MapGrid) -> np.ndarray:
    """Baseline: every grid pixel through the vectorised camera, then map_coordinates."""
    lat, lon = grid.pixel_latlon()
    a, c = cam.radii_km
    line, sample = cam.ground_to_image(surface_point(lat, lon, 0.0, a, c))
    return scipy_interp(img, line, sample)


def scipy_interp(img: np.ndarray, line: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """map_coordinates order 1 with NaN outside (NaN coordinates sent far outside)."""
    li = np.where(np.isfinite(line), line, -10.0)
    si = np.where(np.isfinite(sample), sample, -10.0)
    return map_coordinates(img, [li, si], order=1, mode="constant", cval=np.nan)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pixel", type=float, default=10.0, help="map pixel size, m")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    threads = set_threads(args.threads)

    cam = FrameCamera.from_isd(read_isd(ISD), window=Window.default("RED"))
    img = np.random.default_rng(0).random(cam.image_shape()).astype(np.float32)
    grid = grid_for_footprints([footprint_outline(cam)], pixel=args.pixel)
    line, sample = map_to_image(grid, cam, spans=False, cell=1)
    n_in = int(np.isfinite(interpolate(img, line, sample)).sum())
    print(f"numba threads {threads}/{numba.config.NUMBA_NUM_THREADS}; grid {grid.lines} x "
          f"{grid.samples} = {grid.lines * grid.samples / 1e6:.1f} Mpx at {args.pixel} m; "
          f"framelet {img.shape}, {n_in / 1e6:.2f} Mpx inside the footprint")

    t_ours, a = timed(lambda: interpolate(img, line, sample), args.repeat)
    t_ref, b = timed(lambda: scipy_interp(img, line, sample), args.repeat)
    ok = np.isfinite(a) & np.isfinite(b)
    print(f"1. precomputed coordinates: ours {t_ours:.3f} s, map_coordinates {t_ref:.3f} s, "
          f"speed-up {t_ref / t_ours:.1f}x (max |diff| {np.abs(a[ok] - b[ok]).max():.2e})")

    inside = np.isfinite(interpolate(img, line, sample))
    li, si = line[inside][None, :], sample[inside][None, :]
    t_ours, a = timed(lambda: interpolate(img, li, si), args.repeat)
    t_ref, b = timed(lambda: scipy_interp(img, li, si), args.repeat)
    ok = np.isfinite(a) & np.isfinite(b)
    print(f"1b. only the {li.size / 1e6:.2f} M coordinates inside the framelet: ours "
          f"{t_ours:.3f} s, map_coordinates {t_ref:.3f} s, speed-up {t_ref / t_ours:.1f}x")

    t_ours, a = timed(lambda: resample_framelet(img, cam, grid), args.repeat)
    t_exact, _ = timed(lambda: resample_framelet(img, cam, grid, cell=1), args.repeat)
    t_ref, b = timed(lambda: scipy_end_to_end(img, cam, grid), args.repeat)
    ok = np.isfinite(a) & np.isfinite(b)
    print(f"2. end to end with geometry: ours {t_ours:.3f} s (exact camera at every pixel "
          f"{t_exact:.3f} s), camera + map_coordinates {t_ref:.3f} s, speed-up "
          f"{t_ref / t_ours:.1f}x (exact: {t_ref / t_exact:.1f}x); max |diff| "
          f"{np.abs(a[ok] - b[ok]).max():.2e}, same footprint: "
          f"{int(np.isfinite(a).sum())} vs {int(np.isfinite(b).sum())} px")


if __name__ == "__main__":
    main()
