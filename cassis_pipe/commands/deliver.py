"""``cassis-pipe deliver OBS...``: PDS4 delivery to the archive; ``--check ARCHIVE_COPY``:
compare what the archive holds with the transfer manifests (docs/archive.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from cassis_pipe.archive.config import ArchiveConfig
from cassis_pipe.archive.deliver import DeliveryError, deliver
from cassis_pipe.archive.manifest import check_archive


def _run(args: argparse.Namespace) -> int:
    cfg = ArchiveConfig.load(Path(args.config))
    root = Path(args.deliveries) if args.deliveries else cfg.deliveries_dir
    if args.check:
        try:
            res = check_archive(Path(args.check), root)
        except (OSError, ValueError) as exc:
            print(f"cassis-pipe deliver --check: {exc}", file=sys.stderr)
            return 2
        print("\n".join(res.lines()))
        return 0 if res.ok else 1
    if not args.observations:
        print("cassis-pipe deliver: give observation ids (or --check ARCHIVE_COPY)",
              file=sys.stderr)
        return 2
    date = args.date or dt.datetime.now(dt.UTC).date().isoformat()
    try:
        rep = deliver(Path(args.results), args.observations, root, date)
    except (DeliveryError, OSError, ValueError) as exc:
        print(f"cassis-pipe deliver: {exc}", file=sys.stderr)
        return 2
    print(f"delivery: {rep.path or 'nothing new to deliver'}")
    for obs in args.observations:
        if obs in rep.blocked:
            print(f"BLOCKED   {obs}:")
            for reason in rep.blocked[obs]:
                print(f"    {reason}")
        else:
            print(f"delivered {obs}: {rep.delivered.get(obs, 0)} products "
                  f"({rep.unchanged.get(obs, 0)} unchanged, not resent)")
    return 1 if rep.blocked else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``deliver`` subcommand."""
    p = subparsers.add_parser(
        "deliver", help="build a validated PDS4 delivery, or check the archive's copy",
        description="Build the next PDS4 delivery (bundle urn:esa:psa:em16_tgo_cas) of the "
                    "given observations: every label validated (XSD + Schematron), references "
                    "resolved, new versions on redelivery, transfer manifest with MD5s. "
                    "Exit 1 when an observation is blocked (the others are delivered).")
    p.add_argument("observations", nargs="*", metavar="OBS", help="observation ids")
    p.add_argument("--results", default="results", help="results directory (default results)")
    p.add_argument("--deliveries", help="deliveries directory (default: config archive."
                                        "deliveries_dir)")
    p.add_argument("--date", help="delivery date YYYY-MM-DD for the labels (default today, UTC)")
    p.add_argument("--config", default="config/config.yaml", help="configuration YAML")
    p.add_argument("--check", metavar="ARCHIVE_COPY",
                   help="compare the archive's copy with every delivery's manifest: missing, "
                        "extra and corrupted files; exit 1 on any problem")
    p.set_defaults(func=_run)
