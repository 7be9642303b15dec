"""FrameCamera on the real flown ISD: off-nadir angle, round trips, windows, rotation offset."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import xyz_to_latlon
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.detector import Window
from cassis_pipe.instrument.frames import frame_rotation

ISD = "CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1_isd.json"


@pytest.fixture(scope="module")
def cam(data_dir: Path) -> FrameCamera:
    return FrameCamera.from_isd(read_isd(data_dir / "geometry" / ISD))


def _label_value(data_dir: Path, key: str) -> float:
    text = (data_dir / "geometry" / ISD.replace("_isd.json", "_isis.lbl")).read_text()
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(key + " "))
    return float(line.split("=")[1].split("<")[0])


def test_off_nadir_matches_isis_label(cam: FrameCamera, data_dir: Path) -> None:
    expected = _label_value(data_dir, "CassisOffNadirAngle")
    assert expected == 50.470
    assert cam.off_nadir_angle() == pytest.approx(expected, abs=0.05)


def test_ground_track_velocity_matches_label(cam: FrameCamera, data_dir: Path) -> None:
    expected = _label_value(data_dir, "GroundTrackVelocity")
    assert cam.ground_track_velocity() == pytest.approx(expected, abs=0.005)


def test_round_trip_over_detector(cam: FrameCamera) -> None:
    v = np.linspace(-0.5, 2047.5, 129)
    line, sample = np.meshgrid(v, v, indexing="ij")
    xyz = cam.image_to_ground(line, sample)
    assert np.isfinite(xyz).all()
    lat, lon, r = xyz_to_latlon(xyz)
    a, c = cam.radii_km
    np.testing.assert_allclose((xyz[..., :2] ** 2).sum(-1) / a**2 + xyz[..., 2] ** 2 / c**2, 1.0,
                               atol=1e-12)
    l2, s2 = cam.ground_to_image(xyz)
    assert np.hypot(l2 - line, s2 - sample).max() <= 0.01


def test_boresight_ground_is_plausible(cam: FrameCamera) -> None:
    """Optical-axis ground point: on the day side, emission angle consistent with the off-nadir
    angle by the law of sines, a few hundred km from the sub-spacecraft point."""
    g = cam.boresight_ground()
    inc, emi, pha = cam.illumination_angles(g)
    r_sc = np.linalg.norm(cam.position_km)
    r_g = np.linalg.norm(g)
    # triangle Mars centre / spacecraft / ground point: sin(e) = |r_sc| / |r_g| * sin(off-nadir)
    e_radial = np.degrees(np.arcsin(r_sc / r_g * np.sin(np.radians(cam.off_nadir_angle()))))
    assert float(emi) == pytest.approx(e_radial, abs=0.5)  # ellipsoid normal vs radial
    assert 0.0 < float(inc) < 90.0 and 0.0 < float(pha) < 180.0
    lat_s, lon_s = cam.sub_spacecraft_point()
    lat_g, lon_g, _ = xyz_to_latlon(g)
    dist = np.linalg.norm(g - cam.position_km / r_sc * r_g)
    assert 200.0 < dist < 1500.0
    assert -90 <= lat_g <= 90 and 0 <= lon_g < 360 and 0 <= lon_s < 360


def test_window_coordinates(cam: FrameCamera) -> None:
    w = Window("NIR", 1048, 1303, 128, 1919, binning=2)
    cw = cam.with_window(w)
    assert cw.image_shape() == (128, 896)
    li, si = w.pixel_centres()
    g_win = cw.image_to_ground(li * 0 + np.arange(128)[:, None], si * 0 + np.arange(896)[None, :])
    g_det = cam.image_to_ground(li, si)
    np.testing.assert_allclose(g_win, g_det, atol=1e-9)
    l2, s2 = cw.ground_to_image(g_win)
    np.testing.assert_allclose(l2, np.arange(128)[:, None] + 0 * s2, atol=1e-3)
    np.testing.assert_allclose(s2, np.arange(896)[None, :] + 0 * l2, atol=1e-3)
    # the optical axis is at detector 1023.5, 1023.5 whatever the window
    np.testing.assert_allclose(cw.boresight_ground(), cam.boresight_ground(), atol=1e-9)


def test_rotation_offset(cam: FrameCamera) -> None:
    assert np.array_equal(cam.with_rotation_offset(0.0).fsa_from_bf, cam.fsa_from_bf)
    np.testing.assert_allclose(cam.with_rotation_offset(360.0).fsa_from_bf, cam.fsa_from_bf,
                               atol=1e-13)
    axis = cam.rotation_axis_bf
    for delta in (-3.0, 0.05, 10.0):
        rot = cam.with_rotation_offset(delta)
        np.testing.assert_allclose(rot.rotation_axis_bf, axis, atol=1e-15)
        # optical axis keeps its ~10 deg cone angle around the mechanism axis
        cone = np.degrees(np.arccos(rot.bf_from_fsa[:, 2] @ axis))
        assert cone == pytest.approx(9.995, abs=1e-6)
        # and moves round the cone by delta (azimuth about the axis)
        p0 = cam.bf_from_fsa[:, 2] - (cam.bf_from_fsa[:, 2] @ axis) * axis
        p1 = rot.bf_from_fsa[:, 2] - (rot.bf_from_fsa[:, 2] @ axis) * axis
        az = np.degrees(np.arctan2(np.cross(p0, p1) @ axis, p0 @ p1))
        assert abs(az) == pytest.approx(abs(delta), abs=1e-9)
    # a small offset moves a ground point by about delta * sin(10 deg) / IFOV pixels
    g = cam.image_to_ground(np.array([1023.5]), np.array([1023.5]))
    l1, s1 = cam.with_rotation_offset(0.01).ground_to_image(g)
    shift = np.hypot(l1 - 1023.5, s1 - 1023.5)[0]
    expected = np.radians(0.01) / cam.optics.ifov_rad
    assert 0.1 * expected < shift < 1.1 * expected


def test_far_side_and_behind_are_nan(cam: FrameCamera) -> None:
    far = -cam.boresight_ground()
    line, sample = cam.ground_to_image(far[None, :])
    assert np.isnan(line).all() and np.isnan(sample).all()
    behind = cam.position_km + (cam.position_km - cam.boresight_ground())
    line, sample = cam.ground_to_image(behind[None, :], check_visible=False)
    assert np.isnan(line).all() and np.isnan(sample).all()
    # flip the camera to look away from Mars: no intersection
    away = dataclasses.replace(cam, fsa_from_tel=frame_rotation(180.0, 1) @ cam.fsa_from_tel)
    assert np.isnan(away.image_to_ground(np.array([0.0, 1023.5]), np.array([0.0, 1023.5]))).all()


def test_built_isd_true_angle_equals_commanded_plus_offset(data_dir: Path, tmp_path: Path
                                                           ) -> None:
    """Simulator contract: an ISD written with the true mechanism angle (commanded + delta)
    gives the same camera as the commanded ISD with ``with_rotation_offset(delta)``."""
    from cassis_pipe.geometry.builder import build_isd, quaternion_from_matrix
    from cassis_pipe.geometry.interp import quat_to_matrix
    from cassis_pipe.geometry.isd import write_isd

    real = read_isd(data_dir / "geometry" / ISD)
    cmd_cam = FrameCamera.from_isd(real)
    delta = 0.37
    q_tel = quat_to_matrix(real.instrument_pointing.quaternions[0])
    true_q = quaternion_from_matrix(frame_rotation(delta, 2) @ q_tel)
    ip = real.instrument_position
    built = build_isd(real.center_ephemeris_time, ip.times, ip.positions, ip.velocities,
                      true_q[None, :], real.body_rotation.quaternions,
                      real.sun_position.positions, real.body_rotation.angular_velocities,
                      cassis={"commanded_rotation_deg": 0.0})
    write_isd(built, tmp_path / "sim.json")
    true_cam = FrameCamera.from_isd(read_isd(tmp_path / "sim.json"))
    offset_cam = cmd_cam.with_rotation_offset(delta)
    np.testing.assert_allclose(true_cam.fsa_from_bf, offset_cam.fsa_from_bf, atol=1e-12)
    np.testing.assert_allclose(true_cam.position_km, cmd_cam.position_km, atol=1e-9)
    np.testing.assert_allclose(true_cam.velocity_kms, cmd_cam.velocity_kms, atol=1e-12)
    g = cmd_cam.image_to_ground(np.array([100.0, 1900.0]), np.array([50.0, 2000.0]))
    l1, s1 = true_cam.ground_to_image(g)
    l2, s2 = cmd_cam.with_rotation_offset(delta).ground_to_image(g)
    np.testing.assert_allclose(l1, l2, atol=1e-6)
    np.testing.assert_allclose(s1, s2, atol=1e-6)


def test_tel_from_j2000_chain() -> None:
    from cassis_pipe.geometry.builder import tel_from_j2000
    from cassis_pipe.instrument.frames import default_frames

    fr = default_frames()
    sc = frame_rotation(20.0, 3) @ frame_rotation(-35.0, 1)
    tel = tel_from_j2000(sc, 123.0)
    np.testing.assert_allclose(fr.fsa_from_tel @ tel, fr.fsa_from_sc(123.0) @ sc, atol=1e-14)


def test_built_isd_with_window(data_dir: Path, tmp_path: Path) -> None:
    from cassis_pipe.geometry.builder import build_isd, window_from_isd
    from cassis_pipe.geometry.isd import write_isd

    real = read_isd(data_dir / "geometry" / ISD)
    w = Window("BLU", 1409, 1664, 128, 1919, binning=4)
    ip = real.instrument_position
    built = build_isd(real.center_ephemeris_time, ip.times, ip.positions, ip.velocities,
                      real.instrument_pointing.quaternions, real.body_rotation.quaternions,
                      real.sun_position.positions, window=w)
    assert (built.image_lines, built.image_samples) == (64, 448)
    assert (built.starting_detector_line, built.detector_line_summing) == (1409, 4)
    write_isd(built, tmp_path / "w.json")
    back = read_isd(tmp_path / "w.json")
    assert window_from_isd(back) == w
    assert window_from_isd(real) is None
    cam = FrameCamera.from_isd(back, window=window_from_isd(back))
    ref = FrameCamera.from_isd(real, window=w)
    g = ref.image_to_ground(np.array([0.0, 63.0]), np.array([0.0, 447.0]))
    np.testing.assert_allclose(cam.image_to_ground(np.array([0.0, 63.0]),
                                                   np.array([0.0, 447.0])), g, atol=1e-9)
