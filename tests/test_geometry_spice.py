"""SPICE provider against synthetic SPK/CK kernels written with spiceypy (real FK/SCLK/PCK)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import spiceypy

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.spice_provider import isd_from_spice
from cassis_pipe.instrument.frames import frame_rotation
from cassis_pipe.instrument.optics import default_optics

ET0 = 533471602.766


@pytest.fixture()
def kernels(kernels_dir: Path, tmp_path: Path):
    spiceypy.kclear()
    for name in ("naif0012.tls", "pck00010.tpc", "em16_tgo_v18.tf", "em16_tgo_step_20190823.tsc"):
        spiceypy.furnsh(str(kernels_dir / name))
    epochs = ET0 + np.arange(-60.0, 61.0, 10.0)
    # TGO on a circular 400 km polar-ish orbit, Sun far away
    r, w = 3796.0, 2 * np.pi / 7000.0
    ph = w * (epochs - ET0)
    tgo = np.column_stack([r * np.cos(ph), 0.3 * r * np.sin(ph), 0.95 * r * np.sin(ph),
                           -r * w * np.sin(ph), 0.3 * r * w * np.cos(ph),
                           0.95 * r * w * np.cos(ph)])
    far = ET0 + np.linspace(-3000.0, 3000.0, 13)  # Sun light time is ~11 min
    sun = np.tile([-2.0e8, 1.7e7, 1.3e7, 0.0, 0.0, 0.0], (len(far), 1))
    spk = str(tmp_path / "synthetic.bsp")
    h = spiceypy.spkopn(spk, "synthetic", 0)
    spiceypy.spkw13(h, -143, 499, "J2000", epochs[0], epochs[-1], "tgo", 3, len(epochs),
                    np.ascontiguousarray(tgo), epochs)
    spiceypy.spkw13(h, 10, 499, "J2000", far[0], far[-1], "sun", 3, len(far), sun, far)
    mars = np.ascontiguousarray(np.column_stack(
        [2.0e8 + 0 * far, -1.7e7 + 24.0 * (far - ET0), 0 * far - 1.3e7, 0 * far, 24.0 + 0 * far,
         0 * far]))
    spiceypy.spkw13(h, 499, 0, "J2000", far[0], far[-1], "mars", 3, len(far), mars, far)
    spiceypy.spkcls(h)
    sclk = np.array([spiceypy.sce2c(-143, e) for e in epochs])
    sc_attitude = frame_rotation(30.0, 3) @ frame_rotation(-50.0, 1)
    tel = frame_rotation(100.228, 2)
    ck = str(tmp_path / "synthetic.bc")
    h = spiceypy.ckopn(ck, "synthetic", 0)
    for inst, ref, m in ((-143000, "J2000", sc_attitude), (-143410, "TGO_CASSIS_CRU", tel)):
        quats = np.tile(spiceypy.m2q(np.ascontiguousarray(m)), (len(epochs), 1))
        spiceypy.ckw03(h, sclk[0], sclk[-1], inst, ref, False, "att", len(epochs), sclk, quats,
                       np.zeros((len(epochs), 3)), 1, sclk[:1].copy())
    spiceypy.ckcls(h)
    spiceypy.furnsh(spk)
    spiceypy.furnsh(ck)
    yield
    spiceypy.kclear()


def test_provider_matches_spice_frames(kernels) -> None:
    isd = isd_from_spice(ET0, half_span_s=20.0, samples=5, cassis={"commanded_rotation_deg": 0},
                         optics=default_optics())
    assert isd.instrument_position.positions.shape == (5, 3)
    cam = FrameCamera.from_isd(isd)
    ref = np.asarray(spiceypy.pxform("IAU_MARS", "TGO_CASSIS_FSA", ET0))
    # Mars orientation at the image time itself (ISIS / ale)
    np.testing.assert_allclose(cam.fsa_from_bf, ref, atol=1e-12)
    st, _ = spiceypy.spkezr("-143", ET0, "IAU_MARS", "NONE", "MARS")
    # light time to the surface (Mars moved 24 km/s x ~1.3 ms) vs geometric: tens of metres
    assert 0.005 < np.linalg.norm(cam.position_km - st[:3]) < 0.1
    np.testing.assert_allclose(cam.velocity_kms, st[3:], atol=5e-4)
    # exactly: Mars' geometric state at et - lt + r_lt (r_lt: mean radius / c), no aberration
    _, lt = spiceypy.spkezr("MARS", ET0, "J2000", "LT", "TGO")
    r_lt = (3396.19 + 3376.2) / 2 / 299792.458
    mars = np.asarray(spiceypy.spkezr("MARS", ET0 - lt + r_lt, "J2000", "NONE", "SSB")[0])
    tgo = np.asarray(spiceypy.spkezr("TGO", ET0, "J2000", "NONE", "SSB")[0])
    expected = np.asarray(spiceypy.sxform("J2000", "IAU_MARS", ET0)) @ (tgo - mars)
    np.testing.assert_allclose(cam.position_km, expected[:3], atol=1e-6)
    np.testing.assert_allclose(cam.velocity_kms, expected[3:], atol=1e-8)
    # the chain through our own FK reading gives the same FSA attitude
    from cassis_pipe.instrument.frames import default_frames
    fr = default_frames()
    sc = np.asarray(spiceypy.pxform("J2000", "TGO_SPACECRAFT", ET0))
    bf = np.asarray(spiceypy.pxform("J2000", "IAU_MARS", ET0))
    np.testing.assert_allclose(fr.fsa_from_sc(100.228) @ sc @ bf.T, ref, atol=1e-12)
