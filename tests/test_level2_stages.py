"""The file-level stages of ``pipeline.level2`` (what the Snakemake rules call) on a small
simulated observation (6 exposures, 512-px windows, rotation offset -0.4 deg).

(With 256-px windows the fringing minimum lies 0.002-0.003 deg off the truth, which moves the
map by 0.6-0.9 px: geolocation needs the offset to ~0.0016 deg; see docs/stages.md.)

The level-1 inputs are laid out as the level-1 stage writes them (``level0.json`` records with
the exposure time code, ``calibrate.json`` products, PDS4 I/F products), built from the
simulator's pre-compression DN (``pipeline.simlevel1``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from cassis_pipe.products.metadata import FLOAT32_MISSING, ProductMeta, SpecialConstants
from cassis_pipe.products.pds4 import write_product
from cassis_pipe.products.validate import validate_label
from cassis_pipe.register.history import read_history
from cassis_pipe.sim.config import make_config
from cassis_pipe.sim.oracle.level1 import simulated_level1
from cassis_pipe.sim.writer import simulate
from cassis_pipe.stages._io import PipelineError as Level2Error
from cassis_pipe.stages._level1 import load_level1
from cassis_pipe.stages.accuracy import run_accuracy
from cassis_pipe.stages.map import run_map
from cassis_pipe.stages.offset_history import run_offset_history
from cassis_pipe.stages.records import DetectorWindow, Level0Record, Level1Record
from cassis_pipe.stages.rotation import commanded_rotation_deg, run_rotation
from cassis_pipe.stages.stitch import run_stitch
from cassis_pipe.telemetry.timecode import encode_timecode

WINDOW_COUNTER = {"PAN": 0, "RED": 1, "NIR": 2, "BLU": 3}
TRUE_OFFSET = -0.4


@pytest.fixture(scope="module")
def level1(tmp_path_factory: pytest.TempPathFactory) -> dict:
    sim = tmp_path_factory.mktemp("sim")
    cfg = make_config("small", 11, {"imaging": {"rotation_offset_deg": TRUE_OFFSET}})
    simulate(cfg, sim)
    truth = json.loads((sim / "truth" / "truth.json").read_text())
    framelets, im = simulated_level1(sim)
    res = tmp_path_factory.mktemp("results")
    l1 = res / "level1" / "framelets"
    l1.mkdir(parents=True)
    l0_recs, cal_recs = [], []
    rows = {w["name"]: w for w in truth["config"]["imaging"]["windows"]}
    for f in framelets:
        key = {"uid": im["uid"], "window": WINDOW_COUNTER[f.filter], "sequence": f.exposure}
        w = rows[f.filter]
        tc = encode_timecode(im["exposure_sclk_s"][f.exposure])
        start = f"2019-05-15T07:18:{50 + f.exposure:02d}.000"
        win = DetectorWindow(w["row0"], w["col0"], w["row1"] - w["row0"] + 1,
                             w["col1"] - w["col0"] + 1)
        l0_recs.append(Level0Record(
            **key, filter=f.filter, image_index=0, exposure_timecode=tc.hex(),
            start_utc=start, t_exp_s=truth["t_exp_s"], binning=0, bin_factor=1,
            detector_window=win, shape=list(f.image.shape), encoding="jpeg-ls",
            product=f"l0_{f.filter.lower()}_{f.exposure}",
            observation_id=im["observation_id"],
            commanded_angle_deg=im["commanded_rotation_deg"]).to_dict())
        name = f"cas_cal_sc_l1_{f.filter.lower()}_{f.exposure}"
        meta = ProductMeta(name=name, level="calibrated", start_utc=start, stop_utc=start,
                           modification_date="2019-05-15", filter_name=f.filter, unit="I/F",
                           special=SpecialConstants(missing=FLOAT32_MISSING))
        write_product(l1, meta, np.nan_to_num(f.image, nan=FLOAT32_MISSING).astype(np.float32))
        cal_recs.append(Level1Record(**key, filter=f.filter, product=name,
                                     straylight=None, saturated_px=0).to_dict())
    (res / "level0.json").write_text(json.dumps({"products": l0_recs}))
    (res / "calibrate.json").write_text(json.dumps({"products": cal_recs}))
    return {"sim": sim, "res": res, "truth": truth, "im": im, "framelets": framelets}


def _isd(d: dict) -> Path:
    return d["sim"] / "geometry" / f"{d['im']['observation_id']}.json"


def _load(d: dict, obs: str | None = None):
    r = d["res"]
    return load_level1(obs or d["im"]["observation_id"], r / "level0.json", r / "calibrate.json",
                       r / "level1" / "framelets", _isd(d))


def test_load_level1_matches_simulation(level1) -> None:
    fr, info = _load(level1)
    im = level1["im"]
    assert info["observation_id"] == im["observation_id"] and info["uid"] == im["uid"]
    assert len(fr) == 24 and {f.filter for f in fr} == set(WINDOW_COUNTER)
    for f in fr:
        # image time: exposure start + t_exp / 2 (ISIS convention; the simulator renders there)
        t_mid = im["exposure_et"][f.exposure] + level1["truth"]["t_exp_s"] / 2
        assert f.camera.et == pytest.approx(t_mid, abs=1e-5)
        ref = next(g for g in level1["framelets"]
                   if (g.filter, g.exposure) == (f.filter, f.exposure))
        assert f.camera.image_shape() == f.image.shape == ref.image.shape
    assert commanded_rotation_deg(info) == pytest.approx(im["commanded_rotation_deg"], abs=1e-3)


def test_stage_chain(level1, tmp_path: Path) -> None:
    fr, info = _load(level1)
    out = tmp_path
    rot = run_rotation(fr, info, out / "curve.png", out / "rotation.json")
    assert rot["ok"] and rot["offset_deg"] == pytest.approx(TRUE_OFFSET, abs=0.02)
    assert json.loads((out / "rotation.json").read_text())["offset_deg"] == rot["offset_deg"]
    run_offset_history([out / "rotation.json"], out / "offsets.csv")
    assert read_history(out / "offsets.csv")[0].offset_deg == rot["offset_deg"]

    sti = run_stitch(fr, info, out / "rotation.json", out / "strips", out / "stitch.json")
    assert sti["ok"] and len(list((out / "strips").glob("*-sti.xml"))) == 4
    assert max(v["max_seam_residual_px"] for v in sti["filters"].values()) <= 0.1

    mp = run_map(fr, info, out / "rotation.json", out / "products", out / "map.json")
    assert mp["ok"] and mp["band_misregistration_px"]["max"] <= 0.25
    for xml in (out / "products").glob("*.xml"):
        assert validate_label(xml) == []

    acc = run_accuracy(out / "map.json", out / "products", level1["sim"] / "truth",
                       out / "rotation.json", out / "accuracy.json")
    assert json.loads((out / "accuracy.json").read_text()) == json.loads(json.dumps(acc))
    assert abs(acc["rotation_offset"]["error_deg"]) <= 0.02
    assert acc["max_geolocation_px"] <= 0.5
    assert acc["max_band_misregistration_px"] <= 0.25
    assert acc["max_abs_iof_bias"] <= 0.005


def test_missing_inputs(level1, tmp_path: Path) -> None:
    r, obs = level1["res"], level1["im"]["observation_id"]
    with pytest.raises(Level2Error, match="cannot read ISD"):
        load_level1(obs, r / "level0.json", r / "calibrate.json", r / "level1" / "framelets",
                    tmp_path / "none.json")
    with pytest.raises(Level2Error, match="cannot read"):
        load_level1(obs, tmp_path / "nope.json", r / "calibrate.json", r / "level1",
                    _isd(level1))
    shutil.copy(r / "calibrate.json", tmp_path / "c.json")
    (tmp_path / "c.json").write_text(json.dumps({"products": []}))
    with pytest.raises(Level2Error, match=f"observation {obs} has no valid science data"):
        load_level1(obs, r / "level0.json", tmp_path / "c.json", r / "level1", _isd(level1))


def test_mismatched_observation_id_is_refused(level1) -> None:
    """The rule's observation id (sheet, wildcard) must be the data's: one line naming both."""
    other = "MY35_000001_000_0"
    with pytest.raises(Level2Error) as err:
        _load(level1, other)
    msg = str(err.value)
    assert "\n" not in msg and other in msg and level1["im"]["observation_id"] in msg


def test_broken_record_is_refused_with_its_place(level1, tmp_path: Path) -> None:
    """A level-0 record that breaks its JSON Schema is refused naming the file and field."""
    r = level1["res"]
    l0 = json.loads((r / "level0.json").read_text())
    del l0["products"][3]["exposure_timecode"]
    (tmp_path / "l0.json").write_text(json.dumps(l0))
    with pytest.raises(Level2Error, match="product 3: not a valid level0_record"):
        load_level1(level1["im"]["observation_id"], tmp_path / "l0.json", r / "calibrate.json",
                    r / "level1" / "framelets", _isd(level1))
