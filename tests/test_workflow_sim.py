"""The workflow on observations made by the instrument simulator (the simulate rule included):
accuracy against the simulator's truth, injected faults listed exactly, the embedded sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cassis_pipe.instrument.constants import FILTER_ORDER
from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.level0.pseudo import predict_packets
from cassis_pipe.sim.oracle.truth import (
    compare_level0,
    compare_level1,
    damaged_framelets,
    match_faults,
)
from cassis_pipe.stages._io import keys_on_disk

pytest.importorskip("cassis_pipe.sim.writer")

from test_workflow import REPO, snakemake, write_config  # noqa: E402

OBS = "MY35_006000_010_0"  # the simulator's default orbit and target


# the small preset's windows, NIR 2x2 binned on board
BINNED_NIR = """imaging:
  num_exp: 4
  windows:
    - {name: PAN, row0: 354, row1: 633, col0: 768, col1: 1279, binning: 0, comp_ratio_id: 3}
    - {name: RED, row0: 712, row1: 967, col0: 768, col1: 1279, binning: 0, comp_ratio_id: 3}
    - {name: NIR, row0: 1048, row1: 1303, col0: 768, col1: 1279, binning: 1, comp_ratio_id: 3}
    - {name: BLU, row0: 1409, row1: 1664, col0: 768, col1: 1279, binning: 0, comp_ratio_id: 3}
    - {name: CTL1, row0: 200, row1: 208, col0: 640, col1: 767, binning: 0, comp_ratio_id: 0}
    - {name: CTL2, row0: 1850, row1: 1858, col0: 1280, col1: 1407, binning: 0, comp_ratio_id: 0}
