"""The real-data path in the workflow: a sheet row with ``level1b_dir`` (Bern level-1b
framelets, the flown exposure of tests/data/level1b) runs rule ``bern``; unreadable
files are counted and named, the exposure is assembled and its label carries the Bern values."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from test_workflow import snakemake, write_config

from cassis_pipe.products.pds4 import parse_label
from cassis_pipe.products.validate import validate_label

OBS = "CRUS_049218_201_0"  # UID 100799268 of the flown 2016-11-26 framelets
PRODUCT = "cas-mco-2016-11-26t22.50.27.381-frame-005-b1"


def _sheet(d: Path, rows: list[dict[str, str]]) -> None:
    cols = ["observation_id", "raw_dir", "calibration_version", "simulate", "level1b_dir"]
    lines = ["\t".join(cols)] + ["\t".join(r.get(c, "") for c in cols) for r in rows]
    (d / "obs.tsv").write_text("\n".join(lines) + "\n")


def test_bern_row_assembles_the_real_exposure(tmp_path: Path, data_dir: Path) -> None:
    src = tmp_path / "l1b"
    shutil.copytree(data_dir / "level1b", src)
    (src / "CAS-MCO-2016-11-26T22.50.27.381-PAN-00006-B1.xml").write_text("<not-a-header/>")
    write_config(tmp_path, [])
    _sheet(tmp_path, [{"observation_id": OBS, "simulate": "false", "level1b_dir": "l1b"}])
    r = snakemake(tmp_path, "--configfile", "config.yaml", "--cores", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    stage = json.loads((tmp_path / "results" / OBS / "level1b" / "bern.json").read_text())
    assert stage["framelets"] == {"found": 5, "assembled": 4, "rejected": 1}
    assert [x["file"] for x in stage["rejected"]] == [
        "CAS-MCO-2016-11-26T22.50.27.381-PAN-00006-B1.xml"]
    assert stage["ok"] is False  # a rejected file is reported, the rest is produced
    assert stage["counts"] == {"expected": 2, "produced": 2, "missing": []}
    (exp,) = stage["exposures"]
    assert exp["product"] == PRODUCT and exp["filters"] == ["BLU", "NIR", "PAN", "RED"]
    assert {rec["filter"]: rec["detector_window"]["row0"] for rec in exp["records"]}["PAN"] == 354
    xml = tmp_path / "results" / OBS / "level1b" / "assembled" / f"{PRODUCT}.xml"
    assert validate_label(xml) == []
    params = {e.findtext("{*}name"): e.findtext("{*}value")
              for e in parse_label(xml).getroot().iter("{*}Parameter")}
    assert params["uid"] == "100799268" and params["sequence_counter"] == "5"
    log = (tmp_path / "logs" / OBS / "bern.log").read_text()
    assert "stage bern: ok=False" in log
    assert (tmp_path / "bench" / OBS / "bern.tsv").is_file()


def test_sheet_row_needs_one_kind_of_input(tmp_path: Path) -> None:
    (tmp_path / "l1b").mkdir()
    write_config(tmp_path, [])
    bern = {"observation_id": OBS, "simulate": "false", "level1b_dir": "l1b"}
    _sheet(tmp_path, [bern])
    r = snakemake(tmp_path, "--configfile", "config.yaml", "-n")
    assert r.returncode == 0, r.stderr[-3000:]  # the valid row plans rule bern
    assert "rule bern:" in r.stdout + r.stderr
    both = {**bern, "raw_dir": "raw", "calibration_version": "v1"}
    for row, why in ((both, "is not valid under any"),
                     ({**bern, "simulate": "true"}, "simulate=true needs a raw_dir"),
                     ({"observation_id": OBS, "simulate": "false"}, "is not valid under any")):
        _sheet(tmp_path, [row])
        r = snakemake(tmp_path, "--configfile", "config.yaml", "-n")
        assert r.returncode != 0 and why in r.stdout + r.stderr, row
