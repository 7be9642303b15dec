"""Pipeline stage functions (cassis_pipe.stages) on a tiny synthetic observation: products,
stage JSONs, file counts after every stage, determinism, labels valid against the schemas."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as hs

from cassis_pipe.calibrate.absolute import iof_per_dn
from cassis_pipe.labels.names import parse_psa_framelet_name
from cassis_pipe.products.pds4 import read_product
from cassis_pipe.products.validate import validate_label
from cassis_pipe.sim.synthetic.raw import BIAS_DN, K_TABLE, write_synthetic_raw
from cassis_pipe.stages._io import PipelineError, keys_on_disk
from cassis_pipe.stages.calibrate import run_calibrate
from cassis_pipe.stages.level0 import run_level0
from cassis_pipe.stages.summary import run_summary
from cassis_pipe.stages.validate import run_validate

R_H_AU = 1.5
UID = 272536398
KERNELS = Path(__file__).parent / "data" / "kernels"
SCLK, LSK = KERNELS / "em16_tgo_step_20190823.tsc", KERNELS / "naif0012.tls"


def _run_all(raw: Path, res: Path, threads: int = 1) -> dict[str, dict]:
    out = {"validate": run_validate(raw / "science.bin", raw / "tc.bin", res / "validation")}
    plan = res / "validation" / "plan.json"
    out["level0"] = run_level0(raw / "science.bin", plan, res / "level0" / "framelets",
                               res / "level0" / "level0.json", threads=threads, sclk=SCLK,
                               lsk=LSK)
    out["calibrate"] = run_calibrate(
        res / "level0" / "level0.json", res / "level0" / "framelets", plan,
        raw / "calibration" / "synth-v1", res / "level1" / "framelets",
        res / "level1" / "quicklook", res / "level1" / "calibrate.json", r_h_au=R_H_AU,
        threads=threads)
    v = res / "validation"
    out["summary"] = run_summary("MY34_002002_211_2", v / "validate.json", v / "validation.json",
                                 v / "validation.txt", res / "level0" / "level0.json",
                                 res / "level1" / "calibrate.json", res / "summary.json",
                                 res / "summary.txt")
    return out


@pytest.fixture(scope="module")
def clean_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object, dict]:
    raw = tmp_path_factory.mktemp("raw")
    obs = write_synthetic_raw(raw)
    res = tmp_path_factory.mktemp("res")
    return raw, res, obs, _run_all(raw, res)


def _tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def test_clean_run_every_stage_complete(clean_run) -> None:
    raw, res, obs, st = clean_run
    assert st["validate"]["ok"] and st["validate"]["validation_counts"]["corrupt"] == 0
    assert st["validate"]["plan"]["expected_framelets"] == len(obs.dn) == 18
    assert st["level0"]["ok"] and st["calibrate"]["ok"] and st["summary"]["ok"]
    for c in st["level0"]["file_counts"]["stages"]:
        assert (c["expected"], c["distinct"], c["ok"]) == (18, 18, True), c["stage"]
    assert sorted(keys_on_disk(res / "level0" / "framelets")) == sorted(obs.dn)
    l1 = st["calibrate"]["file_counts"]["stages"]
    assert [(c["stage"], c["expected"], c["produced"]) for c in l1] == [
        ("level0_input", 12, 12), ("level1_products", 12, 12), ("quicklooks", 4, 4)]
    assert sorted(p.name for p in (res / "level1" / "quicklook").iterdir()) == [
        f"MY34_002002_211_2_{f}.jpg" for f in ("BLU", "NIR", "PAN", "RED")]
    text = (res / "summary.txt").read_text()
    assert "OK" in text and "MISMATCH" not in text


def test_level0_products_exact_dn_and_psa_names(clean_run) -> None:
    raw, res, obs, st = clean_run
    near = {0: 0, 3: 3}
    for rec in st["level0"]["products"]:
        key = (rec["uid"], rec["window"], rec["sequence"])
        dn = read_product(res / "level0" / "framelets" / f"{rec['product']}.xml")
        assert dn.dtype == np.uint16 and dn.shape == obs.dn[key].shape
        ratio = obs.table.compr[rec["window"]]
        assert np.abs(dn.astype(int) - obs.dn[key]).max() <= near[ratio]
        if ratio == 0:
            assert np.array_equal(dn, obs.dn[key])
        name = parse_psa_framelet_name(rec["product"])
        assert (name.level, name.uid, name.window_counter, name.sequence_counter) == (
            "raw", UID, rec["window"], rec["sequence"])
        assert rec["product"].startswith("cas_raw_sc_")


def test_labels_valid_and_record_calibration(clean_run) -> None:
    raw, res, obs, st = clean_run
    l0 = res / "level0" / "framelets" / f"{st['level0']['products'][0]['product']}.xml"
    l1 = res / "level1" / "framelets" / f"{st['calibrate']['products'][0]['product']}.xml"
    assert validate_label(l0) == []
    assert validate_label(l1) == []
    text = l1.read_text()
    assert "synth-v1/master_flat.fits" in text and "calibration_version" in text
    assert "2026-11" not in text  # no "today" anywhere: dates come from the observation


def test_level1_iof_matches_the_definition(clean_run, tmp_path: Path) -> None:
    """Flat 1, bias 100 DN, constant straylight (order 0: the control windows' mean c):
    I/F = (DN - 100 - c) K r_h^2 / t_exp; the 2x2 binned NIR is expanded to full resolution."""
    raw, res, obs, st = clean_run
    stage = run_calibrate(
        res / "level0" / "level0.json", res / "level0" / "framelets",
        res / "validation" / "plan.json", raw / "calibration" / "synth-v1", tmp_path / "l1",
        tmp_path / "ql",
        tmp_path / "calibrate.json", r_h_au=R_H_AU, straylight_order=0)
    l0 = {(r["uid"], r["window"], r["sequence"]): r for r in st["level0"]["products"]}
    assert len(stage["products"]) == 12
    for p in stage["products"]:
        rec = l0[(p["uid"], p["window"], p["sequence"])]
        dn = read_product(res / "level0" / "framelets" / f"{rec['product']}.xml")
        iof = read_product(tmp_path / "l1" / f"{p['product']}.xml")
        f = rec["bin_factor"]
        assert iof.dtype == np.float32 and iof.shape == (dn.shape[0] * f, dn.shape[1] * f)
        iof = iof[::f, ::f]  # binned pixel (i, j) sits on (2i, 2j) after bilinear expansion
        factor = iof_per_dn(K_TABLE[p["filter"]], R_H_AU, rec["t_exp_s"])
        assert p["stats"]["iof_per_dn"] == pytest.approx(factor, rel=1e-12)
        expect = (dn - BIAS_DN - p["stats"]["straylight_mean_dn"]) * factor
        np.testing.assert_allclose(iof, expect, rtol=0, atol=1e-5 * np.abs(dn * factor).max())
        assert p["saturated_px"] == 0


def test_rerun_is_byte_identical_and_threads_do_not_matter(clean_run, tmp_path: Path) -> None:
    raw, res, obs, st = clean_run
    _run_all(raw, tmp_path, threads=2)
    assert _tree(tmp_path) == _tree(res)


def test_dropped_framelet_missing_at_every_stage(tmp_path: Path) -> None:
    lost = (UID, 1, 2)  # RED, exposure 2
    raw = tmp_path / "raw"
    write_synthetic_raw(raw, drop=[lost])
    st = _run_all(raw, tmp_path / "res")
    ident = {"uid": UID, "window": 1, "sequence": 2, "filter": "RED"}
    rows = st["summary"]["stages"]
    assert [r["stage"] for r in rows] == [
        "packets_received", "received", "reassembled", "decoded", "level0_products",
        "level0_input", "level1_products", "quicklooks"]
    for r in rows[:-1]:
        assert r["missing"] == [ident] and not r["ok"], r["stage"]
        assert r["produced"] == r["expected"] - 1
    assert rows[-1]["ok"]  # the RED quick-look still exists, with a gap
    assert not st["summary"]["ok"]
    rep = json.loads((tmp_path / "res" / "validation" / "validation.json").read_text())
    assert [m["window"] for m in rep["missing_framelets"]] == [1]
    assert "MISMATCH" in (tmp_path / "res" / "summary.txt").read_text()


def test_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="cannot read"):
        run_validate(tmp_path / "science.bin", tmp_path / "tc.bin", tmp_path / "v")


def test_garbage_science_reported_never_crashes(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    write_synthetic_raw(raw)
    (raw / "science.bin").write_bytes(np.random.default_rng(5).bytes(5000))
    st = _run_all(raw, tmp_path / "res")
    rows = st["summary"]["stages"]
    assert [(r["produced"], r["expected"]) for r in rows] == [(0, 18)] * 5 + [(0, 12)] * 2 + [
        (0, 4)]
    assert st["validate"]["validation_counts"]["reject_bytes"] == 5000


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st_flips=hs.lists(hs.tuples(hs.integers(0, 10**9), hs.integers(0, 7)), min_size=1,
                         max_size=6))
def test_random_bit_flips_counts_stay_consistent(clean_run, tmp_path_factory, st_flips) -> None:
    """Any damage to science.bin: no crash; every stage's produced + missing = expected, and
    what is produced downstream was produced upstream."""
    raw, _, _, _ = clean_run
    d = tmp_path_factory.mktemp("flip")
    (d / "calibration").symlink_to(raw / "calibration")
    (d / "tc.bin").write_bytes((raw / "tc.bin").read_bytes())
    data = bytearray((raw / "science.bin").read_bytes())
    for pos, bit in st_flips:
        data[pos % len(data)] ^= 1 << bit
    (d / "science.bin").write_bytes(bytes(data))
    out = _run_all(d, d / "res")
    previous = None
    for row in out["summary"]["stages"][:-1]:
        assert row["produced"] + len(row["missing"]) == row["expected"], row["stage"]
        assert not row["unexpected"] and not row["repeated"]
        missing = {(m["uid"], m["window"], m["sequence"]) for m in row["missing"]}
        if previous is not None and row["stage"] not in ("level0_input", "level1_products"):
            assert previous <= missing, row["stage"]
        previous = missing
