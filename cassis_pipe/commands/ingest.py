"""``cassis-pipe ingest``: ingest new delivery files from the downlink folder into
per-observation raw telemetry and write the sheet of ready observations (docs/operations.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("ingest", help="ingest downlink deliveries into observations",
                              description=__doc__)
    p.add_argument("--config", type=Path, default=None,
                   help="workflow config YAML: its 'ingest' section and results_dir are used")
    p.add_argument("--downlink", type=Path, default=None, help="delivery folder (downlink/)")
    p.add_argument("--root", type=Path, default=None, help="ingest area (ingest/)")
    p.add_argument("--wait-s", type=float, default=None,
                   help="seconds without new data before an incomplete observation is ready")
    p.add_argument("--calibration-version", default=None)
    p.add_argument("--calibration-dir", default=None)
    p.add_argument("--geometry-dir", type=Path, default=None, help="ISDs <obs>*.json to copy")
    p.add_argument("--results-dir", type=Path, default=None,
                   help="workflow results (an observation with <obs>/summary.json is processed)")
    p.add_argument("--reprocess", action="append", default=[], metavar="OBS|all",
                   help="hand a ready observation (or all) to the workflow again")
    p.add_argument("--now", type=float, default=None, help="clock for the waits (epoch s)")
    p.add_argument("--status", action="store_true", help="print the ledger state, ingest nothing")
    p.set_defaults(func=run)


def config_from(args: argparse.Namespace) -> Any:
    """IngestConfig from the config file's ``ingest`` section, overridden by the options."""
    from cassis_pipe.ops.ingest import IngestConfig

    sec: dict[str, Any] = {}
    top: dict[str, Any] = {}
    if args.config is not None:
        top = yaml.safe_load(args.config.read_text(encoding="utf-8")) or {}
        sec = dict(top.get("ingest") or {})
    level0 = top.get("level0") or {}
    kw: dict[str, Any] = {
        "downlink": Path(args.downlink or sec.get("downlink", "downlink")),
        "root": Path(args.root or sec.get("root", "ingest")),
        "wait_s": float(args.wait_s if args.wait_s is not None else sec.get("wait_s", 21600.0)),
        "calibration_version": args.calibration_version or sec.get("calibration_version",
                                                                    "sim-v1"),
        "calibration_dir": args.calibration_dir or sec.get("calibration_dir"),
        "heliocentric_au": sec.get("heliocentric_au"),
        "raw_ratio_ids": tuple(level0.get("raw_ratio_ids", (0,))),
        "time_tolerance_s": float(level0.get("time_tolerance_s", 1e-4)),
        "hk_margin_s": float(sec.get("hk_margin_s", 5.0)),
    }
    geo = args.geometry_dir or sec.get("geometry_dir")
    kw["geometry_dir"] = Path(geo) if geo else None
    res = args.results_dir or (top.get("results_dir") if args.config is not None else None)
    kw["results_dir"] = Path(res) if res else None
    return IngestConfig(**kw)


def run(args: argparse.Namespace) -> int:
    from cassis_pipe.ops.ingest import ingest
    from cassis_pipe.ops.ledger import (
        accounting,
        latest_deliveries,
        latest_runs,
        observation_rows,
        open_ledger,
    )

    try:
        cfg = config_from(args)
    except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
        print(f"ingest: bad configuration: {exc}", file=sys.stderr)
        return 2
    if args.status:
        db = open_ledger(cfg.root)
        out = {"accounting": accounting(db), "runs": latest_runs(db),
               "deliveries": latest_deliveries(db), "observations": observation_rows(db)}
        db.close()
        print(json.dumps(out, indent=1))
        return 0
    try:
        rep = ingest(cfg, now=args.now, reprocess=set(args.reprocess))
    except FileNotFoundError as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(rep, indent=1))
    return 0 if rep["accounting"]["balanced"] else 1
