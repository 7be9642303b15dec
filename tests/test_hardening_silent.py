"""Issue 11, "nothing lost silently", through Snakemake as users run it: garbage hk.bin, a
truncated tc.bin, a foreign-UID science.bin and a refused (unsafe) Bern XML each give a
one-line console warning naming the observation and the cause, and a summary saying PROBLEMS
with the reason; an observation without valid science data ends its level-2 run with one line
saying why."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from test_workflow import REPO, snakemake, write_config

from cassis_pipe.sim.synthetic.raw import write_synthetic_raw
from cassis_pipe.stages._io import PipelineError
from cassis_pipe.stages._level1 import level1_records

TRUNC = "MY34_002002_211_2"  # synthetic, garbage hk.bin and tc.bin cut inside its 2nd frame
FOREIGN = "MY34_002002_212_0"  # synthetic (uid 272536400) whose science.bin is TRUNC's
FOREIGN_UID = 272536400
BERN = "CRUS_049218_201_0"  # the flown Bern exposure of tests/data/level1b
BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<lolz>&lol3;</lolz>
"""


def _sheet(d: Path, rows: list[dict[str, str]]) -> None:
    cols = ["observation_id", "raw_dir", "calibration_version", "simulate", "calibration_dir",
            "heliocentric_au", "level1b_dir"]
    lines = ["\t".join(cols)] + ["\t".join(r.get(c, "") for c in cols) for r in rows]
    (d / "obs.tsv").write_text("\n".join(lines) + "\n")


def _raw_row(obs: str) -> dict[str, str]:
    return {"observation_id": obs, "raw_dir": f"data/{obs}", "calibration_version": "synth-v1",
            "simulate": "false", "calibration_dir": f"data/{obs}/calibration",
            "heliocentric_au": "1.5"}


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> tuple[Path, str]:
    d = tmp_path_factory.mktemp("silent")
    a, b = d / "data" / TRUNC, d / "data" / FOREIGN
    write_synthetic_raw(a)
    write_synthetic_raw(b, uid=FOREIGN_UID)
    shutil.copy(a / "science.bin", b / "science.bin")          # another observation's frames
    hk = (a / "hk.bin").read_bytes()
    (a / "hk.bin").write_bytes(hk[:640] + bytes(range(7, 250)) * 3 + hk[640 + 64 * 30:])
    (a / "tc.bin").write_bytes((a / "tc.bin").read_bytes()[:100])  # cut in the 2nd frame
    shutil.copytree(data_dir / "level1b", d / "l1b")
    (d / "l1b" / "CAS-MCO-2016-11-26T22.50.27.381-PAN-00006-B1.xml").write_text(BILLION_LAUGHS)
    write_config(d, [])
    _sheet(d, [_raw_row(TRUNC), _raw_row(FOREIGN),
               {"observation_id": BERN, "simulate": "false", "level1b_dir": "l1b"}])
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    return d, r.stdout + r.stderr


def _warnings(console: str, obs: str) -> list[str]:
    return [ln for ln in console.splitlines() if ln.startswith(f"WARNING {obs}: ")]


def _summary(d: Path, obs: str) -> tuple[dict, str]:
    res = d / "results" / obs
    return json.loads((res / "summary.json").read_text()), (res / "summary.txt").read_text()


def test_garbage_hk_is_read_checked_and_reported(faulty: tuple[Path, str]) -> None:
    d, console = faulty
    hk = json.loads((d / "results" / TRUNC / "hk" / "hk.json").read_text())
    assert hk["stage"] == "hk" and not hk["ok"]
    assert hk["rejects"]["bytes"] == 243 * 3  # every garbage byte counted, none more
    assert hk["time"]["gaps"] and hk["time"]["gaps"][0]["length_s"] > 1.5
    summary, text = _summary(d, TRUNC)
    assert not summary["ok"] and text.startswith(f"observation {TRUNC}: PROBLEMS FOUND")
    assert any(p.startswith("hk: hk.bin:") and "bytes rejected" in p for p in summary["problems"])
    assert any("gap(s) in time" in p for p in summary["problems"])
    assert any("hk: hk.bin:" in w and "rejected" in w for w in _warnings(console, TRUNC))
    # a clean hk.bin of the same run: read, checked, no problem
    clean = json.loads((d / "results" / FOREIGN / "hk" / "hk.json").read_text())
    assert clean["ok"] and clean["frames"]["per_type"]["temperature_2"] == 14


