"""End-to-end checks of a small simulated observation: telemetry, compression, geometry, truth."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits

from cassis_pipe.codec.jpegls import decode
from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import xyz_to_latlon
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.sim.config import make_config
from cassis_pipe.sim.writer import simulate
from cassis_pipe.telemetry.hk import read_hk_stream
from cassis_pipe.telemetry.paramtable import ParameterTable
from cassis_pipe.telemetry.streams import read_science_stream
from cassis_pipe.telemetry.tc import read_tc_stream
from cassis_pipe.telemetry.timecode import encode_timecode


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim_small")
    simulate(make_config("small", 3), out)
    return out, json.loads((out / "truth" / "truth.json").read_text())


def _reassemble(frames: list) -> dict[tuple[int, int, int], bytes]:
    parts: dict[tuple[int, int, int], dict[int, bytes]] = defaultdict(dict)
    totals = {}
    for f in frames:
        key = (f.uid, f.sequence, f.window)
        parts[key][f.offset] = f.data
        totals[key] = f.total_length
    out = {}
    for key, p in parts.items():
        blob = b"".join(p[o] for o in sorted(p))
        assert len(blob) == totals[key]
        out[key] = blob
    return out


def test_streams_decode_without_rejects(sim) -> None:
    out, truth = sim
    for name, reader in (("science.bin", read_science_stream), ("tc.bin", read_tc_stream),
                         ("hk.bin", read_hk_stream)):
        res = reader((out / name).read_bytes())
        assert res.rejects == [], name
        assert res.valid > 0
    assert json.loads((out / "truth" / "faults.json").read_text())["faults"] == []


def test_window_data_matches_pre_compression_dn(sim) -> None:
    """JPEG-LS windows decode within NEAR; ratio id 0 windows are raw big-endian uint16."""
    out, truth = sim
    res = read_science_stream((out / "science.bin").read_bytes())
    assert max(len(f.data) for f in res.frames) <= 32512
    assert any(f.offset > 0 for f in res.frames)             # windows split over frames
    streams = _reassemble(res.frames)
    image = truth["images"][0]
    windows = truth["config"]["imaging"]["windows"]
    assert len(streams) == len(image["dn_files"]) * len(windows)
    for k, files in enumerate(image["dn_files"]):
        for wi, rel in enumerate(files):
            dn = np.load(out / rel)
            data = streams[(image["uid"], k, wi)]
            if windows[wi]["comp_ratio_id"] == 0:
                got = np.frombuffer(data, dtype=">u2").reshape(dn.shape)
            else:
                got = decode(data)
            near = truth["near"][windows[wi]["name"]]
            err = np.abs(got.astype(np.int32) - dn.astype(np.int32)).max()
            assert err <= near
            if near == 0:
                np.testing.assert_array_equal(got, dn)
    assert 2.0 < truth["compression"]["ratio"] < 4.5


def test_science_headers(sim) -> None:
    out, truth = sim
    res = read_science_stream((out / "science.bin").read_bytes())
    image = truth["images"][0]
    pos = round(image["commanded_rotation_deg"] * 1000) % 360000
    for f in res.frames:
        assert f.uid == image["uid"] and f.position_mdeg == pos and f.type == 0
        assert f.exposure_timestamp == encode_timecode(image["exposure_sclk_s"][f.sequence])


def test_tc_sequence(sim) -> None:
    out, truth = sim
    cmds = read_tc_stream((out / "tc.bin").read_bytes()).frames
    names = [c.name for c in cmds]
    assert names == ["set_tm_rate", "set_parameter_table", "move_motor_absolute", "take_image"]
    table = ParameterTable.unpack(cmds[1].params["table"])
    assert table.values() == truth["parameter_table"]
    assert table.num_exp == 6 and table.step_exp_us == truth["step_exp_us"]
    image = truth["images"][0]
    assert cmds[2].params["position"] == round(image["commanded_rotation_deg"] * 1000)
    take = cmds[3]
    assert take.uid == image["uid"]
    assert take.params["timestamp"].to_bytes(8, "big") == encode_timecode(
        image["exposure_sclk_s"][0])
    assert cmds[2].params["timestamp"] < take.params["timestamp"]


def test_hk_types_and_positions(sim) -> None:
    out, truth = sim
    frames = read_hk_stream((out / "hk.bin").read_bytes()).frames
    assert {f.type for f in frames} == {0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x20}
    rot = [f for f in frames if f.type == 0x01]
    ts = [f.timestamp >> 24 for f in rot]
    assert np.all(np.diff(ts) == 1)                             # 1 sample / s
    cmd = round(truth["images"][0]["commanded_rotation_deg"] * 1000) % 360000
    assert rot[-1].fields["TSCP_TARGET_POS"].raw == cmd
    assert rot[-1].fields["TSCP_ACTUAL_POS"].raw == cmd          # HK knows the commanded angle
    assert rot[0].fields["TSCP_ACTUAL_POS"].raw == 0             # starts at home


def test_dn_levels_and_calibration_files(sim) -> None:
    out, truth = sim
    image = truth["images"][0]
    pan = np.load(out / image["dn_files"][0][0])
    blu = np.load(out / image["dn_files"][0][3])
    assert 2000 < np.median(pan) < 12000 and 800 < np.median(blu) < 8000
    assert (pan >= 16383).mean() < 0.01
    cal = out / truth["calibration"]["dir"]
    manifest = json.loads((cal / "manifest.json").read_text())
    assert manifest["version"] == "sim-v1"
    for entry in manifest["files"].values():
        assert hashlib.sha256((cal / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    bias = fits.getdata(cal / "master_bias.fits")
    true_bias = np.load(out / "truth" / "detector" / "bias_dn.npy")
    assert bias.shape == (2048, 2048)
    assert (bias - true_bias).std() == pytest.approx(0.5, rel=0.05)
    assert 250 < np.median(bias) < 350


def _framelet_iof(out: Path, truth: dict, k: int, wi: int) -> tuple[np.ndarray, dict]:
    """Invert the radiometric chain with the TRUE detector fields (noise remains)."""
    image = truth["images"][0]
    w = truth["config"]["imaging"]["windows"][wi]
    sl = (slice(w["row0"], w["row1"] + 1), slice(w["col0"], w["col1"] + 1))
    det = out / "truth" / "detector"
    dn = np.load(out / image["dn_files"][k][wi]).astype(np.float64)
    stray = np.load(out / image["straylight"]["pattern"])[sl] * image["straylight"][
        "amplitude_dn"][k]
    flat = np.load(det / "flat.npy")[sl]
    sig = (dn - np.load(det / "bias_dn.npy")[sl] - np.load(det / "hot_dn.npy")[sl])
    with np.errstate(divide="ignore", invalid="ignore"):
        iof = (sig / flat - stray) / truth["dn_per_iof"][w["name"]]
    iof[np.load(det / "bad_pixels.npy")[sl] > 0] = np.nan
    return iof, w


@pytest.mark.parametrize("wi", [0, 3])
def test_truth_map_consistent_with_framelet(sim, wi: int) -> None:
    out, truth = sim
    from cassis_pipe.sim.truthmap import TruthGrid, bilinear

    image = truth["images"][0]
    k = 2
    iof, w = _framelet_iof(out, truth, k, wi)
    g = truth["truth_maps"]["grid"]
    grid = TruthGrid(g["lat_max_deg"], g["lon_min_deg"], g["dlat_deg"], g["dlon_deg"], g["rows"],
                   g["cols"], g["scale_m"])
    tmap = np.load(out / "truth" / "maps" / f"iof_{w['name']}.npy")
    isd = read_isd(out / image["geometry"])
    assert isd.cassis["commanded_rotation_deg"] == image["commanded_rotation_deg"]
    cam = FrameCamera.from_isd(isd, et=image["exposure_et"][k])
    lines, samples = np.mgrid[w["row0"] + 8:w["row1"] - 8:3, w["col0"] + 8:w["col1"] - 8:3]
    obs = iof[lines - w["row0"], samples - w["col0"]]

    def corr(offset: float) -> float:
        pts = cam.with_rotation_offset(offset).image_to_ground(lines.astype(float),
                                                               samples.astype(float))
        lat, lon, _ = xyz_to_latlon(pts)
        pred = bilinear(tmap, *grid.fractional_index(lat, lon))
        ok = np.isfinite(pred) & np.isfinite(obs)
        if offset:
            assert ok.mean() > 0.95
            assert np.median(obs[ok] / pred[ok]) == pytest.approx(1.0, abs=0.03)
        return float(np.corrcoef(obs[ok], pred[ok])[0, 1])

    good = corr(truth["rotation_offset_deg"])
    assert good > 0.85
    assert corr(0.0) < good - 0.2       # the commanded angle alone does not fit


def test_truth_json_contents(sim) -> None:
    out, truth = sim
    assert truth["rotation_offset_deg"] == 0.3
    im = truth["images"][0]
    assert im["true_rotation_deg"] == pytest.approx(im["commanded_rotation_deg"] + 0.3)
    assert len(im["exposure_sclk_s"]) == 6
    step = np.diff(im["exposure_sclk_s"]) * 1e6
    np.testing.assert_allclose(step, truth["step_exp_us"], atol=0.1)
    assert 300_000 < truth["step_exp_us"] < 420_000
