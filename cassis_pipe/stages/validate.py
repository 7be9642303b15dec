"""Stage "validate": command plan from tc.bin, predicted pseudo packets, byte-by-byte validation
of science.bin. Writes the plan (carried forward to every later stage), the machine-readable
validation report and its short text summary; returns the stage JSON with the packet count
checked against the plan.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.level0.report import stage_check
from cassis_pipe.level0.validate import validate_bytes
from cassis_pipe.stages._io import (
    check_observation,
    input_info,
    plan_summary,
    read_input,
    write_json,
)


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
    write_json(out / "validation.json", rep)
    (out / "validation.txt").write_text(report.summary().rstrip("\n") + "\n")
    stage = {
        "stage": "validate",
        "inputs": [input_info(science_path, science), input_info(tc_path, tc)],
        "ok": bool(report.ok and not plan.tc_rejects),
        "plan": plan_summary(plan, packets),
        "validation_counts": rep.get("counts", {}),
        "file_counts": stage_check("packets_received", packets, list(report.framelets)),
        "outputs": ["plan.json", "validation.json", "validation.txt"],
    }
    write_json(out / "validate.json", stage)
    return stage