"""


def sim_workdir(d: Path, sim_yaml: str) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "sim.yaml").write_text(sim_yaml)
    write_config(d, [{"observation_id": OBS, "raw_dir": f"raw/{OBS}",
                      "calibration_version": "sim-v1", "simulate": "true",
                      "sim_config": "sim.yaml"}])
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2", timeout=1200)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    return d


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sim_workdir(tmp_path_factory.mktemp("simclean"), "imaging: {num_exp: 3}\n")


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Path:
    faults = ("faults: {dropped: 1, duplicated: 1, reordered: 1, bitflipped: 1, truncated: 1, "
              "garbage: 1, missing_framelet: 1}\n")
    return sim_workdir(tmp_path_factory.mktemp("simfaulty"), BINNED_NIR + faults)


def _paths(d: Path) -> tuple[Path, Path]:
    return d / "raw" / OBS, d / "results" / OBS


def test_simulated_without_faults_zero_rejects(clean: Path) -> None:
    raw, res = _paths(clean)
    assert json.loads((raw / "truth" / "faults.json").read_text())["faults"] == []
    summary = json.loads((res / "summary.json").read_text())
    assert summary["ok"], (res / "summary.txt").read_text()
    counts = summary["validation"]["counts"]
    assert counts["reject_bytes"] == 0 and counts["corrupt"] == 0
    assert summary["validation"]["problems"] == {}
    l1 = json.loads((res / "level1" / "calibrate.json").read_text())
    assert len(l1["products"]) == 4 * 3 and len(l1["quicklooks"]) == 4


def test_second_run_has_nothing_to_do(clean: Path) -> None:
    """The simulated row's geometry comes from the simulator's kernels (spice provider); their
    files are declared by rule simulate, so the set of inputs of rule geometry is the same
    before and after the simulation and a second run plans nothing."""
    stage = json.loads((clean / "results" / OBS / "geometry" / "geometry.json").read_text())
    assert stage["provider"] == "spice" and stage["kernels"][0]["name"] == "sim.tm"
    assert {k["name"] for k in stage["kernels"]} >= {"sim_tgo.bsp", "sim_tgo.bc"}
    r = snakemake(clean, "--configfile", "config.yaml", "-n")
    assert r.returncode == 0 and "Nothing to be done" in r.stdout + r.stderr, r.stdout[-3000:]


def test_level0_dn_equal_truth_within_near(clean: Path) -> None:
    raw, res = _paths(clean)
    cmp = compare_level0(raw, res / "level0" / "level0.json", res / "level0" / "framelets")
    assert cmp["ok"], [f for f in cmp["framelets"] if not f["ok"]]
    assert len(cmp["framelets"]) == 6 * 3
    for f in cmp["framelets"]:
        if f["near"] == 0:
            assert f["max_abs_diff"] == 0


def test_level1_iof_against_truth(clean: Path) -> None:
    raw, res = _paths(clean)
    cmp = compare_level1(raw, res / "level0" / "level0.json", res / "level1" / "calibrate.json",
                         res / "level1" / "framelets")
    assert sorted(cmp["median_relative_bias"]) == sorted(FILTER_ORDER)
    for f, bias in cmp["median_relative_bias"].items():
        assert abs(bias) <= 0.005, (f, bias)
    assert cmp["max_straylight_residual"] <= 0.01


def test_injected_faults_listed_exactly(faulty: Path) -> None:
    raw, res = _paths(faulty)
    faults = json.loads((raw / "truth" / "faults.json").read_text())["faults"]
    assert sorted(f["kind"] for f in faults) == sorted(
        ["dropped", "duplicated", "reordered", "bitflipped", "truncated", "garbage",
         "missing_framelet"])
    rep = json.loads((res / "validation" / "validation.json").read_text())
    m = match_faults(rep, faults)
    assert m["exact"], m


def test_faulty_framelets_missing_later_and_the_rest_produced(faulty: Path) -> None:
    raw, res = _paths(faulty)
    faults = json.loads((raw / "truth" / "faults.json").read_text())["faults"]
    lost = next(f for f in faults if f["kind"] == "missing_framelet")
    lost_key = (lost["uid"], lost["window"], lost["sequence"])
    summary = json.loads((res / "summary.json").read_text())
    packets = predict_packets(plan_from_tc((raw / "tc.bin").read_bytes()))
    colour = {p.key for p in packets if p.filter in FILTER_ORDER}
    level1_stages = ("level0_input", "level1_products")  # colour windows only
    for row in summary["stages"]:
        if row["stage"] == "quicklooks" or (row["stage"] in level1_stages
                                            and lost_key not in colour):
            continue
        missing = {(m["uid"], m["window"], m["sequence"]) for m in row["missing"]}
        assert lost_key in missing, row["stage"]
    damaged = damaged_framelets(faults)
    expected = {p.key for p in packets}
    assert set(keys_on_disk(res / "level0" / "framelets")) == expected - damaged
    assert set(keys_on_disk(res / "level1" / "framelets")) == colour - damaged


@pytest.mark.slow
def test_fresh_clone_runs_the_embedded_sample(tmp_path: Path) -> None:
    """`snakemake --cores 2` in a fresh export of the repository: simulate the sample
    (10 framelets x 2048 px), then validation, level 0 and level 1 for real."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=300)
    r = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2"], cwd=clone,
                       capture_output=True, text=True, timeout=3000)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    res = clone / "results" / OBS
    summary = json.loads((res / "summary.json").read_text())
    assert summary["ok"], (res / "summary.txt").read_text()
    assert len(list((res / "level1" / "framelets").glob("*.dat"))) == 40
    assert len(list((res / "level1" / "quicklook").glob("*.jpg"))) == 4


