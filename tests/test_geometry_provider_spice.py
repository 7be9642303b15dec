"""The ``spice`` geometry provider and the geometry stage: exposure times from the command plan
or level-0 records, the ISD sampled at every image time, kernels named with their sha256, and
one clear error per observation when the kernels do not cover it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from cassis_pipe.geometry.kernels.kernelset import file_digest
from cassis_pipe.geometry.providers import GeometryError, providers
from cassis_pipe.geometry.providers.spice import exposure_timecodes
from cassis_pipe.instrument.constants import DEFAULT_LSK, DEFAULT_SCLK
from cassis_pipe.level0.plan import plan_from_files
from cassis_pipe.sim.synthetic.raw import write_synthetic_raw
from cassis_pipe.stages._io import PipelineError
from cassis_pipe.stages.bern import write_level1_input
from cassis_pipe.stages.geometry import run_geometry
from cassis_pipe.telemetry.timecode import timecode_to_et

DATA = Path(__file__).parent / "data"
META = DATA / "kernels" / "tgo-2016-11-26.tm"
REAL = "CRUS_049218_201_0"
SYNTH = "MY34_002002_211_2"


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rule bern's level-0 records of the real exposure."""
    d = tmp_path_factory.mktemp("bern")
    write_level1_input(DATA / "level1b", d / "framelets", d / "level0.json", d / "calibrate.json",
                       REAL)
    return d / "level0.json"


def test_registered() -> None:
    assert {"file", "spice"} <= set(providers())


def test_real_exposure_isd_and_stage_json(records: Path, tmp_path: Path) -> None:
    stage = run_geometry(REAL, "spice", META, tmp_path / f"{REAL}.json", tmp_path / "g.json",
                         times=records, cache_dir=tmp_path / "cache")
    assert stage["provider"] == "spice" and stage["ok"]
    assert json.loads((tmp_path / "g.json").read_text()) == stage
    start = timecode_to_et(bytes.fromhex("2f015435767e275a"), DEFAULT_SCLK, DEFAULT_LSK)
    assert stage["isd"]["center_et"] == pytest.approx(start + 0.00144 / 2, abs=1e-9)
    names = [k["name"] for k in stage["kernels"]]
    assert names[0] == META.name and "CAS-MCO-2016-11-26T22.50.27.381_1.xsp" in names
    digests = {k["name"]: k["sha256"] for k in stage["kernels"]}
    assert digests[META.name] == file_digest(META)
    xsp = DATA / "kernels" / "tgo-2016-11-26" / "CAS-MCO-2016-11-26T22.50.27.381_1.xsp"
    assert digests[xsp.name] == file_digest(xsp)  # the transfer file, not the cached binary
    isd = json.loads((tmp_path / f"{REAL}.json").read_text())
    assert isd["cassis"]["kernels"] == names[1:] and isd["cassis"]["exposure_time_s"] == 0.00144


def test_plan_gives_every_commanded_exposure(tmp_path: Path) -> None:
    write_synthetic_raw(tmp_path / "raw", num_exp=4)
    plan = plan_from_files(tmp_path / "raw" / "tc.bin")
    (tmp_path / "plan.json").write_text(json.dumps(plan.as_dict()))
    codes, t_exp = exposure_timecodes(SYNTH, tmp_path / "plan.json")
    im = plan.images[0]
    assert len(codes) == 4 and t_exp == pytest.approx(im.exposure_time_s)
    et = np.array([timecode_to_et(bytes.fromhex(c), DEFAULT_SCLK, DEFAULT_LSK) for c in codes])
    assert np.diff(et) == pytest.approx(np.full(3, im.step_exp_us * 1e-6), abs=1e-6)
    with pytest.raises(GeometryError, match=f"observation {REAL}: no exposure of it"):
        exposure_timecodes(REAL, tmp_path / "plan.json")
    # the real kernels do not cover the synthetic times: one line, observation + role + time
    with pytest.raises(PipelineError, match=rf"observation {SYNTH}: CK of TGO_SPACECRAFT "
                       r"\(-143000\) does not cover ET .* UTC\); covered: 2016-11-26T22:38"):
        run_geometry(SYNTH, "spice", META, tmp_path / "isd.json", tmp_path / "g.json",
                     times=tmp_path / "plan.json", cache_dir=tmp_path / "cache")
    assert not (tmp_path / "g.json").exists()


def test_bad_inputs_are_named(records: Path, tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"something": 1}')
    with pytest.raises(GeometryError, match="neither a command plan nor a list of level-0"):
        exposure_timecodes(REAL, tmp_path / "x.json")
    broken = json.loads(records.read_text())
    broken["products"][1]["exposure_timecode"] = "xyz"
    (tmp_path / "b.json").write_text(json.dumps(broken))
    with pytest.raises(GeometryError, match=r"b.json product 1: not a valid level0_record"):
        exposure_timecodes(REAL, tmp_path / "b.json")
    with pytest.raises(PipelineError, match=f"observation {REAL}: kernel not found: .*missing.tm"):
        run_geometry(REAL, "spice", tmp_path / "missing.tm", tmp_path / "i.json",
                     tmp_path / "g.json", times=records, cache_dir=tmp_path / "cache")
