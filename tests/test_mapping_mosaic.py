"""Mosaics of successive framelets: analytic scene, overlap rule, thread independence,
one common grid for all bands."""

from __future__ import annotations

from pathlib import Path

import numba
import numpy as np
import pytest
from scipy.ndimage import binary_erosion
from test_mapping_helpers import flown_camera, map_truth, render, shift_estimate

from cassis_pipe.instrument.detector import Window
from cassis_pipe.mapping.mosaic import common_grid, mosaic, mosaic_bands
from cassis_pipe.mapping.mosaic_kernel import stackable
from cassis_pipe.mapping.project import MODE_NEAREST_CENTRE, map_to_image, project_framelet
from cassis_pipe.model import Framelet
from cassis_pipe.parallel import set_threads

STEP_S = 0.7
"""Framelet interval: the flown geometry moves the footprint ~10.4 km/s, a framelet is
~10.7 km long, so successive framelets overlap by ~30 %."""


@pytest.fixture(scope="module")
def strip(data_dir: Path) -> tuple[list[Framelet], object]:
    cams = [flown_camera(data_dir, dt_s=k * STEP_S) for k in range(3)]
    zeros = [Framelet("PAN", 0, np.zeros(c.image_shape(), np.float32), c) for c in cams]
    grid = common_grid([zeros],
                       pixel=20.0, margin_px=2)
    return [Framelet("PAN", k, render(c, grid), c) for k, c in enumerate(cams)], grid


def test_mosaic_reproduces_scene(strip: tuple) -> None:
    frs, grid = strip
    truth, _, _ = map_truth(grid)
    for method in ("nearest_centre", "feather"):
        out = mosaic(frs, grid, method=method)
        ok = np.isfinite(out)
        assert ok.sum() > 500_000
        err = out[ok] - truth[ok]
        assert np.sqrt(np.mean(err**2)) < 0.006
        # the outer half framelet pixel is an edge extension: check the max away from it
        core = binary_erosion(ok, iterations=3)
        assert np.abs(out[core] - truth[core]).max() < 0.03
        dx, dy = shift_estimate(out, grid, ok)
        assert abs(dx) <= 0.1 and abs(dy) <= 0.1


def test_nearest_centre_rule(strip: tuple) -> None:
    """Constant framelets (value = index + 1): each map pixel carries the index of the
    framelet where it is most central, computed independently from the coordinates."""
    frs, grid = strip
    labelled = [f.with_image(np.full(f.image.shape, k + 1.0, np.float32))
                for k, f in enumerate(frs)]
    out = mosaic(labelled, grid, cell=1)
    scores = []
    for f in frs:
        line, sample = map_to_image(grid, f.camera, cell=1)
        nl, ns = f.image.shape
        with np.errstate(invalid="ignore"):
            inside = ((line >= -0.5) & (line < nl - 0.5) & (sample >= -0.5)
                      & (sample < ns - 0.5))
            sc = np.maximum(np.abs(line - (nl - 1) / 2) / (nl / 2),
                            np.abs(sample - (ns - 1) / 2) / (ns / 2))
        scores.append(np.where(inside, sc, np.inf))
    scores = np.array(scores)
    covered = np.isfinite(scores).any(axis=0)
    want = np.argmin(scores, axis=0) + 1.0
    assert np.array_equal(np.isfinite(out), covered)
    assert np.array_equal(out[covered], want[covered])
    overlap = np.isfinite(scores).sum(axis=0) >= 2
    assert overlap.sum() > 50_000
    assert set(np.unique(out[overlap])) == {1.0, 2.0, 3.0}


def test_feather_of_constants_is_constant(strip: tuple) -> None:
    frs, grid = strip
    const = [f.with_image(np.full(f.image.shape, 0.25, np.float32)) for f in frs]
    out = mosaic(const, grid, method="feather")
    ok = np.isfinite(out)
    assert ok.sum() > 500_000
    np.testing.assert_allclose(out[ok], 0.25, rtol=1e-6)


