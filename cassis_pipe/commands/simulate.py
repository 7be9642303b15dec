"""``cassis-pipe simulate``: a simulated CaSSIS observation with ground truth."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("simulate", help="simulate one CaSSIS observation with truth",
                              description=__doc__)
    p.add_argument("--size", choices=("full", "small"), default="small",
                   help="full: 40 framelets x 2048 px; small: 6 framelets x 512 px crop")
    p.add_argument("--seed", type=int, default=1, help="random seed (same seed: same bytes)")
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--config", type=Path, default=None, help="YAML overrides (see docs/sim.md)")
    p.add_argument("--threads", type=int, default=None, help="numba threads")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cassis_pipe.parallel import set_threads
    from cassis_pipe.sim.config import load_config
    from cassis_pipe.sim.writer import simulate

    set_threads(args.threads)
    try:
        cfg = load_config(args.config, args.size, args.seed)
    except (OSError, ValueError, TypeError) as exc:
        print(f"simulate: bad configuration: {exc}", file=sys.stderr)
        return 2
    summary = simulate(cfg, args.out)
    c = summary["compression"]
    print(json.dumps({"out": str(args.out), "elapsed_s": round(summary["elapsed_s"], 2),
                      "science_frames": summary["files"]["science_frames"],
                      "science_bytes": summary["files"]["science_bytes"],
                      "compression_ratio": round(c["ratio"], 3),
                      "faults": len(json.loads((args.out / "truth" / "faults.json").read_text())
                                    ["faults"])}))
    return 0
