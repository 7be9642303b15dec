"""Mars ellipsoid: ray intersection, lat/lon conversions, DEM refinement."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.geometry.ellipsoid import (
    MARS_A_KM,
    MARS_C_KM,
    ellipsoid_radius,
    grid_height,
    intersect_dem,
    intersect_rays,
    latlon_to_xyz,
    surface_normal,
    surface_point,
    xyz_to_latlon,
)


@settings(max_examples=100, deadline=None)
@given(lat=st.floats(-89.9, 89.9), lon=st.floats(0.0, 359.999), r=st.floats(3000.0, 8000.0))
def test_latlon_round_trip(lat: float, lon: float, r: float) -> None:
    lat2, lon2, r2 = xyz_to_latlon(latlon_to_xyz(lat, lon, r))
    assert lat2 == pytest.approx(lat, abs=1e-9)
    assert (lon2 - lon + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-9)
    assert 0.0 <= lon2 < 360.0
    assert r2 == pytest.approx(r, rel=1e-12)


def test_east_positive_longitude() -> None:
    _, lon, _ = xyz_to_latlon(np.array([[0.0, 1.0, 0.0], [0.0, -1.0, 0.0]]))
    np.testing.assert_allclose(lon, [90.0, 270.0])


@settings(max_examples=60, deadline=None)
@given(lat=st.floats(-80, 80), lon=st.floats(0, 360), h=st.floats(300, 2000),
       tilt=st.floats(0, 40), az=st.floats(0, 360))
def test_intersection_on_surface_and_nearest(lat: float, lon: float, h: float, tilt: float,
                                             az: float) -> None:
    target = surface_point(lat, lon)
    up = surface_normal(target)
    east = np.cross([0, 0, 1.0], up)
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    t, a = np.radians(tilt), np.radians(az)
    d_up = np.cos(t) * up + np.sin(t) * (np.cos(a) * north + np.sin(a) * east)
    origin = target + h * d_up
    hit = intersect_rays(origin, -d_up[None, :], MARS_A_KM, MARS_C_KM)[0]
    np.testing.assert_allclose(hit, target, atol=1e-6)


def test_miss_and_inside() -> None:
    origin = np.array([10000.0, 0.0, 0.0])
    out = intersect_rays(origin, np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]), MARS_A_KM,
                         MARS_C_KM)
    assert np.isnan(out[0]).all()
    np.testing.assert_allclose(out[1], [MARS_A_KM, 0, 0], atol=1e-9)
    inside = intersect_rays(np.zeros(3), np.array([[0.0, 0.0, 1.0]]), MARS_A_KM, MARS_C_KM)
    np.testing.assert_allclose(inside[0], [0, 0, MARS_C_KM], atol=1e-9)


def test_radius_and_normal() -> None:
    assert ellipsoid_radius(0.0) == pytest.approx(MARS_A_KM)
    assert ellipsoid_radius(90.0) == pytest.approx(MARS_C_KM)
    n = surface_normal(np.array([[MARS_A_KM, 0, 0], [0, 0, MARS_C_KM]]))
    np.testing.assert_allclose(n, [[1, 0, 0], [0, 0, 1]], atol=1e-15)


def _rays(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    origin = latlon_to_xyz(20.0, 45.0, 4200.0)
    target = surface_point(20.0 + rng.uniform(-3, 3, n), 45.0 + rng.uniform(-3, 3, n))
    d = target - origin
    return origin, d / np.linalg.norm(d, axis=1, keepdims=True)


def test_dem_constant_height() -> None:
    origin, dirs = _rays()
    pts = intersect_dem(origin, dirs, lambda lat, lon: np.full(np.shape(lat), 2.5))
    lat, _, r = xyz_to_latlon(pts)
    np.testing.assert_allclose(r, ellipsoid_radius(lat) + 2.5, atol=1e-6)
    flat = intersect_dem(origin, dirs, lambda lat, lon: np.zeros(np.shape(lat)))
    np.testing.assert_allclose(flat, intersect_rays(origin, dirs, MARS_A_KM, MARS_C_KM),
                               atol=1e-9)


def test_dem_grid() -> None:
    lats = np.arange(10.0, 30.01, 0.25)
    lons = np.arange(35.0, 55.01, 0.25)
    grid = 3.0 * np.sin(np.radians(lats * 40))[:, None] * np.cos(np.radians(lons * 30))[None, :]
    fn = grid_height(grid, 10.0, 35.0, 0.25, 0.25)
    origin, dirs = _rays()
    pts = intersect_dem(origin, dirs, fn)
    assert np.isfinite(pts).all()
    lat, lon, r = xyz_to_latlon(pts)
    np.testing.assert_allclose(r, ellipsoid_radius(lat) + fn(lat, lon), atol=1e-6)
    # points are on the rays
    v = pts - origin
    np.testing.assert_allclose(np.cross(v, dirs), 0.0, atol=1e-6)
    assert np.isnan(fn(np.array([50.0]), np.array([40.0]))).all()
