"""Optics: IAK values, distortion model, pixel <-> ray round trips."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.optics import Optics, default_optics


@pytest.fixture(scope="module")
def optics(kernels_dir: Path) -> Optics:
    return Optics.from_kernel(kernels_dir / "tgoCassisAddendum007.ti")


def _grid(n: int = 65) -> tuple[np.ndarray, np.ndarray]:
    v = np.linspace(-0.5, 2047.5, n)
    return np.meshgrid(v, v, indexing="ij")


def test_iak_values(optics: Optics, data_dir: Path) -> None:
    assert optics.focal_length_mm == 874.9
    assert optics.pixel_pitch_mm == 0.010
    assert optics.boresight_line == optics.boresight_sample == 1023.5
    assert optics.corr.shape == optics.dist.shape == (3, 6)
    assert optics.corr[2, 5] == 1.0
    d = default_optics()
    np.testing.assert_array_equal(d.corr, optics.corr)
    np.testing.assert_array_equal(d.dist, optics.dist)
    isd = read_isd(data_dir / "geometry" / "CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1_isd.json")
    from_isd = Optics.from_pool(isd.naif_keywords)
    np.testing.assert_array_equal(from_isd.corr, optics.corr)
    assert from_isd.focal_length_mm == isd.focal_length_mm
    # IFOV against the Bern label value 1.140e-5 rad/px
    assert optics.ifov_rad == pytest.approx(1.143e-5, abs=5e-9)


def test_undistort_formula_by_hand(optics: Optics) -> None:
    x, y = 7.3, -4.1
    chi = np.array([x * x, x * y, y * y, x, y, 1.0])
    u, v = optics.undistort(np.array(x), np.array(y))
    c = optics.corr
    assert u == pytest.approx(c[0] @ chi / (c[2] @ chi), rel=1e-14)
    assert v == pytest.approx(c[1] @ chi / (c[2] @ chi), rel=1e-14)


def test_round_trip_whole_detector(optics: Optics) -> None:
    line, sample = _grid()
    rays = optics.pixel_to_ray(line, sample)
    assert rays.shape == line.shape + (3,)
    np.testing.assert_allclose(np.linalg.norm(rays, axis=-1), 1.0, atol=1e-14)
    l2, s2 = optics.ray_to_pixel(rays)
    assert np.hypot(l2 - line, s2 - sample).max() < 1e-3


def test_published_dist_is_not_exact_inverse(optics: Optics) -> None:
    """DIST alone is ~0.02 px from the CORR inverse at the corners; Newton fixes it."""
    line, sample = _grid(33)
    x, y = optics.pixel_to_focal(line, sample)
    u, v = optics.undistort(x, y)
    xd, yd = optics.distort(u, v, exact=False)
    err_px = np.hypot(xd - x, yd - y) / optics.pixel_pitch_mm
    assert 0.01 < err_px.max() < 0.03
    xe, ye = optics.distort(u, v, exact=True)
    assert np.hypot(xe - x, ye - y).max() / optics.pixel_pitch_mm < 1e-6
    no_newton = dataclasses.replace(optics, newton_iterations=0)
    l2, s2 = no_newton.ray_to_pixel(optics.pixel_to_ray(line, sample))
    assert np.hypot(l2 - line, s2 - sample).max() > 0.01


@settings(max_examples=100, deadline=None)
@given(line=st.floats(-0.5, 2047.5), sample=st.floats(-0.5, 2047.5))
def test_round_trip_random(line: float, sample: float) -> None:
    o = default_optics()
    ray = o.pixel_to_ray(np.array([line]), np.array([sample]))
    l2, s2 = o.ray_to_pixel(ray)
    assert abs(l2[0] - line) < 1e-3 and abs(s2[0] - sample) < 1e-3


def test_field_of_view_and_axes(optics: Optics) -> None:
    centre = optics.pixel_to_ray(np.array(1023.5), np.array(1023.5))
    # the distortion model shifts the centre by ~2 px: still within 3e-5 rad of +Z
    assert np.degrees(np.arccos(centre[2])) < 0.0025
    left = optics.pixel_to_ray(np.array(1023.5), np.array(-0.5))
    right = optics.pixel_to_ray(np.array(1023.5), np.array(2047.5))
    full = np.degrees(np.arccos(left @ right))
    assert full == pytest.approx(1.341, abs=0.01)  # IK: full FoV 1.341 deg
    # +sample -> +X_fsa, +line -> +Y_fsa (ISIS TRANSX/TRANSY)
    assert right[0] > 0 > left[0]
    down = optics.pixel_to_ray(np.array(2047.5), np.array(1023.5))
    assert down[1] > 0


def test_behind_camera_is_nan(optics: Optics) -> None:
    line, sample = optics.ray_to_pixel(np.array([[0.0, 0.0, -1.0], [0.01, 0.0, 0.0]]))
    assert np.isnan(line).all() and np.isnan(sample).all()