def test_truncated_tc_reported_as_such(faulty: tuple[Path, str]) -> None:
    d, console = faulty
    val = d / "results" / TRUNC / "validation"
    cut = "command plan truncated at byte 64"
    assert cut in (val / "validation.txt").read_text()
    assert json.loads((val / "validation.json").read_text())["command_plan"]["truncated"] \
        .startswith(cut)
    cal = json.loads((d / "results" / TRUNC / "level1" / "calibrate.json").read_text())
    assert not cal["ok"]  # no longer "ok with 0/0"
    assert cut in cal["problems"][0] and "has no valid science data" in cal["problems"][0]
    summary, text = _summary(d, TRUNC)
    assert any(cut in p for p in summary["problems"]) and f"PROBLEM validate: {cut}" in text
    assert any(cut in w for w in _warnings(console, TRUNC))


def test_foreign_science_says_why(faulty: tuple[Path, str]) -> None:
    d, console = faulty
    why = (f"observation {FOREIGN} has no valid science data: 0 of 18 expected framelets "
           f"received; 18 framelet(s) of another observation ({TRUNC})")
    cal = json.loads((d / "results" / FOREIGN / "level1" / "calibrate.json").read_text())
    assert not cal["ok"] and cal["problems"][0] == why
    summary, text = _summary(d, FOREIGN)
    assert not summary["ok"] and f"PROBLEM calibrate: {why}" in text
    assert f"WARNING {FOREIGN}: calibrate: {why}" in console
    res = d / "results" / FOREIGN
    with pytest.raises(PipelineError, match="^" + re.escape(f"{why}; level 0 produced 0")):
        level1_records(FOREIGN, res / "level0" / "level0.json", res / "level1" / "calibrate.json")


def test_refused_bern_xml_is_not_ok_and_warned(faulty: tuple[Path, str]) -> None:
    d, console = faulty
    stage = json.loads((d / "results" / BERN / "level1b" / "bern.json").read_text())
    assert stage["ok"] is False and stage["framelets"]["rejected"] == 1
    (problem,) = stage["problems"]
    assert problem.startswith("CAS-MCO-2016-11-26T22.50.27.381-PAN-00006-B1.xml refused: ")
    assert "unsafe XML refused" in problem and str(d) not in json.dumps(stage)
    assert f"WARNING {BERN}: bern: {problem}" in console


def test_hk_rule_follows_the_house_layout() -> None:
    smk = (REPO / "Snakefile").read_text()
    assert smk.index('include: "workflow/rules/level0.smk"') < smk.index(
        'include: "workflow/rules/hk.smk"')
    summary = (REPO / "workflow" / "rules" / "summary.smk").read_text()
    assert "hk=rules.hk.output.stage" in summary


# --- level 2 of an observation without valid science data (simulated, with geometry) -------

SIM = "MY35_006000_010_0"


@pytest.fixture(scope="module")
def empty_science(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, int]:
    """The simulator's small observation (3 exposures) with its science.bin emptied."""
    d = tmp_path_factory.mktemp("empty")
    (d / "sim.yaml").write_text("imaging: {num_exp: 3}\n")
    write_config(d, [{"observation_id": SIM, "raw_dir": f"raw/{SIM}",
                      "calibration_version": "sim-v1", "simulate": "true",
                      "sim_config": "sim.yaml"}])
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2", f"raw/{SIM}/simulate.json")
    assert r.returncode == 0, r.stderr[-3000:]
    (d / "raw" / SIM / "science.bin").write_bytes(b"")
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2")
    return d, r.stdout + r.stderr, r.returncode


def test_empty_science_ends_with_the_cause(empty_science: tuple[Path, str, int]) -> None:
    d, console, rc = empty_science
    assert rc != 0  # level 2 cannot run
    why = (f"observation {SIM} has no valid science data: 0 of 18 expected framelets "
           "received; science.bin is empty")
    errors = [ln for ln in console.splitlines() if ln.startswith(f"ERROR {SIM}: ")]
    assert errors and errors[0].startswith(f"ERROR {SIM}: rotation: {why}"), console[-3000:]
    cal = json.loads((d / "results" / SIM / "level1" / "calibrate.json").read_text())
    assert not cal["ok"] and cal["problems"][0] == why
    summary, text = _summary(d, SIM)  # written although level 2 failed (keep-going)
    assert not summary["ok"] and text.startswith(f"observation {SIM}: PROBLEMS FOUND")
    assert f"PROBLEM calibrate: {why}" in text
    assert summary["hk"]["frames"] > 0 and summary["hk"]["ok"]
