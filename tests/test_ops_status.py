"""Observation status from the stage JSONs and the deliveries reader (read-only, tolerant)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ops_support import DATA

from cassis_pipe.ops.status import observations, quicklook_path, read_deliveries


def test_status_of_each_observation(tmp_path: Path) -> None:
    res = tmp_path / "results"
    shutil.copytree(DATA / "ops_results", res)
    # a third observation still being processed: only the first three stages have run
    part = res / "MY35_006002_010_0"
    shutil.copytree(res / "MY35_006000_010_0", part)
    for rel in ("summary.json", "level2", "level1c"):
        p = part / rel
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    (part / "level1" / "calibrate.json").write_text("{not json")
    (res / "not-an-observation").mkdir()
    got = {o["observation_id"]: o for o in observations(res)}
    assert list(got) == ["MY35_006000_010_0", "MY35_006001_010_0", "MY35_006002_010_0"]
    ok, bad, partial = got.values()
    assert ok["status"] == "ok" and set(ok["stages"].values()) == {"ok"}
    assert ok["rotation_offset_deg"] == 0.303501927
    assert ok["misregistration_px"]["max"] == ok["misregistration_px"]["bands"]["NIR"]
    assert ok["quicklooks"] == ["MY35_006000_010_0_PAN.jpg"]
    assert bad["status"] == "problems" and bad["stages"]["validation"] == "problems"
    assert bad["validation_problems"]["missing_framelets"] == 1
    assert {c["stage"]: c["produced"] for c in bad["counts"]}["level1_products"] == 9
    assert partial["status"] == "problems"  # the unreadable JSON is a problem, not "pending"
    assert partial["stages"]["level1"] == "unreadable" and partial["stages"]["map"] == "pending"
    (part / "level1" / "calibrate.json").unlink()
    assert observations(res)[2]["status"] == "in progress"
    assert observations(tmp_path / "nowhere") == []


def test_quicklook_paths_stay_inside_results() -> None:
    res = DATA / "ops_results"
    assert quicklook_path(res, "MY35_006000_010_0", "MY35_006000_010_0_PAN.jpg") is not None
    for obs, name in (("..", "x.jpg"), ("MY35_006000_010_0", "../summary.json"),
                      ("MY35_006000_010_0", "..jpg"), ("MY35_006000_010_0", "summary.json")):
        assert quicklook_path(res, obs, name) is None


def test_deliveries_reader_tolerates_absence_and_shapes(tmp_path: Path) -> None:
    p = tmp_path / "state.json"
    assert read_deliveries(None) == [] and read_deliveries(p) == []
    p.write_text("{broken")
    assert read_deliveries(p) == []
    rows = [{"name": "pass1", "files": 2, "nested": {"dropped": 1}}]
    p.write_text(json.dumps(rows))
    assert read_deliveries(p) == [{"name": "pass1", "files": 2}]
    p.write_text(json.dumps({"deliveries": rows, "version": 1}))
    assert read_deliveries(p) == [{"name": "pass1", "files": 2}]
    p.write_text(json.dumps({"pass1": {"status": "done"}, "pass2": "waiting"}))
    assert read_deliveries(p) == [{"status": "done", "name": "pass1"},
                                  {"name": "pass2", "value": "waiting"}]
