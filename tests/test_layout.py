"""The house's layout, checked: one name per stage from rule to script to stage module to the
stage JSON's ``"stage"`` value; the workflow's observation-id pattern is the identifier
module's; the typed stage records round-trip and refuse broken input; no file far over 400
lines."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from cassis_pipe.labels.ids import OBSERVATION_ID_PATTERN, parse_observation_id
from cassis_pipe.stages._io import PipelineError
from cassis_pipe.stages.records import DetectorWindow, Level0Record, Level1Record

REPO = Path(__file__).resolve().parents[1]
RULES = sorted({m.group(1) for f in (REPO / "workflow" / "rules").glob("*.smk")
                for m in re.finditer(r"^(?:rule|checkpoint) (\w+):", f.read_text(), re.M)})


def test_rules_found() -> None:
    assert {"validate", "level0", "calibrate", "geometry", "rotation", "stitch", "map",
            "accuracy", "summary", "bern", "simulate", "offset_history"} <= set(RULES)


@pytest.mark.parametrize("rule", RULES)
def test_one_name_per_stage(rule: str) -> None:
    """rule X <-> workflow/scripts/X.py <-> cassis_pipe/stages/X.py <-> "stage": "X"."""
    smk = "\n".join(f.read_text() for f in (REPO / "workflow" / "rules").glob("*.smk"))
    body = smk[smk.index(f"rule {rule}:"):]
    body = body[:body.find("\nrule ", 1) if "\nrule " in body[1:] else len(body)]
    assert f'"../scripts/{rule}.py"' in body
    script = (REPO / "workflow" / "scripts" / f"{rule}.py").read_text()
    assert f"from cassis_pipe.stages.{rule} import" in script
    module = (REPO / "cassis_pipe" / "stages" / f"{rule}.py").read_text()
    assert f'"stage": "{rule}"' in module
    assert "logs" not in module                      # logs belong to the rule, not the stage
    assert re.search(rf'{{LOGS}}/{{{{obs}}}}/{rule}\.log"|{{LOGS}}/{rule}\.log"', body), rule


def test_every_stage_module_has_a_rule() -> None:
    mods = {p.stem for p in (REPO / "cassis_pipe" / "stages").glob("*.py")
            if not p.stem.startswith("_")}
    helpers = {"records", "snake", "quicklook"}
    assert mods - helpers == set(RULES)
    assert not (REPO / "cassis_pipe" / "pipeline").exists()


def test_observation_pattern_is_the_identifier_modules() -> None:
    sheet = yaml.safe_load((REPO / "workflow" / "schemas" / "observations.schema.yaml")
                           .read_text())
    assert sheet["properties"]["observation_id"]["pattern"] == f"^{OBSERVATION_ID_PATTERN}$"
    common = (REPO / "workflow" / "rules" / "common.smk").read_text()
    assert "obs=OBSERVATION_ID_PATTERN" in common
    for good in ("MY35_006000_010_0", "CRUS_049218_201_0", "TEST_000001_900_3"[:-5] + "359_3"):
        assert re.fullmatch(OBSERVATION_ID_PATTERN, good)
        parse_observation_id(good)
    for bad in ("MY35_006000_010_4", "MY33_006000_010_0", "../etc_000000_000_0"):
        assert not re.fullmatch(OBSERVATION_ID_PATTERN, bad)


def test_no_file_far_over_400_lines() -> None:
    long = {str(p.relative_to(REPO)): n for p in [*REPO.glob("cassis_pipe/**/*.py"),
                                                  *REPO.glob("workflow/**/*.py")]
            if (n := len(p.read_text().splitlines())) > 420}
    assert long == {}


def test_scripts_are_thin() -> None:
    for p in (REPO / "workflow" / "scripts").glob("*.py"):
        tree = ast.parse(p.read_text())
        assert not [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)], p
        assert len(p.read_text().splitlines()) <= 20, p


def _level0() -> Level0Record:
    return Level0Record(549158952, 0, 3, "PAN", 0, "2f05f5e0fe56cbfb", "2019-05-15T07:18:53Z",
                        0.00096, 0, 1, DetectorWindow(354, 0, 280, 2048), [280, 2048], "jpeg-ls",
                        product="cas_raw_sc_x", observation_id="MY35_006000_010_0",
                        commanded_angle_deg=344.594)


def test_records_round_trip() -> None:
    r0 = _level0()
    assert Level0Record.from_dict(r0.to_dict()) == r0
    assert r0.detector_window.window("PAN").shape == (280, 2048)
    r1 = Level1Record(549158952, 0, 3, "PAN", "cas_cal_sc_x", "fitted", 2, {"k": 1.3e-8})
    assert Level1Record.from_dict(r1.to_dict()) == r1


@pytest.mark.parametrize(("field", "value", "where"), [
    ("exposure_timecode", "xyz", "exposure_timecode"),
    ("observation_id", "MY35_6000_10_0", "observation_id"),
    ("bin_factor", 3, "bin_factor"),
    ("detector_window", {"row0": 0}, "detector_window"),
    ("uid", -1, "uid"),
])
def test_broken_level0_record_is_refused(field: str, value: object, where: str) -> None:
    d = {**_level0().to_dict(), field: value}
    with pytest.raises(PipelineError, match=f"level0.json product 7: not a valid level0_record "
                                            f"at {where}"):
        Level0Record.from_dict(d, "level0.json product 7")


def test_unknown_field_is_refused() -> None:
    with pytest.raises(PipelineError, match="Additional properties"):
        Level1Record.from_dict({**Level1Record(1, 0, 0, "RED", "cas_cal_sc_y", None, 0).to_dict(),
                                "image": 0})
