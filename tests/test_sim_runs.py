"""Whole-run properties on tiny simulations: determinism, faults, stereo at high latitude."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest

from cassis_pipe.geometry.builder import window_from_isd
from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import xyz_to_latlon
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.labels.ids import parse_observation_id
from cassis_pipe.sim.config import default_windows, make_config
from cassis_pipe.sim.writer import simulate
from cassis_pipe.telemetry.hk import read_hk_stream
from cassis_pipe.telemetry.streams import read_science_stream
from cassis_pipe.telemetry.tc import read_tc_stream

FAULTS = {"dropped": 1, "duplicated": 1, "reordered": 1, "bitflipped": 1, "truncated": 1,
          "garbage": 2, "missing_framelet": 1}
WINDOWS = [asdict(replace(w, binning=1) if w.name == "NIR" else w)
           for w in default_windows(512, 768)]
TINY = {"imaging": {"num_exp": 3, "windows": WINDOWS}, "faults": FAULTS}


@pytest.fixture(scope="module")
def twin_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    a = tmp_path_factory.mktemp("run_a")
    b = tmp_path_factory.mktemp("run_b")
    simulate(make_config("small", 11, TINY), a)
    simulate(make_config("small", 11, TINY), b)
    return a, b


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_same_seed_gives_identical_bytes(twin_runs) -> None:
    a, b = twin_runs
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    assert len(fa) >= 30
    diff = [k for k in fa if fa[k] != fb[k]]
    assert diff == []
    truth = json.loads(fa["truth/truth.json"])
    nir = np.load(a / truth["images"][0]["dn_files"][0][2])
    assert nir.shape == (128, 256)                      # 2x2 binned on board
    im = truth["images"][0]
    wisd = read_isd(a / im["window_geometry"]["NIR"])
    win = window_from_isd(wisd)
    assert (win.binning, wisd.image_lines, wisd.image_samples) == (2, 128, 256)
    assert wisd.cassis["commanded_rotation_deg"] == im["commanded_rotation_deg"]
    cam_w = FrameCamera.from_isd(wisd, window=win, et=im["exposure_et"][1])
    cam_d = FrameCamera.from_isd(read_isd(a / im["geometry"]), et=im["exposure_et"][1])
    g_w = cam_w.image_to_ground(np.array([0.0, 127.0]), np.array([0.0, 255.0]))
    g_d = cam_d.image_to_ground(np.array([1048.5, 1302.5]), np.array([768.5, 1278.5]))
    np.testing.assert_allclose(g_w, g_d, atol=1e-6)


def test_every_fault_is_present(twin_runs) -> None:
    out, _ = twin_runs
    faults = json.loads((out / "truth" / "faults.json").read_text())["faults"]
    kinds = [f["kind"] for f in faults]
    for kind, n in FAULTS.items():
        assert kinds.count(kind) == n, kind
    data = (out / "science.bin").read_bytes()
    res = read_science_stream(data)
    index = json.loads((out / "truth" / "frames.json").read_text())["frames"]
    n_ok = sum(1 for r in index if r["kind"] in ("ok", "reordered", "duplicate"))
    assert res.valid == n_ok
    assert sum(r.length for r in res.rejects) + sum(f.wire_length for f in res.frames) == len(data)

    def rejected(off: int) -> bool:
        return any(r.offset <= off < r.offset + r.length for r in res.rejects)

    got = {(f.uid, f.sequence, f.window, f.offset) for f in res.frames}
    for f in faults:
        if f["kind"] in ("bitflipped", "truncated"):
            assert rejected(f["frame_offset"])
            assert (f["uid"], f["sequence"], f["window"], f["offset"]) not in got
        elif f["kind"] == "garbage":
            assert rejected(f["byte_offset"])
        elif f["kind"] == "dropped":
            assert (f["uid"], f["sequence"], f["window"], f["offset"]) not in got
        elif f["kind"] == "missing_framelet":
            assert not any(g[:3] == (f["uid"], f["sequence"], f["window"]) for g in got)
        elif f["kind"] == "duplicated":
            hits = [o for fr, o in zip(res.frames, res.offsets, strict=True)
                    if (fr.uid, fr.sequence, fr.window, fr.offset)
                    == (f["uid"], f["sequence"], f["window"], f["offset"])]
            assert len(hits) == 2 and f["frame_offset"] in hits
        elif f["kind"] == "reordered":
            a, b = f["first"], f["second"]
            pos = {(fr.uid, fr.sequence, fr.window, fr.offset): o
                   for fr, o in zip(res.frames, res.offsets, strict=True)}
            ka = (a["uid"], a["sequence"], a["window"], a["offset"])
            kb = (b["uid"], b["sequence"], b["window"], b["offset"])
            assert pos[kb] < pos[ka]
    # TC and HK are never damaged
    assert read_tc_stream((out / "tc.bin").read_bytes()).rejects == []
    assert read_hk_stream((out / "hk.bin").read_bytes()).rejects == []


def test_other_seed_differs(twin_runs, tmp_path: Path) -> None:
    a, _ = twin_runs
    cfg = make_config("small", 12, {"imaging": {"num_exp": 1}})
    simulate(cfg, tmp_path)
    dn_a = np.load(a / "truth" / "dn" / next((a / "truth" / "dn").iterdir()).name / "PAN_000.npy")
    dn_b = np.load(next((tmp_path / "truth" / "dn").iterdir()) / "PAN_000.npy")
    assert not np.array_equal(dn_a, dn_b)


def test_stereo_polar(tmp_path: Path) -> None:
    cfg = make_config("small", 5, {"imaging": {"num_exp": 2, "stereo": True},
                                   "orbit": {"target_lat_deg": -71.0, "target_lon_deg": 300.0,
                                             "descending": True},
                                   "scene": {"ice": True}})
    simulate(cfg, tmp_path)
    truth = json.loads((tmp_path / "truth" / "truth.json").read_text())
    i1, i2 = truth["images"]
    assert parse_observation_id(i1["observation_id"]).image_type == 1
    assert parse_observation_id(i2["observation_id"]).image_type == 2
    assert (i2["commanded_rotation_deg"] - i1["commanded_rotation_deg"]) % 360 == pytest.approx(
        180.0)
    gap = i2["exposure_sclk_s"][0] - i1["exposure_sclk_s"][0]
    assert 30.0 < gap < 70.0
    views = []
    for im in (i1, i2):
        cam = FrameCamera.from_isd(read_isd(tmp_path / im["geometry"]),
                                   et=float(np.mean(im["exposure_et"])))
        cam = cam.with_rotation_offset(truth["rotation_offset_deg"])
        lat, lon, _ = xyz_to_latlon(cam.boresight_ground())
        assert lat == pytest.approx(-71.0, abs=0.05)
        assert lon == pytest.approx(300.0, abs=0.15)
        views.append(cam.position_km - cam.boresight_ground())
    ang = np.degrees(np.arccos(views[0] @ views[1] / np.linalg.norm(views[0])
                               / np.linalg.norm(views[1])))
    assert 15.0 < ang < 25.0                        # +-10 deg fore/aft views
    cmds = [c.name for c in read_tc_stream((tmp_path / "tc.bin").read_bytes()).frames]
    assert cmds.count("take_image") == 2 and cmds.count("move_motor_absolute") == 2
    res = read_science_stream((tmp_path / "science.bin").read_bytes())
    assert res.rejects == [] and {f.uid for f in res.frames} == {i1["uid"], i2["uid"]}
    hk = [f for f in read_hk_stream((tmp_path / "hk.bin").read_bytes()).frames if f.type == 1]
    for im in (i1, i2):                 # mechanism at rest on the commanded angle while imaging
        during = [f for f in hk if im["exposure_sclk_s"][0] <= (f.timestamp & (2**56 - 1)) / 2**24
                  <= im["exposure_sclk_s"][-1] + 1.0]
        assert during
        for f in during:
            assert f.fields["TSCP_ROT_STAT"].raw == 0
            assert f.fields["TSCP_ACTUAL_POS"].raw == round(im["commanded_rotation_deg"] * 1000)
