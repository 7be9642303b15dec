"""Stage "validate": command plan from tc.bin, predicted pseudo packets, byte-by-byte validation
of science.bin. Writes the plan (carried forward to every later stage), the machine-readable
validation report and its short text summary; returns the stage JSON with the packet count
checked against the plan.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from cassis_pipe.level0.plan import CommandPlan, plan_from_tc
from cassis_pipe.level0.report import stage_check
from cassis_pipe.level0.validate import validate_bytes
from cassis_pipe.stages._io import (
    check_observation,
    check_problems,
    input_info,
    plan_summary,
    plan_truncation,
    read_input,
    write_json,
)

#: validation counts that are sizes, not faults
_SIZES = ("expected_framelets", "frames", "received_framelets", "complete_framelets")


def plan_problems(plan: CommandPlan, observation_id: str | None) -> list[str]:
    """What is wrong with the command plan itself: truncation, rejected TC bytes, no image."""
    out = []
    cut = plan_truncation(plan)
    if cut:
        out.append(cut)
    other = [r for r in plan.tc_rejects if r.reason != "truncated frame"]
    if other:
        reasons = sorted({r.reason for r in other})
        out.append(f"tc.bin: {sum(r.length for r in other)} byte(s) rejected in {len(other)} "
                   f"span(s) ({', '.join(reasons)}), first at byte {other[0].offset}")
    if not plan.images:
        out.append("tc.bin commands no image: no science framelet is expected"
                   + (f" for {observation_id}" if observation_id else ""))
    return out


def run_validate(science_path: str | Path, tc_path: str | Path, out_dir: str | Path, *,
                 observation_id: str | None = None, raw_ratio_ids: Collection[int] = (0,),
                 time_tolerance_s: float = 1e-4,
                 ) -> dict[str, Any]:
    """Plan from tc.bin, pseudo packets, byte-by-byte validation of science.bin.
    ``observation_id`` (the rule's wildcard) must be one of the images tc.bin commands.

    Writes ``plan.json`` (plan + pseudo packets), ``validation.json``, ``validation.txt`` and
    ``validate.json`` (this stage's JSON, returned) into ``out_dir``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    science, tc = read_input(science_path), read_input(tc_path)
    plan = plan_from_tc(tc)
    if observation_id is not None:
        check_observation(observation_id, [im.uid for im in plan.images], str(tc_path))
    report, stream, packets = validate_bytes(science, plan, frozenset(raw_ratio_ids), None,
                                             None, time_tolerance_s)
    write_json(out / "plan.json", {**plan.as_dict(),
                                   "pseudo_packets": [p.as_dict() for p in packets]})
    rep = report.as_dict()
    plan_faults = plan_problems(plan, observation_id)
    rep["command_plan"] = {"truncated": plan_truncation(plan),
                           "tc_rejects": [r.as_dict() for r in plan.tc_rejects],
                           "problems": plan_faults}
    write_json(out / "validation.json", rep)
    text = report.summary().rstrip("\n")
    if plan_faults:
        text += "\n  command plan (tc.bin):\n" + "\n".join(f"    {p}" for p in plan_faults)
    (out / "validation.txt").write_text(text + "\n")
    check = stage_check("packets_received", packets, list(report.framelets))
    faults = {k: v for k, v in rep.get("counts", {}).items() if v and k not in _SIZES}
    problems = plan_faults + check_problems([check])
    if faults:
        problems.append("science.bin: " + ", ".join(f"{k} {v}" for k, v in faults.items()))
    stage = {
        "stage": "validate",
        "inputs": [input_info(science_path, science), input_info(tc_path, tc)],
        "ok": bool(report.ok and not problems),
        "plan": plan_summary(plan, packets),
        "validation_counts": rep.get("counts", {}),
        "file_counts": check,
        "outputs": ["plan.json", "validation.json", "validation.txt"],
        "problems": problems,
    }
    write_json(out / "validate.json", stage)
    return stage