def test_masked_holes_filled_from_neighbour(strip: tuple) -> None:
    frs, grid = strip
    full = mosaic(frs, grid)
    f1 = frs[1]
    mask = np.ones(f1.image.shape, bool)
    mask[-40:] = False  # lines ~170-255 of framelet 1 overlap framelet 0
    holed = [frs[0], f1.with_image(f1.image, mask), frs[2]]
    out = mosaic(holed, grid)
    alone1 = mosaic([f1.with_image(f1.image, mask)], grid)
    alone0 = mosaic([frs[0]], grid)
    lost = np.isfinite(full) & ~np.isfinite(out)
    assert not (~np.isfinite(full) & np.isfinite(out)).any()
    # pixels hidden by the mask are lost only where framelet 0 does not cover them either
    assert lost.sum() > 0 and not (lost & np.isfinite(alone0)).any()
    refilled = np.isfinite(full) & ~np.isfinite(alone1) & np.isfinite(alone0)
    assert refilled.sum() > 5_000 and np.isfinite(out[refilled]).all()


def test_thread_count_does_not_change_bytes(strip: tuple) -> None:
    frs, grid = strip
    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba started with one thread")
    before = numba.get_num_threads()
    try:
        results = {}
        for n in (1, 2):
            set_threads(n)
            results[n] = (mosaic(frs, grid).tobytes(),
                          mosaic(frs, grid, method="feather", order=3).tobytes())
    finally:
        set_threads(before)
    assert results[1] == results[2]


def test_bands_on_one_grid(data_dir: Path) -> None:
    """RED and BLU strips (different detector rows, so different ground) share one grid; a
    band's own grid would be a window of it."""
    bands = {}
    for name, w in (("RED", Window("RED", 712, 967, 768, 1279)),
                    ("BLU", Window("BLU", 1409, 1664, 768, 1279, binning=2))):
        cam = flown_camera(data_dir, window=w)
        bands[name] = [Framelet(name, 0, np.ones(cam.image_shape(), np.float32), cam)]
    grid, maps = mosaic_bands(bands, pixel=40.0)
    assert set(maps) == {"RED", "BLU"}
    for m in maps.values():
        assert m.shape == grid.shape and np.isfinite(m).sum() > 10_000
    # the two strips image different ground at the same instant
    both = np.isfinite(maps["RED"]) & np.isfinite(maps["BLU"])
    assert both.sum() < 0.5 * np.isfinite(maps["RED"]).sum()
    with pytest.raises(ValueError):
        mosaic(bands["RED"], grid, method="median")


@pytest.mark.parametrize(("order", "cell", "masked"), [(1, 16, False), (3, 1, True)])
def test_one_pass_equals_framelet_by_framelet(strip: tuple, order: int, cell: int,
                                              masked: bool) -> None:
    """The one-pass kernel gives the bytes of resampling the framelets one after the other
    into full-grid value and score arrays (float64, then float32)."""
    frs, grid = strip
    if masked:
        rng = np.random.default_rng(2)
        frs = [f.with_image(f.image, rng.random(f.image.shape) > 0.05) for f in frs]
    out = np.full(grid.shape, np.nan)
    aux = np.full(grid.shape, np.inf)
    for f in frs:
        project_framelet(f.image, f.camera, grid, out, aux, MODE_NEAREST_CENTRE, f.mask, order,
                         0.0, cell)
    one = mosaic(frs, grid, order=order, cell=cell)
    assert one.dtype == np.float32 and one.tobytes() == out.astype(np.float32).tobytes()
    assert stackable([(f.image, f.camera, f.mask) for f in frs])
    mixed = [(frs[0].image, frs[0].camera, None), (frs[1].image, frs[1].camera,
                                                    np.ones(frs[1].image.shape, bool))]
    assert not stackable(mixed)
