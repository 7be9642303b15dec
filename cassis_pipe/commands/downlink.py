"""``cassis-pipe simulate-downlink``: simulated observations cut into 15-minute delivery files
with faults and truth (cassis_pipe/sim/downlink.py, docs/operations.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("simulate-downlink", help="simulate a downlink of deliveries",
                              description=__doc__)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--spacing-s", type=float, default=900.0,
                   help="on-board seconds between observation centres")
    p.add_argument("--slot-s", type=float, default=900.0, help="delivery slot length, s")
    p.add_argument("--num-exp", type=int, default=3, help="exposures per image")
    p.add_argument("--width", type=int, default=128, help="window width, px")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cassis_pipe.sim.downlink import simulate_downlink, tiny_imaging

    truth = simulate_downlink(args.out, args.seed, spacing_s=args.spacing_s, slot_s=args.slot_s,
                              imaging=tiny_imaging(args.num_exp, args.width))
    print(json.dumps({"out": str(args.out), "deliveries": len(truth["deliveries"]),
                      "batches": len(truth["batches"]),
                      "observations": sorted(truth["observations"]),
                      "delivered_bytes": truth["delivered_bytes"]}))
    return 0
