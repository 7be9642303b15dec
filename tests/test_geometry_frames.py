"""CaSSIS frames from the real FK, checked against the SPICE toolkit and the flown ISD."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spiceypy

from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.frames import (
    CassisFrames,
    axis_angle_matrix,
    default_frames,
    frame_rotation,
    tkframe_matrix,
)
from cassis_pipe.instrument.kernels import read_text_kernel

ISD = "CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1_isd.json"


@pytest.fixture(scope="module")
def fk(kernels_dir: Path):
    path = kernels_dir / "em16_tgo_v18.tf"
    spiceypy.kclear()
    spiceypy.furnsh(str(path))
    yield read_text_kernel(path)
    spiceypy.kclear()


def test_fixed_frames_match_spice(fk) -> None:
    frames = CassisFrames.from_pool(fk)
    np.testing.assert_allclose(frames.cru_from_sc,
                               spiceypy.pxform("TGO_SPACECRAFT", "TGO_CASSIS_CRU", 0.0), atol=1e-14)
    np.testing.assert_allclose(frames.fsa_from_tel,
                               spiceypy.pxform("TGO_CASSIS_TEL", "TGO_CASSIS_FSA", 0.0), atol=1e-14)
    d = default_frames()
    np.testing.assert_array_equal(d.cru_from_sc, frames.cru_from_sc)
    np.testing.assert_array_equal(d.fsa_from_tel, frames.fsa_from_tel)


def test_every_tkframe_in_fk_matches_spice(fk) -> None:
    ids = [int(k.split("_")[1]) for k in fk if k.startswith("TKFRAME_") and k.endswith("_SPEC")]
    assert len(ids) > 20
    for i in ids:
        m, rel = tkframe_matrix(fk, i)
        name = fk[f"FRAME_{i}_NAME"][0]
        # SPICE re-orthonormalises MATRIX specs (star trackers): ~5e-9 differences
        np.testing.assert_allclose(m, spiceypy.pxform(rel, name, 0.0), atol=1e-8, err_msg=name)


def test_isd_constant_rotation_is_tel_to_fsa(data_dir: Path) -> None:
    """The ISD's constant_frames [-143420, -143410] / constant_rotation is TEL -> FSA."""
    isd = read_isd(data_dir / "geometry" / ISD)
    assert isd.instrument_pointing.constant_frames == [-143420, -143410]
    assert isd.instrument_pointing.time_dependent_frames == [-143410, -143400, -143000, 1]
    np.testing.assert_allclose(isd.instrument_pointing.constant_rotation,
                               default_frames().fsa_from_tel, atol=1e-13)


def test_rotation_mechanism_geometry() -> None:
    fr = default_frames()
    axis = fr.rotation_axis_spacecraft()
    # rotation axis nominally along -Y_sc (towards Mars)
    assert np.degrees(np.arccos(-axis[1])) < 0.2
    for angle in (0.0, 37.0, 90.0, 180.0, 271.5):
        m = fr.fsa_to_spacecraft(angle)
        np.testing.assert_allclose(m @ m.T, np.eye(3), atol=1e-14)
        assert np.linalg.det(m) == pytest.approx(1.0)
        # boresight is ~10 deg (FK: 80.005 deg about X -> 9.995 deg) from the rotation axis
        ang = np.degrees(np.arccos(fr.boresight_spacecraft(angle) @ axis))
        assert ang == pytest.approx(9.995, abs=1e-6)
    np.testing.assert_allclose(fr.fsa_to_spacecraft(360.0), fr.fsa_to_spacecraft(0.0), atol=1e-14)
    np.testing.assert_allclose(fr.tel_from_cru(30.0) @ fr.tel_from_cru(12.5),
                               fr.tel_from_cru(42.5), atol=1e-15)


def test_frame_rotation_matches_spice() -> None:
    for axis in (1, 2, 3):
        np.testing.assert_allclose(frame_rotation(33.3, axis),
                                   spiceypy.rotate(np.radians(33.3), axis), atol=1e-15)
        e = np.zeros(3)
        e[axis - 1] = 1.0
        np.testing.assert_allclose(axis_angle_matrix(e, 33.3), frame_rotation(33.3, axis),
                                   atol=1e-15)
    with pytest.raises(ValueError):
        frame_rotation(1.0, 4)
