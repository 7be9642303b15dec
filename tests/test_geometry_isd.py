"""ISD reading/writing, time interpolation and quaternion conventions."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import spiceypy
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.geometry.interp import (
    interpolate_positions,
    matrix_to_quat,
    quat_to_matrix,
    slerp_quaternions,
)
from cassis_pipe.geometry.isd import Isd, read_isd, write_isd

ISD = "CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1_isd.json"


@pytest.fixture(scope="module")
def isd_path(data_dir: Path) -> Path:
    return data_dir / "geometry" / ISD


def test_real_isd_lossless_round_trip(isd_path: Path, tmp_path: Path) -> None:
    isd = read_isd(isd_path)
    assert isd.center_ephemeris_time == pytest.approx(533471602.766, abs=1e-3)
    assert isd.instrument_position.positions.shape == (1, 3)
    assert isd.radii_km == (3396.19, 3376.2)
    assert (isd.image_lines, isd.image_samples) == (256, 2048)
    out = tmp_path / "isd.json"
    write_isd(isd, out)
    original = json.loads(isd_path.read_text())
    again = json.loads(out.read_text())
    assert again == original
    assert list(again) == list(original)
    write_isd(read_isd(out), tmp_path / "isd2.json")
    assert (tmp_path / "isd2.json").read_bytes() == out.read_bytes()


def test_cassis_extras_round_trip(isd_path: Path, tmp_path: Path) -> None:
    isd = read_isd(isd_path)
    isd.cassis = {"commanded_rotation_deg": 100.228,
                  "windows": [{"filter": "RED", "row0": 712, "row1": 967, "binning": 1}]}
    isd.instrument_position.positions = isd.instrument_position.positions + 1e-9
    write_isd(isd, tmp_path / "x.json")
    back = read_isd(tmp_path / "x.json")
    assert back.cassis == isd.cassis
    np.testing.assert_array_equal(back.instrument_position.positions,
                                  isd.instrument_position.positions)
    assert back.to_dict() == isd.to_dict()


def test_malformed_isd(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        Isd.from_dict({"center_ephemeris_time": 1.0})
    d = json.loads((Path(__file__).parent / "data" / "geometry" / ISD).read_text())
    d["instrument_position"]["velocities"] = [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    with pytest.raises(ValueError):
        Isd.from_dict(d)


def test_quaternions_are_spice_scalar_first(isd_path: Path, kernels_dir: Path) -> None:
    """ISD quaternions are [w, x, y, z] with q2m giving J2000 -> frame: the body rotation equals
    SPICE's J2000 -> IAU_MARS from pck00010 at the table time."""
    isd = read_isd(isd_path)
    br = isd.body_rotation
    spiceypy.kclear()
    try:
        spiceypy.furnsh(str(kernels_dir / "pck00010.tpc"))
        ref = spiceypy.pxform("J2000", "IAU_MARS", float(br.times[0]))
    finally:
        spiceypy.kclear()
    np.testing.assert_allclose(quat_to_matrix(br.quaternions[0]), ref, atol=1e-9)
    np.testing.assert_allclose(quat_to_matrix(br.quaternions[0]), spiceypy.q2m(br.quaternions[0]),
                               atol=1e-12)


unit_quats = st.lists(st.floats(-1, 1), min_size=4, max_size=4).filter(
    lambda q: 0.1 < np.linalg.norm(q))


@settings(max_examples=100, deadline=None)
@given(unit_quats)
def test_quaternion_matrix_round_trip(q: list[float]) -> None:
    q = np.array(q) / np.linalg.norm(q)
    m = quat_to_matrix(q)
    np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-12)
    q2 = matrix_to_quat(m)
    assert min(np.abs(q2 - q).max(), np.abs(q2 + q).max()) < 1e-9
    np.testing.assert_allclose(m, spiceypy.q2m(q), atol=1e-12)


def test_hermite_exact_for_cubic() -> None:
    t = np.array([0.0, 2.0, 5.0, 6.0])
    c = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -0.2], [0.01, 0.02, 0.03], [0.001, -0.002, 0.0]])

    def f(x: np.ndarray) -> np.ndarray:
        return c[0] + np.outer(x, c[1]) + np.outer(x**2, c[2]) + np.outer(x**3, c[3])

    def df(x: np.ndarray) -> np.ndarray:
        return np.outer(np.ones_like(x), c[1]) + np.outer(2 * x, c[2]) + np.outer(3 * x**2, c[3])

    tq = np.linspace(0, 6, 37)
    p, v = interpolate_positions(t, f(t), df(t), tq)
    np.testing.assert_allclose(p, f(tq), atol=1e-12)
    np.testing.assert_allclose(v, df(tq), atol=1e-12)
    pl, vl = interpolate_positions(t, f(t), None, np.array([1.0]))
    np.testing.assert_allclose(pl[0], (f(t)[0] + f(t)[1]) / 2, atol=1e-12)
    p1, v1 = interpolate_positions(t[:1], f(t)[:1], df(t)[:1], np.array([0.5]))
    np.testing.assert_allclose(p1[0], f(t)[0] + 0.5 * df(t)[0], atol=1e-12)


def test_slerp() -> None:
    q0 = np.array([1.0, 0.0, 0.0, 0.0])
    half = np.radians(40.0) / 2
    q1 = np.array([np.cos(half), 0.0, 0.0, np.sin(half)])
    out = slerp_quaternions(np.array([10.0, 20.0]), np.array([q0, -q1]), np.array([10, 15, 20]))
    ang = [np.degrees(np.arctan2(o[3], o[0]) * 2) for o in out * np.sign(out[:, :1])]
    np.testing.assert_allclose(ang, [0.0, 20.0, 40.0], atol=1e-9)
    one = slerp_quaternions(np.array([0.0]), np.array([q1]), np.array([5.0, 6.0]))
    np.testing.assert_allclose(one, [q1, q1])


def test_dataclass_copy_keeps_tables(isd_path: Path) -> None:
    isd = read_isd(isd_path)
    c = dataclasses.replace(isd, image_lines=128)
    assert c.to_dict()["image_lines"] == 128
    assert c.to_dict()["instrument_pointing"] == isd.to_dict()["instrument_pointing"]


@settings(max_examples=150, deadline=None)
@given(path=st.lists(st.sampled_from(
    ["instrument_position", "instrument_pointing", "body_rotation", "sun_position",
     "positions", "velocities", "quaternions", "ephemeris_times", "constant_rotation",
     "detector_center", "line", "radii", "semimajor", "focal_length_model", "image_lines",
     "center_ephemeris_time", "time_dependent_frames"]), min_size=1, max_size=2),
       value=st.none() | st.text(max_size=3) | st.lists(st.floats(), max_size=5) | st.just({}))
def test_corrupted_isd_raises_value_error(path: list[str], value: object) -> None:
    """Any corruption of the real ISD either still parses or raises ValueError."""
    d = json.loads((Path(__file__).parent / "data" / "geometry" / ISD).read_text())
    node = d
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return
    node[path[-1]] = value
    try:
        Isd.from_dict(d)
    except ValueError:
        pass
