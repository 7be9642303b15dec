"""Resampling at the TGO science-orbit scale (4 m grid) in the awkward places: across the
0/360 E meridian, in polar stereographic, and at the 65 deg switch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_mapping_helpers import map_truth, nadir_camera, render, shift_estimate

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.imaging.resample import interpolate
from cassis_pipe.mapping.grid import grid_for_footprints
from cassis_pipe.mapping.mosaic import footprint, mosaic
from cassis_pipe.mapping.project import (
    footprint_outline,
    map_to_image,
    resample_framelet,
    row_spans,
)
from cassis_pipe.mapping.projections import EQUIRECTANGULAR, POLAR_STEREOGRAPHIC
from cassis_pipe.model import Framelet


@pytest.mark.parametrize(("lat", "lon", "yaw", "kind"), [
    (10.0, 0.0, 15.0, EQUIRECTANGULAR),     # straddles 0/360 E
    (-64.0, 200.0, -30.0, EQUIRECTANGULAR),
    (75.0, 359.99, 40.0, POLAR_STEREOGRAPHIC),
    (-88.0, 123.0, 0.0, POLAR_STEREOGRAPHIC),
])
def test_scene_at_4m(lat: float, lon: float, yaw: float, kind: str) -> None:
    cam = nadir_camera(lat, lon, yaw_deg=yaw)
    grid = grid_for_footprints([footprint_outline(cam)], pixel=4.0, margin_px=2)
    assert grid.projection.kind == kind
    assert grid.lines * grid.samples < 1_500_000  # contiguous even across 0/360 E
    img = render(cam, grid)
    out = resample_framelet(img, cam, grid)
    line, sample = map_to_image(grid, cam, spans=False, cell=1)
    with np.errstate(invalid="ignore"):
        ok = (line >= 0) & (line <= img.shape[0] - 1) & (sample >= 0) & (
            sample <= img.shape[1] - 1)
    assert ok.sum() > 50_000 and np.isfinite(out[ok]).all()
    truth, _, _ = map_truth(grid)
    err = out[ok] - truth[ok]
    assert np.sqrt(np.mean(err**2)) < 1e-3  # ~4.6 m pixels, 700 m wavelength
    dx, dy = shift_estimate(out, grid, ok)
    assert abs(dx) <= 0.1 and abs(dy) <= 0.1


def test_mosaic_across_zero_meridian() -> None:
    """Two framelets left and right of 0 E land side by side on one contiguous grid."""
    cams = [nadir_camera(5.0, lon, window=None) for lon in (359.98, 0.02)]
    frs = [Framelet("PAN", k, np.full(c.image_shape(), k + 1.0, np.float32), c)
           for k, c in enumerate(cams)]
    grid = grid_for_footprints([footprint(f) for f in frs], pixel=8.0)
    assert grid.samples < 3000
    out = mosaic(frs, grid)
    assert {1.0, 2.0} <= set(np.unique(out[np.isfinite(out)]))


def test_camera_looking_away_gives_nodata_not_a_crash() -> None:
    cam = nadir_camera(10.0, 20.0)
    grid = grid_for_footprints([footprint_outline(cam)], pixel=8.0)
    away = FrameCamera(et=0.0, position_km=cam.position_km, velocity_kms=cam.velocity_kms,
                       tel_from_bf=-cam.tel_from_bf, fsa_from_tel=np.eye(3),
                       sun_position_km=cam.sun_position_km, optics=cam.optics,
                       window=cam.window)
    assert not np.isfinite(footprint_outline(away)).any()
    out = resample_framelet(np.ones(cam.image_shape(), np.float32), away, grid)
    assert np.isnan(out).all()
    # a grid far away from the footprint: nothing to do, all nodata
    far = grid_for_footprints([np.array([[200.0, -40.0], [200.1, -39.9]])], pixel=20.0)
    assert np.isnan(resample_framelet(np.ones(cam.image_shape(), np.float32), cam, far)).all()


@settings(max_examples=200, deadline=None)
@given(vals=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=2,
                     max_size=40))
def test_interpolate_fuzz(vals: list[float]) -> None:
    """Any coordinates (NaN, inf, huge): no crash, finite only inside the pixel area."""
    img = np.arange(12.0, dtype=np.float32).reshape(3, 4)
    v = np.array(vals[: len(vals) // 2 * 2]).reshape(2, -1)
    for order in (1, 3):
        out = interpolate(img, v[0], v[1], order=order)
        with np.errstate(invalid="ignore"):
            inside = (v[0] >= -0.5) & (v[0] < 2.5) & (v[1] >= -0.5) & (v[1] < 3.5)
        assert np.array_equal(np.isfinite(out), inside)


@settings(max_examples=100, deadline=None)
@given(pts=st.lists(st.tuples(st.floats(-1e30, 1e30), st.floats(-1e30, 1e30)), min_size=1,
                    max_size=8))
def test_row_spans_fuzz(pts: list[tuple[float, float]]) -> None:
    pl, ps = (np.array(c, dtype=np.float64) for c in zip(*pts, strict=True))
    lo, hi = row_spans(pl, ps, 20, 30, 2.0)
    assert ((0 <= lo) & (lo <= hi) & (hi <= 30)).all()
