"""Fast unit tests of the simulator building blocks (no full simulation run)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.instrument.constants import K_TABLE
from cassis_pipe.sim.config import load_config, make_config
from cassis_pipe.sim.faults import apply_faults
from cassis_pipe.sim.noise import value_noise2
from cassis_pipe.sim.orbit import latlon_deg, surface_point
from cassis_pipe.sim.radiometry import DN_MAX, bin2x2, dn_per_iof, expose
from cassis_pipe.sim.scene import render_iof, scene_frame, sun_vector
from cassis_pipe.sim.telemetry import science_frames
from cassis_pipe.telemetry.streams import read_science_stream


def test_dn_level_of_the_reference_case() -> None:
    # t_exp 1.44 ms, r_h 1.387 AU, I/F 0.2 -> DN = 0.2 * t / (K r_h^2)
    dn = {f: 0.2 * dn_per_iof(1.44e-3, k, 1.387) for f, k in K_TABLE.items()}
    assert dn["PAN"] == pytest.approx(11164, rel=1e-3)
    assert dn["RED"] == pytest.approx(4281, rel=1e-3)
    assert dn["NIR"] == pytest.approx(4107, rel=1e-3)
    assert dn["BLU"] == pytest.approx(5632, rel=1e-3)


def test_expose_noise_and_saturation() -> None:
    h, w = 64, 128
    ones = np.ones((h, w), np.float32)
    zeros = np.zeros((h, w), np.float32)
    iof = np.full((h, w), 0.2, np.float32)
    scale = dn_per_iof(0.96e-3, K_TABLE["RED"], 1.387)
    a = expose(iof, scale, zeros, ones, ones * 300, zeros, 6.0, 61.0, 7, 700, 0)
    b = expose(iof, scale, zeros, ones, ones * 300, zeros, 6.0, 61.0, 7, 700, 0)
    np.testing.assert_array_equal(a, b)
    mean = 0.2 * scale + 300
    assert a.mean() == pytest.approx(mean, rel=0.01)
    expected_sd = np.sqrt(0.2 * scale * 6.0 + 61.0**2) / 6.0
    assert a.std() == pytest.approx(expected_sd, rel=0.1)
    sat = expose(iof * 100, scale, zeros, ones, ones * 300, zeros, 6.0, 61.0, 7, 700, 0)
    assert sat.max() == DN_MAX


def test_binning_modes() -> None:
    dn = np.arange(16, dtype=np.uint16).reshape(4, 4) * 1000
    s = bin2x2(dn, "sum")
    m = bin2x2(dn, "mean")
    assert s.shape == (2, 2) and s.max() == DN_MAX
    assert m[0, 0] == (0 + 1000 + 4000 + 5000 + 2) // 4
    with pytest.raises(ValueError):
        bin2x2(dn, "median")


@settings(max_examples=30, deadline=None)
@given(st.floats(-1e4, 1e4), st.floats(-1e4, 1e4), st.integers(0, 2**32))
def test_noise_gradient_matches_finite_difference(x: float, y: float, seed: int) -> None:
    v, dx, dy = value_noise2(x, y, np.uint64(seed))
    h = 1e-5
    vx, _, _ = value_noise2(x + h, y, np.uint64(seed))
    vy, _, _ = value_noise2(x, y + h, np.uint64(seed))
    assert -1.0 <= v <= 1.0
    assert (vx - v) / h == pytest.approx(dx, abs=1e-3)
    assert (vy - v) / h == pytest.approx(dy, abs=1e-3)


def test_scene_is_pointwise_and_realistic() -> None:
    radii = (3396.19, 3376.2)
    lat, lon = np.meshgrid(np.linspace(69.9, 70.1, 60), np.linspace(10, 10.5, 80), indexing="ij")
    pts = surface_point(lat, lon, radii).reshape(-1, 3) * 1000.0
    frame = scene_frame(surface_point(np.array(70.0), np.array(10.2), radii) * 1000.0)
    sun = sun_vector(70.0, 10.2, 60.0, 180.0)
    args = (sun, frame, np.array(radii) * 1000.0, 4, True, 0.5, 0.25)
    full = render_iof(pts, *args)
    part = render_iof(pts[::7].copy(), *args)
    np.testing.assert_array_equal(full[::7], part)        # no dependence on batching
    assert np.all(np.isfinite(full))
    med = np.median(full, axis=0)                            # PAN, RED, NIR, BLU
    assert 0.02 < med[3] < med[0] < med[1] and med[1] < 0.6  # redder towards RED/NIR
    assert full.std(axis=0).min() > 0.002                     # textured
    nan = render_iof(np.full((2, 3), np.nan), *args)
    assert np.all(np.isnan(nan))


def test_latlon_roundtrip() -> None:
    p = surface_point(np.array([-80.0, 0.0, 85.0]), np.array([0.0, 359.0, 123.0]),
                      (3396.19, 3376.2))
    lat, lon = latlon_deg(p)
    np.testing.assert_allclose(lat, [-80.0, 0.0, 85.0], atol=1e-9)
    np.testing.assert_allclose(lon, [0.0, 359.0, 123.0], atol=1e-9)


def test_config_yaml_and_unknown_keys(tmp_path) -> None:
    p = tmp_path / "sim.yaml"
    p.write_text("orbit:\n  target_lat_deg: 72.5\nimaging:\n  stereo: true\n"
                 "faults:\n  dropped: 2\n")
    cfg = load_config(p, "small", 9)
    assert cfg.orbit.target_lat_deg == 72.5 and cfg.imaging.stereo and cfg.faults.dropped == 2
    assert cfg.imaging.num_exp == 6 and cfg.seed == 9
    with pytest.raises(ValueError, match="unknown"):
        make_config("small", 1, {"orbit": {"altitude": 5}})
    with pytest.raises(ValueError):
        make_config("medium", 1)
    with pytest.raises(ValueError, match="inclination"):
        make_config("small", 1, {"orbit": {"target_lat_deg": 80.0}})
    with pytest.raises(ValueError, match="ratio id"):
        make_config("small", 1, {"imaging": {"windows": [
            {"name": f, "row0": 0, "row1": 9, "col0": 0, "col1": 9, "comp_ratio_id": 9}
            for f in ("PAN", "RED", "NIR", "BLU")]}})


def _synthetic_frames(n_windows: int = 3, n_seq: int = 4) -> list:
    rng = np.random.default_rng(0)
    frames = []
    for k in range(n_seq):
        for w in range(n_windows):
            stream = rng.integers(0, 256, 2500, dtype=np.uint8).tobytes()
            frames += science_frames(stream, 77, k, w, 1, 1e8 + k, 1e8 + k + 0.01, 1000, 1000)
    return frames


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2), st.integers(0, 2), st.integers(0, 2), st.integers(0, 2),
       st.integers(0, 2), st.integers(0, 2), st.integers(0, 1), st.integers(0, 1000))
def test_faults_are_all_present(dropped: int, dup: int, reord: int, flip: int, trunc: int,
                                garbage: int, missing: int, seed: int) -> None:
    from cassis_pipe.sim.config import FaultConfig

    frames = _synthetic_frames()
    fc = FaultConfig(dropped, dup, reord, flip, trunc, garbage, missing)
    data, faults, index = apply_faults(frames, fc, seed)
    kinds = [f["kind"] for f in faults]
    for kind, n in (("dropped", dropped), ("duplicated", dup), ("reordered", reord),
                    ("bitflipped", flip), ("truncated", trunc), ("garbage", garbage),
                    ("missing_framelet", missing)):
        assert kinds.count(kind) == n
    res = read_science_stream(data)
    assert sum(r.length for r in res.rejects) + sum(f.wire_length for f in res.frames) == len(data)
    n_missing = sum(f["frames"] for f in faults if f["kind"] == "missing_framelet")
    assert res.valid == len(frames) - dropped - n_missing - flip - trunc + dup

    def rejected(off: int) -> bool:
        return any(r.offset <= off < r.offset + r.length for r in res.rejects)

    for f in faults:
        if f["kind"] in ("bitflipped", "truncated"):
            assert rejected(f["frame_offset"]) and f["frame_offset"] not in res.offsets
        if f["kind"] == "bitflipped":
            assert rejected(f["byte_offset"])
        if f["kind"] == "garbage":
            assert rejected(f["byte_offset"])
        if f["kind"] == "duplicated":
            assert f["frame_offset"] in res.offsets
    if reord:
        seen = [(fr.sequence, fr.window, fr.offset) for fr in res.frames]
        assert seen != sorted(seen)
    assert index[-1]["offset"] + index[-1]["length"] == len(data)
