"""Stage "summary": the per-observation validation summary, gathered from every stage JSON.

For each stage: expected (from the command plan) vs produced file counts and the framelets
missing there; plus the packet-validation counts and what was not produced and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cassis_pipe.level0.report import stage_line
from cassis_pipe.stages._io import read_json, write_json


def _stage_rows(stage_json: dict[str, Any]) -> list[dict[str, Any]]:
    fc = stage_json.get("file_counts", {})
    checks = fc.get("stages", [fc]) if "stages" in fc else [fc]
    rows = []
    for c in checks:
        rows.append({"stage": c.get("stage"), "expected": c.get("expected"),
                     "produced": c.get("distinct", c.get("produced")), "ok": bool(c.get("ok")),
                     "missing": c.get("missing", []), "unexpected": c.get("unexpected", []),
                     "repeated": c.get("repeated", [])})
    return rows


def _text(summary: dict[str, Any], validation_txt: str) -> str:
    lines = [f"observation {summary['observation_id']}: "
             f"{'OK' if summary['ok'] else 'PROBLEMS FOUND'}", validation_txt.rstrip("\n")]
    lines += ["  " + stage_line(r["stage"], r["produced"], r) for r in summary["stages"]]
    for stage, items in summary["not_produced"].items():
        if items:
            lines.append(f"  {stage}: {len(items)} framelet(s) not produced")
    if summary["saturated_framelets"]:
        lines.append(f"  saturated pixels in {len(summary['saturated_framelets'])} framelet(s)")
    return "\n".join(lines) + "\n"


def run_summary(observation_id: str, validate_json: str | Path, validation_json: str | Path,
                validation_txt: str | Path, level0_json: str | Path, calibrate_json: str | Path,
                out_json: str | Path, out_txt: str | Path) -> dict[str, Any]:
    """Write ``out_json`` (returned) and the short text ``out_txt``."""
    val, rep = read_json(validate_json), read_json(validation_json)
    l0, l1 = read_json(level0_json), read_json(calibrate_json)
    counts = rep.get("counts", {})
    stages = _stage_rows(val) + _stage_rows(l0) + _stage_rows(l1)
    summary = {
        "stage": "summary",
        "observation_id": observation_id,
        "ok": bool(val["ok"] and l0["ok"] and l1["ok"] and all(r["ok"] for r in stages)),
        "plan": val["plan"],
        "validation": {"ok": val["ok"], "problems": {k: v for k, v in counts.items()
                                                     if v and k not in (
                                                         "expected_framelets", "frames",
                                                         "received_framelets",
                                                         "complete_framelets")},
                       "counts": counts},
        "stages": stages,
        "not_produced": {"level0": l0.get("not_produced", []),
                         "level1": l1.get("not_produced", [])},
        "saturated_framelets": l1.get("saturated_framelets", []),
        "calibration": l1.get("calibration"),
    }
    write_json(out_json, summary)
    Path(out_txt).write_text(_text(summary, Path(validation_txt).read_text()))
    return summary
