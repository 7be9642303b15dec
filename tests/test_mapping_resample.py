"""Inverse-mapping resampler on the flown ISD camera: analytic scene, geolocation, nodata,
masks, interpolation kernels, node interpolation of the camera model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.ndimage import map_coordinates
from test_mapping_helpers import flown_camera, map_truth, render, shift_estimate

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.imaging.resample import interpolate
from cassis_pipe.mapping.grid import MapGrid, grid_for_footprints
from cassis_pipe.mapping.project import (
    footprint_outline,
    map_to_image,
    resample_framelet,
    row_spans,
)


@pytest.fixture(scope="module")
def setup(data_dir: Path) -> tuple[FrameCamera, MapGrid, np.ndarray]:
    cam = flown_camera(data_dir)
    grid = grid_for_footprints([footprint_outline(cam)], pixel=20.0, margin_px=3)
    return cam, grid, render(cam, grid)


@pytest.fixture(scope="module")
def exact_coords(setup: tuple) -> tuple[np.ndarray, np.ndarray]:
    cam, grid, _ = setup
    return map_to_image(grid, cam, spans=False, cell=1)


def _interior(line: np.ndarray, sample: np.ndarray, shape: tuple[int, int], m: float = 0.0
              ) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return ((line >= m) & (line <= shape[0] - 1 - m) & (sample >= m)
                & (sample <= shape[1] - 1 - m))


def test_analytic_scene_reproduced(setup: tuple, exact_coords: tuple) -> None:
    cam, grid, img = setup
    line, sample = exact_coords
    ok = _interior(line, sample, img.shape)
    assert ok.sum() > 200_000
    truth, _, _ = map_truth(grid)
    for order, rms_max in ((1, 0.006), (3, 0.001)):
        out = resample_framelet(img, cam, grid, order=order)
        assert out.dtype == np.float32 and out.shape == grid.shape
        assert np.isfinite(out[ok]).all()
        err = out[ok] - truth[ok]
        assert np.sqrt(np.mean(err**2)) < rms_max
        assert np.abs(err).max() < 0.02
        dx, dy = shift_estimate(out, grid, ok)
        assert abs(dx) <= 0.1 and abs(dy) <= 0.1


def test_geolocation_error_is_detected(setup: tuple, exact_coords: tuple) -> None:
    """A half-pixel sampling error in the framelet moves the map by about a map pixel: the
    shift estimator of the test above would catch a broken geometry chain."""
    cam, grid, img = setup
    ok = _interior(*exact_coords, img.shape, 1.0)
    out = resample_framelet(render(cam, grid, shift_lines=0.5), cam, grid)
    dx, dy = shift_estimate(out, grid, ok)
    assert np.hypot(dx, dy) > 0.5


def test_nodata_outside_and_no_pixel_lost(setup: tuple, exact_coords: tuple) -> None:
    cam, grid, img = setup
    line, sample = exact_coords
    exact = resample_framelet(img, cam, grid, cell=1)
    out = resample_framelet(img, cam, grid)
    with np.errstate(invalid="ignore"):
        outside = ~((line >= -0.5) & (line < img.shape[0] - 0.5) & (sample >= -0.5)
                    & (sample < img.shape[1] - 0.5))
        far = ~((line >= -0.51) & (line < img.shape[0] - 0.49) & (sample >= -0.51)
                & (sample < img.shape[1] - 0.49))
    assert outside.sum() > 100_000
    assert np.isnan(exact[outside]).all() and np.isfinite(exact[~outside]).all()
    assert np.isnan(out[far]).all()
    # every map pixel whose centre falls inside the framelet is filled (spans lose nothing),
    # except within 1e-3 px of the edge where node interpolation may round either way
    inside = _interior(line, sample, img.shape, -0.499)
    assert np.isfinite(out[inside]).all()
    # a corner of the grid is far from the footprint
    assert np.isnan(out[0, 0]) and np.isnan(out[-1, -1])


def test_mask_and_nan_become_nodata(setup: tuple, exact_coords: tuple) -> None:
    cam, grid, img = setup
    line, sample = exact_coords
    mask = np.ones(img.shape, bool)
    mask[100:120, 200:260] = False
    img2 = img.copy()
    img2[30, 40] = np.nan
    out = resample_framelet(img2, cam, grid, mask=mask)
    with np.errstate(invalid="ignore"):
        in_hole = (line >= 100) & (line <= 119) & (sample >= 200) & (sample <= 259)
        near_nan = (np.abs(line - 30) < 1) & (np.abs(sample - 40) < 1)
        clear = _interior(line, sample, img.shape) & ~(
            (line > 98.99) & (line < 120.01) & (sample > 198.99) & (sample < 260.01)) & ~(
            (np.abs(line - 30) < 1.01) & (np.abs(sample - 40) < 1.01))
    assert in_hole.sum() > 500 and near_nan.sum() > 0
    assert np.isnan(out[in_hole]).all() and np.isnan(out[near_nan]).all()
    assert np.isfinite(out[clear]).all()
    with pytest.raises(ValueError):
        resample_framelet(img, cam, grid, mask=mask[:-1])
    with pytest.raises(ValueError):
        resample_framelet(img, cam, grid, order=2)
    with pytest.raises(ValueError):
        resample_framelet(img[:, :100], cam, grid)


def test_node_interpolated_camera_model_matches_exact(setup: tuple, exact_coords: tuple
                                                      ) -> None:
    cam, grid, img = setup
    line, sample = exact_coords
    for cell, tol in ((8, 1e-3), (16, 5e-3)):
        l2, s2 = map_to_image(grid, cam, spans=False, cell=cell)
        both = np.isfinite(line) & np.isfinite(l2)
        assert (np.isfinite(line) == np.isfinite(l2)).all()
        assert np.abs(l2[both] - line[both]).max() < tol
        assert np.abs(s2[both] - sample[both]).max() < tol


def test_ground_to_image_matches_camera(setup: tuple, exact_coords: tuple) -> None:
    """The fused per-pixel kernel agrees with FrameCamera.ground_to_image."""
    cam, grid, img = setup
    line, sample = exact_coords
    i, j = np.meshgrid(np.arange(0, grid.lines, 37), np.arange(0, grid.samples, 41),
                       indexing="ij")
    lat, lon = grid.index_to_latlon(i, j)
    from cassis_pipe.geometry.ellipsoid import surface_point

    l_ref, s_ref = cam.ground_to_image(surface_point(lat, lon))
    np.testing.assert_allclose(line[i, j], l_ref, atol=1e-7)
    np.testing.assert_allclose(sample[i, j], s_ref, atol=1e-7)


def test_height_moves_the_map(setup: tuple) -> None:
    """A constant 1 km height shifts an oblique (50 deg off-nadir) view by ~tan(e) km."""
    cam, grid, img = setup
    l0, s0 = map_to_image(grid, cam, spans=False)
    l1, s1 = map_to_image(grid, cam, spans=False, height_km=1.0)
    ok = np.isfinite(l0) & np.isfinite(l1)
    shift_px = np.hypot(l1 - l0, s1 - s0)[ok]
    assert 10.0 < np.median(shift_px) < 80.0


def test_interpolate_matches_scipy_bilinear() -> None:
    rng = np.random.default_rng(1)
    img = rng.random((40, 60)).astype(np.float32)
    li = rng.uniform(0, 39, (50, 70))
    si = rng.uniform(0, 59, (50, 70))
    ours = interpolate(img, li, si)
    ref = map_coordinates(img.astype(np.float64), [li, si], order=1)
    np.testing.assert_allclose(ours, ref, atol=1e-6)
    # exact at pixel centres for both orders; outside -> NaN; half-pixel border clamped
    ii, jj = np.meshgrid(np.arange(40.0), np.arange(60.0), indexing="ij")
    assert np.array_equal(interpolate(img, ii, jj), img)
    assert np.array_equal(interpolate(img, ii, jj, order=3), img)
    edge = interpolate(img, np.array([[-0.5, -0.51, 39.49, 39.5]]), np.zeros((1, 4)))
    assert edge[0, 0] == img[0, 0] and np.isnan(edge[0, 1])
    assert edge[0, 2] == img[39, 0] and np.isnan(edge[0, 3])


@settings(max_examples=50, deadline=None)
@given(a=st.floats(-3, 3), b=st.floats(-3, 3), c=st.floats(-3, 3),
       pts=st.lists(st.tuples(st.floats(1.0, 28.0), st.floats(1.0, 18.0)), min_size=1,
                    max_size=20))
def test_interpolation_reproduces_linear_fields(a: float, b: float, c: float,
                                                pts: list[tuple[float, float]]) -> None:
    """Bilinear and bicubic (Keys) interpolation are exact on linear functions."""
    ii, jj = np.meshgrid(np.arange(30.0), np.arange(20.0), indexing="ij")
    img = (a * ii + b * jj + c).astype(np.float32)
    p = np.array(pts).T[:, None, :]
    want = a * p[0] + b * p[1] + c
    for order in (1, 3):
        got = interpolate(img, p[0], p[1], order=order)
        np.testing.assert_allclose(got, want, atol=2e-4)


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(3, 12))
def test_row_spans_cover_polygon(seed: int, n: int) -> None:
    """Every map pixel whose centre is inside a random convex polygon lies in its row span."""
    rng = np.random.default_rng(seed)
    ang = np.sort(rng.uniform(0, 2 * np.pi, n))
    cl, cs, rl, rs = rng.uniform(5, 45), rng.uniform(5, 45), rng.uniform(1, 30), \
        rng.uniform(1, 30)
    pl = cl + rl * np.sin(ang)
    ps = cs + rs * np.cos(ang)
    lo, hi = row_spans(pl, ps, 50, 50, 0.0)
    ii, jj = np.meshgrid(np.arange(50), np.arange(50), indexing="ij")
    inside = np.ones((50, 50), bool)
    for k in range(n):
        l0, s0, l1, s1 = pl[k], ps[k], pl[(k + 1) % n], ps[(k + 1) % n]
        inside &= (s1 - s0) * (ii - l0) - (l1 - l0) * (jj - s0) <= 0
    covered = (jj >= lo[:, None]) & (jj < hi[:, None])
    assert not (inside & ~covered).any()


def test_dem_on_grid(setup: tuple) -> None:
    """A per-pixel height map equal to a constant gives the constant-height result (exact
    camera model); a NaN height is nodata; a wrongly shaped map is refused."""
    cam, grid, img = setup
    flat = resample_framelet(img, cam, grid, height_km=0.5, cell=1)
    dem = np.full(grid.shape, 0.5)
    dem[:, :10] = np.nan
    out = resample_framelet(img, cam, grid, height_km=dem)
    assert np.array_equal(out[:, 10:], flat[:, 10:], equal_nan=True)
    assert np.isnan(out[:, :10]).all()
    with pytest.raises(ValueError):
        resample_framelet(img, cam, grid, height_km=dem[1:])
