"""``cassis-pipe targets import|list|check|reopen``: the suggested-targets store and target
retirement after map projection (docs/archive.md)."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from cassis_pipe.archive.config import ArchiveConfig
from cassis_pipe.archive.retire import evaluate, send_pending
from cassis_pipe.archive.targets import (
    TargetError,
    connect,
    get_targets,
    import_targets,
    read_targets,
    reopen,
)


def _db(args: argparse.Namespace, cfg: ArchiveConfig) -> sqlite3.Connection:
    return connect(Path(args.db) if args.db else cfg.targets_db)


def _run(args: argparse.Namespace) -> int:
    try:
        cfg = ArchiveConfig.load(Path(args.config))
        conn = _db(args, cfg)
    except (ValueError, OSError, sqlite3.Error) as exc:
        print(f"cassis-pipe targets: {exc}", file=sys.stderr)
        return 2
    try:
        if args.action == "import":
            n = import_targets(conn, read_targets(Path(args.file)))
            print(f"imported {n} targets")
        elif args.action == "reopen":
            t = reopen(conn, args.target_id)
            print(f"target {t.target_id} re-opened (round {t.round})")
        elif args.action == "list":
            for t in get_targets(conn, args.status):
                print(f"{t.target_id}\t{t.status}\tround {t.round}\tpriority {t.priority}\t"
                      f"{t.suggester} <{t.email}>\tmode {t.mode}")
        else:
            if args.raw_dir and len(args.observations) != 1:
                raise TargetError("--raw-dir is for one observation; use --raw-root for more")
            record: dict = {"observations": {}, "emailed": []}
            for obs in args.observations:
                raw = Path(args.raw_dir) if args.raw_dir else Path(args.raw_root) / obs
                res = evaluate(conn, Path(args.results) / obs, raw,
                               cfg.coverage_fraction if args.fraction is None else args.fraction)
                record["observations"][obs] = [
                    {"target_id": e.target_id, "coverage": round(e.coverage, 4),
                     "retired": e.retired, "reasons": list(e.reasons)} for e in res]
                for e in res:
                    state = "RETIRED" if e.retired else "open   "
                    why = "" if e.retired else " (" + "; ".join(e.reasons) + ")"
                    print(f"{obs} {state} {e.target_id} coverage {e.coverage:.3f}{why}")
            sent = send_pending(conn, Path(args.results), cfg.smtp_host, cfg.smtp_port,
                                cfg.sender)
            for tid in sent:
                print(f"e-mailed the suggester of {tid}")
            record["emailed"] = sent
            if args.json:
                Path(args.json).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    except (TargetError, FileNotFoundError) as exc:
        print(f"cassis-pipe targets: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # SMTP unreachable: retirements stay pending, sent on the next run
        print(f"cassis-pipe targets: e-mail not sent ({exc}); will retry", file=sys.stderr)
        return 1
    finally:
        conn.close()
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``targets`` subcommand."""
    p = subparsers.add_parser(
        "targets", help="suggested-targets store and target retirement",
        description="Import suggested targets (CSV or GeoJSON), list them, check map-projected "
                    "observations against the open targets (retire + e-mail the suggester "
                    "once), re-open a retired target.")
    p.add_argument("--db", help="SQLite file (default: config archive.targets_db)")
    p.add_argument("--config", default="config/config.yaml", help="configuration YAML")
    sub = p.add_subparsers(dest="action", required=True)
    imp = sub.add_parser("import", help="import targets from a CSV or GeoJSON file")
    imp.add_argument("file", metavar="FILE")
    ro = sub.add_parser("reopen", help="re-open a retired target for further imaging")
    ro.add_argument("target_id", metavar="ID")
    ls = sub.add_parser("list", help="list targets")
    ls.add_argument("--status", choices=("open", "retired"))
    ck = sub.add_parser("check", help="check map-projected observations against open targets")
    ck.add_argument("observations", nargs="+", metavar="OBS")
    ck.add_argument("--results", default="results", help="results directory")
    ck.add_argument("--raw-root", default="resources/sample/raw",
                    help="directory holding <obs>/geometry/<obs>.json (the raw_dir parent)")
    ck.add_argument("--raw-dir", help="raw directory of the (single) observation")
    ck.add_argument("--json", metavar="FILE", help="also write the evaluations as JSON")
    ck.add_argument("--fraction", type=float,
                    help="coverage fraction to retire (default: config)")
    p.set_defaults(func=_run)
