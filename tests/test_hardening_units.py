"""Issue 11 kernels without Snakemake: housekeeping checks (CRC, gaps, limits table), the
truncated command plan in the validation report, the console lines of a stage's problems, the
plan's framelets named in level-2 stage JSONs, and the quick-look swath without duplicated
overlaps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cassis_pipe.level0.hk_check import check_hk, find_gaps, hk_seconds, load_limits
from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.sim.synthetic.level0 import build_observation
from cassis_pipe.sim.synthetic.raw import synthetic_hk
from cassis_pipe.stages._io import no_science_cause
from cassis_pipe.stages._level1 import report_missing
from cassis_pipe.stages.hk import run_hk
from cassis_pipe.stages.level0 import run_level0
from cassis_pipe.stages.quicklook import NO_GEOMETRY, placed_swath, swath, write_quicklooks
from cassis_pipe.stages.snake import console_lines
from cassis_pipe.stages.validate import run_validate
from cassis_pipe.telemetry.hk import encode_hk, read_hk_stream
from cassis_pipe.telemetry.timecode import encode_timecode

T0 = 100_000_000.0


def _zones(z1: int, oflw: int = 0) -> dict[str, int]:
    d = {f"Z{z}_CALC_TEMP": 2730 for z in range(1, 6)}
    d.update({f"Z{z}_MIN_TEMP": 2700 for z in range(1, 6)})
    d.update({f"Z{z}_MAX_TEMP": 2760 for z in range(1, 6)})
    d.update({"Z1_CALC_TEMP": z1, "FPGA_COMM_STAT": 1})
    return d


def test_nominal_hk_has_no_problem() -> None:
    out = check_hk(read_hk_stream(synthetic_hk(T0, 20)), load_limits())
    assert out["problems"] == [] and out["frames"]["valid"] == 120
    assert out["time"]["first_s"] == T0 and out["time"]["last_s"] == T0 + 19


def test_hk_crc_rejects_counted() -> None:
    data = bytearray(synthetic_hk(T0, 5))
    data[64 * 7 + 20] ^= 0x40  # one bit of the 8th frame
    out = check_hk(read_hk_stream(bytes(data)), load_limits())
    assert out["frames"]["valid"] == 29 and out["rejects"]["bytes_by_reason"] == {"bad CRC": 64}
    assert out["problems"] == ["hk.bin: 64 bytes rejected in 1 span(s) (bad CRC 64 B)"]


def test_hk_gaps_against_the_threshold() -> None:
    assert find_gaps([0.0, 1.0, 2.0, 5.0, 6.0], 1.5) == [
        {"from_s": 2.0, "to_s": 5.0, "length_s": 3.0}]
    assert find_gaps([0.0, 1.0, 2.0, 5.0, 6.0], 3.5) == []
    data = synthetic_hk(T0, 3) + synthetic_hk(T0 + 10, 3)
    out = check_hk(read_hk_stream(data), load_limits(), gap_threshold_s=2.0)
    assert [g["length_s"] for g in out["time"]["gaps"]] == [8.0]
    assert "1 gap(s) in time longer than 2 s (longest 8.0 s" in out["problems"][0]


def test_hk_limits_per_channel_first_last_extreme() -> None:
    frames = [encode_hk(0x01, encode_timecode(T0 + i), _zones(z))
              for i, z in enumerate((2730, 2790, 2800, 2740, 2650))]
    frames += [encode_hk(0x10, encode_timecode(T0 + i), {"IMEM_OFLW_CNT": c})
               for i, c in enumerate((3, 3, 5))]
    out = check_hk(read_hk_stream(b"".join(frames)), load_limits())
    v = out["limits"]["violations"]
    assert v["Z1_CALC_TEMP"]["frames"] == 3
    assert (v["Z1_CALC_TEMP"]["first_s"], v["Z1_CALC_TEMP"]["last_s"]) == (T0 + 1, T0 + 4)
    assert v["Z1_CALC_TEMP"]["extreme"] == 2650  # 50 below the minimum, farther than 2800
    assert v["IMEM_OFLW_CNT"]["frames"] == 1 and v["IMEM_OFLW_CNT"]["extreme"] == 5
    assert set(v) == {"Z1_CALC_TEMP", "IMEM_OFLW_CNT"}
    assert any(p.startswith("HK Z1_CALC_TEMP out of limits") for p in out["problems"])


def test_limits_table_names_its_sources() -> None:
    limits = load_limits()
    assert {lim.channel for lim in limits} >= {"Z1_CALC_TEMP", "FPGA_COMM_STAT"}
    assert all(lim.source for lim in limits)


def test_hk_timecode_seconds() -> None:
    assert hk_seconds(int.from_bytes(encode_timecode(T0 + 0.5), "big")) == T0 + 0.5
    assert hk_seconds(0) is None


def test_hk_stage_without_hk_bin_reports_it(tmp_path: Path) -> None:
    st = run_hk(None, tmp_path / "hk.json", observation_id="MY34_002002_211_2")
    assert not st["ok"] and "no hk.bin" in st["problems"][0]
    garbage = tmp_path / "hk.bin"
    garbage.write_bytes(bytes(range(256)) * 4)
    st = run_hk(garbage, tmp_path / "hk.json", observation_id="MY34_002002_211_2")
    assert not st["ok"] and st["frames"]["valid"] == 0 and st["rejects"]["bytes"] == 1024
    assert json.loads((tmp_path / "hk.json").read_text()) == st
    k = Path(__file__).parent / "data" / "kernels"
    hk = tmp_path / "gap.bin"
    hk.write_bytes(synthetic_hk(T0, 3) + synthetic_hk(T0 + 10, 3))
    st = run_hk(hk, tmp_path / "hk.json", observation_id="MY34_002002_211_2",
                sclk=k / "em16_tgo_step_20190823.tsc", lsk=k / "naif0012.tls")
    (gap,) = st["time"]["gaps"]
    assert gap["to_utc"] > gap["from_utc"] > st["time"]["first_utc"]


@pytest.mark.parametrize("cut", [70, 100, 127])
def test_truncated_tc_in_the_validation_report(tmp_path: Path, cut: int) -> None:
    obs = build_observation()
    (tmp_path / "tc.bin").write_bytes(obs.tc[:cut])
    (tmp_path / "science.bin").write_bytes(b"".join(b for _, _, b in obs.frames))
    st = run_validate(tmp_path / "science.bin", tmp_path / "tc.bin", tmp_path / "v")
    text = f"command plan truncated at byte 64: tc.bin ends {cut - 64} byte(s) into"
    assert not st["ok"] and st["problems"][0].startswith(text)
    assert text in (tmp_path / "v" / "validation.txt").read_text()
    rep = json.loads((tmp_path / "v" / "validation.json").read_text())
    assert rep["command_plan"]["truncated"].startswith(text)
    assert st["plan"]["truncated"].startswith(text)


def test_whole_tc_is_not_truncated(tmp_path: Path) -> None:
    obs = build_observation()
    (tmp_path / "tc.bin").write_bytes(obs.tc)
    (tmp_path / "science.bin").write_bytes(b"".join(b for _, _, b in obs.frames))
    st = run_validate(tmp_path / "science.bin", tmp_path / "tc.bin", tmp_path / "v")
    assert st["ok"] and st["problems"] == [] and st["plan"]["truncated"] is None


def test_console_lines() -> None:
    st = {"stage": "hk", "problems": ["hk.bin: 3 bytes rejected"]}
    assert console_lines("MY34_002002_211_2", st) == [
        "WARNING MY34_002002_211_2: hk: hk.bin: 3 bytes rejected"]
    assert console_lines("X", {"stage": "level0", "ok": True}) == []
    assert console_lines("X", {"stage": "summary", "problems": ["a", "b"]}) == [
        "WARNING X: PROBLEMS FOUND (2), see summary.txt"]


def test_level2_stage_names_missing_framelets() -> None:
    lost = {"uid": 549158952, "window": 3, "sequence": 1, "filter": "BLU"}
    st = {"stage": "stitch", "filters": {"BLU": {}, "PAN": {}}, "counts": {"missing": []},
          "ok": True}
    report_missing(st, [lost], "strips")
    assert not st["ok"] and st["missing_framelets"] == [lost]
    assert st["filters"]["BLU"]["missing_framelets"] == [lost]
    assert st["filters"]["PAN"]["missing_framelets"] == []
    assert st["problems"] == ["1 framelet(s) of the command plan not in the strips: "
                              "BLU 549158952/3/1"]
    ok = {"stage": "map", "counts": {"missing": []}, "ok": True}
    report_missing(ok, [], "mosaics")
    assert ok["ok"] and ok["problems"] == [] and ok["missing_framelets"] == []


def _ground(lines: int = 300, cols: int = 40) -> np.ndarray:
    g = np.random.default_rng(3).random((lines, cols)).astype(np.float32)
    g[170:173, 20:23] = 10.0  # one bright crater, in the overlap of framelets 2 and 3
    return g


def test_placed_swath_has_no_duplicated_overlap() -> None:
    """Framelets of 80 lines every 55 lines (25 lines overlap) cut from one ground strip:
    placed at their offsets, the swath IS the ground strip: its length and the crater once."""
    g = _ground()
    tops = [0, 55, 110, 165, 220]
    frames = {k: g[t:t + 80].copy() for k, t in enumerate(tops)}
    pos = np.array([[t, 0] for t in tops])
    out = placed_swath(frames, pos)
    assert out.shape == (300, 40)
    np.testing.assert_array_equal(out, g)
    assert int((out >= 10).sum()) == 9
    stacked = swath(frames, len(frames))  # today's stacking: the crater twice
    assert stacked.shape == (400, 40) and int((stacked >= 10).sum()) == 18


def test_placed_swath_keeps_each_framelets_defects_and_gaps() -> None:
    """A hot column in one framelet stays visible in the lines it owns (no blending); a
    missing framelet leaves NaN only where no other framelet sees the ground; ground moving
    to lower lines (later exposures on top) works the same."""
    g = _ground()
    tops = [220, 165, 110, 55, 0]
    frames = {k: g[t:t + 80].copy() for k, t in enumerate(tops)}
    frames[1][:, 5] = 99.0
    pos = np.array([[t, 0] for t in tops])
    out = placed_swath(frames, pos)
    owned = np.flatnonzero(out[:, 5] == 99.0)
    assert owned.size > 0 and np.all(out[owned, 6] == g[owned, 6])
    del frames[2]  # lines 110..189: neighbours cover 110..134 and 165..189
    out = placed_swath(frames, pos)
    gap = np.flatnonzero(np.isnan(out).all(axis=1))
    assert gap.tolist() == list(range(135, 165))


def test_quicklook_without_geometry_keeps_stacking_and_says_so(tmp_path: Path) -> None:
    plan = plan_from_tc(build_observation().tc)
    uid = plan.images[0].uid
    frames = {k: np.full((40, 64), 0.1 * (k + 1), np.float32) for k in range(3)}
    names, orders, layout = write_quicklooks(tmp_path, plan, {(uid, "PAN"): frames}, ["PAN"])
    assert names == ["MY34_002002_211_2_PAN.jpg"] and layout == {}
    assert orders == {"MY34_002002_211_2": NO_GEOMETRY} and "overlaps duplicated" in NO_GEOMETRY
    assert Image.open(tmp_path / names[0]).size == (64, 120)


def test_random_science_says_it_holds_no_science_frame(tmp_path: Path) -> None:
    k = Path(__file__).parent / "data" / "kernels"
    (tmp_path / "tc.bin").write_bytes(build_observation().tc)
    (tmp_path / "science.bin").write_bytes(np.random.default_rng(5).bytes(5000))
    run_validate(tmp_path / "science.bin", tmp_path / "tc.bin", tmp_path / "v")
    l0 = run_level0(tmp_path / "science.bin", tmp_path / "v" / "plan.json", tmp_path / "l0",
                    tmp_path / "level0.json", sclk=k / "em16_tgo_step_20190823.tsc",
                    lsk=k / "naif0012.tls")
    assert no_science_cause("MY34_002002_211_2", l0) == (
        "0 of 18 expected framelets received; science.bin (5000 bytes) holds no valid "
        "science frame")
    assert "level0_products: 0 of 18 expected" in l0["problems"][0]