def test_sim_check_command(faulty: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from cassis_pipe.cli import main

    raw, res = _paths(faulty)
    assert main(["sim-check", str(raw), str(res), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["faults_reported_exactly"] and out["injected_faults"] == 7
    assert out["level0_within_near"]
    assert main(["sim-check", str(raw), str(res / "nowhere")]) == 2


def test_binned_window_decoded_and_expanded(faulty: Path) -> None:
    """NIR binned 2x2 on board: level-0 DN (128 x 256) equal the truth within NEAR; level 1 is
    expanded to the full 256 x 512 detector pixels."""
    raw, res = _paths(faulty)
    cmp = compare_level0(raw, res / "level0" / "level0.json", res / "level0" / "framelets")
    assert cmp["ok"] and any(f["window"] == "NIR" for f in cmp["framelets"])
    l0 = json.loads((res / "level0" / "level0.json").read_text())
    nir0 = [p for p in l0["products"] if p["filter"] == "NIR"]
    assert nir0 and all(p["shape"] == [128, 256] and p["bin_factor"] == 2 for p in nir0)
    l1 = json.loads((res / "level1" / "calibrate.json").read_text())
    nir1 = [p for p in l1["products"] if p["filter"] == "NIR"]
    assert nir1
    for p in nir1:
        xml = (res / "level1" / "framelets" / f"{p['product']}.xml").read_text()
        assert "<elements>256</elements>" in xml and "<elements>512</elements>" in xml
        assert "binned_expansion" in xml


def test_faulty_framelets_named_in_strips_mosaics_and_summary(faulty: Path) -> None:
    """Issue 11 item 4: the plan's colour framelets without a level-1 product are named (not
    only counted) in stitch.json, map.json and summary.txt."""
    raw, res = _paths(faulty)
    packets = predict_packets(plan_from_tc((raw / "tc.bin").read_bytes()))
    colour = {p.key: p.filter for p in packets if p.filter in FILTER_ORDER}
    lost = sorted(set(colour) - set(keys_on_disk(res / "level1" / "framelets")))
    assert lost
    named = [{"uid": k[0], "window": k[1], "sequence": k[2], "filter": colour[k]} for k in lost]
    for stage in (res / "level1c" / "stitch.json", res / "level2" / "map.json"):
        st = json.loads(stage.read_text())
        got = sorted((m["uid"], m["window"], m["sequence"]) for m in st["missing_framelets"])
        assert got == lost and not st["ok"], stage.name
        assert any(f"{len(lost)} framelet(s) of the command plan not in the" in p
                   for p in st["problems"])
    stitch = json.loads((res / "level1c" / "stitch.json").read_text())
    for n in named:
        assert n in stitch["filters"][n["filter"]]["missing_framelets"]
    text = (res / "summary.txt").read_text()
    line = next(ln for ln in text.splitlines() if "so in no level-1c strip" in ln)
    for n in named:
        assert f"{n['filter']} {n['uid']}/{n['window']}/{n['sequence']}" in line


def _best_row(block: np.ndarray, strip: np.ndarray) -> int:
    """Strip line where ``block`` (lines x samples) correlates best (mean removed), on the
    samples both have (the strip may be a column narrower: sub-pixel along-track placement)."""
    width = min(block.shape[1], strip.shape[1])
    b = block[:, :width] - block[:, :width].mean()
    scores = []
    for r in range(strip.shape[0] - block.shape[0] + 1):
        a = strip[r:r + block.shape[0], :width]
        if not np.isfinite(a).all():
            scores.append(-1.0)
            continue
        a = a - a.mean()
        scores.append(float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())))
    return int(np.argmax(scores))


def test_quicklook_shows_the_swath_once(clean: Path) -> None:
    """Issue 11 item 8: with geometry the level-1 quick-look is as long as the swath (the
    stitched strip), not 3 x 280 framelet lines, and every 40-line block of it is found in the
    strip at its own line: no ground feature appears twice."""
    from PIL import Image

    from cassis_pipe.products.pds4 import read_product
    from cassis_pipe.stages.quicklook import PLACED

    _, res = _paths(clean)
    cal = json.loads((res / "level1" / "calibrate.json").read_text())
    l0 = json.loads((res / "level0" / "level0.json").read_text())
    assert cal["quicklook_order"] == {OBS: PLACED}
    for f in FILTER_ORDER:
        name = f"{OBS}_{f}.jpg"
        ql = np.asarray(Image.open(res / "level1" / "quicklook" / name).convert("L"), float)
        assert list(ql.shape) == cal["quicklook_layout"][name]["swath_shape"]
        (strip_xml,) = (res / "level1c" / "strips").glob(f"*-{f.lower()}-*-sti.xml")
        strip = read_product(strip_xml).astype(float)
        strip[strip < -1e30] = np.nan
        rows = next(p["shape"][0] for p in l0["products"] if p["filter"] == f)
        assert abs(ql.shape[0] - strip.shape[0]) <= 2, (f, ql.shape, strip.shape)
        assert ql.shape[0] <= 3 * rows - 40  # stacked whole, the framelets are 3 x rows
        for r0 in range(0, ql.shape[0] - 40, 40):
            found = _best_row(ql[r0:r0 + 40, 8:-8], strip[:, 8:-8])
            assert abs(found - r0) <= 2, (f, r0, found)
