"""Stage "summary": the per-observation validation summary, gathered from every stage JSON.

For each stage: expected (from the command plan) vs produced file counts and the framelets
missing there; plus the packet-validation counts and what was not produced and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cassis_pipe.level0.report import stage_line
from cassis_pipe.stages._io import framelet_list, read_json, write_json


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
             f"{'OK' if summary['ok'] else 'PROBLEMS FOUND'}"]
    lines += [f"  PROBLEM {p}" for p in summary["problems"]]
    lines.append(validation_txt.rstrip("\n"))
    lines += ["  " + stage_line(r["stage"], r["produced"], r) for r in summary["stages"]]
    for stage, items in summary["not_produced"].items():
        if items:
            lines.append(f"  {stage}: {len(items)} framelet(s) not produced: "
                         f"{framelet_list(items, 8)}")
    lost = summary["not_in_level1"]
    if lost:
        lines.append(f"  not in level 1, so in no level-1c strip or level-2 mosaic: "
                     f"{framelet_list(lost, 8)}")
    hk = summary["hk"]
    if hk is not None:
        lines.append(f"  housekeeping: {hk['frames']} frames, {hk['reject_bytes']} bytes rejected, "
                     f"{hk['gaps']} gap(s), {len(hk['violations'])} channel(s) out of limits")
    if summary["saturated_framelets"]:
        lines.append(f"  saturated pixels in {len(summary['saturated_framelets'])} framelet(s)")
    return "\n".join(lines) + "\n"


def _hk(hk: dict[str, Any]) -> dict[str, Any]:
    return {"ok": bool(hk.get("ok")), "frames": hk.get("frames", {}).get("valid", 0),
            "per_type": hk.get("frames", {}).get("per_type", {}),
            "reject_bytes": hk.get("rejects", {}).get("bytes", 0),
            "gaps": len(hk.get("time", {}).get("gaps", [])),
            "violations": hk.get("limits", {}).get("violations", {})}


def run_summary(observation_id: str, validate_json: str | Path, validation_json: str | Path,
                validation_txt: str | Path, level0_json: str | Path, calibrate_json: str | Path,
                out_json: str | Path, out_txt: str | Path,
                hk_json: str | Path | None = None) -> dict[str, Any]:
    """Write ``out_json`` (returned) and the short text ``out_txt``: every stage's file counts
    and the ``problems`` of every stage JSON (validate, level0, calibrate, hk), one line each."""
    val, rep = read_json(validate_json), read_json(validation_json)
    l0, l1 = read_json(level0_json), read_json(calibrate_json)
    hk = read_json(hk_json) if hk_json is not None else {"ok": True}
    counts = rep.get("counts", {})
    stages = _stage_rows(val) + _stage_rows(l0) + _stage_rows(l1)
    problems = [f"{name}: {p}" for name, st in (("validate", val), ("level0", l0),
                                                ("calibrate", l1), ("hk", hk))
                for p in st.get("problems", [])]
    expected = {(m["uid"], m["window"], m["sequence"]): m
                for r in stages if r["stage"] == "level1_products" for m in r["missing"]}
    summary = {
        "stage": "summary",
        "observation_id": observation_id,
        "ok": bool(val["ok"] and l0["ok"] and l1["ok"] and hk.get("ok")
                   and all(r["ok"] for r in stages) and not problems),
        "problems": problems,
        "hk": _hk(hk) if hk_json is not None else None,
        "not_in_level1": [expected[k] for k in sorted(expected)],
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
