"""``cassis-pipe sim-check RAW_DIR RESULTS_DIR [--json]``: a workflow run on a simulated
observation vs the simulator's truth (level-0 DN, level-1 I/F bias, straylight residual,
injected faults vs the validation report)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("sim-check", help="compare workflow products with simulator truth",
                              description=__doc__)
    p.add_argument("raw_dir", type=Path, help="the simulated observation (has truth/)")
    p.add_argument("results_dir", type=Path, help="results/<observation id> of the workflow")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def check(raw: Path, res: Path) -> dict[str, Any]:
    """Level-0, level-1 and fault comparisons (see cassis_pipe.sim.oracle.truth)."""
    from cassis_pipe.sim.oracle.truth import compare_level0, compare_level1, match_faults
    from cassis_pipe.stages._io import read_json

    l0 = compare_level0(raw, res / "level0" / "level0.json", res / "level0" / "framelets")
    l1 = compare_level1(raw, res / "level0" / "level0.json", res / "level1" / "calibrate.json",
                        res / "level1" / "framelets")
    faults = read_json(raw / "truth" / "faults.json")["faults"]
    m = match_faults(read_json(res / "validation" / "validation.json"), faults)
    return {"level0_within_near": l0["ok"], "level0_framelets": len(l0["framelets"]),
            "median_relative_bias": l1["median_relative_bias"],
            "max_straylight_residual": l1["max_straylight_residual"],
            "injected_faults": len(faults), "faults_reported_exactly": m["exact"],
            "unreported_faults": m["unreported"], "unexplained_report_entries": m["unexplained"]}


def run(args: argparse.Namespace) -> int:
    from cassis_pipe.stages._io import PipelineError

    try:
        out = check(args.raw_dir, args.results_dir)
    except (PipelineError, OSError, KeyError, ValueError) as exc:
        print(f"sim-check: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        bias = ", ".join(f"{f} {100 * b:+.3f} %" for f, b in out["median_relative_bias"].items())
        resid = out["max_straylight_residual"]
        print(f"level 0: {out['level0_framelets']} framelets, within NEAR: "
              f"{out['level0_within_near']}\nlevel 1 median I/F bias: {bias}\n"
              f"max straylight residual: "
              f"{'n/a' if resid is None else f'{100 * resid:.3f} % of the signal'}\n"
              f"faults: {out['injected_faults']} injected, reported exactly: "
              f"{out['faults_reported_exactly']}")
    ok = out["level0_within_near"] and out["faults_reported_exactly"]
    return 0 if ok else 1
