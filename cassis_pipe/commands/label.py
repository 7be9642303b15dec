"""``cassis-pipe label FILE.xml [--json]``: show what the label readers extract."""

from __future__ import annotations

import argparse
import json
import sys

from cassis_pipe.labels.reader import label_to_dict, read_label, summary
from cassis_pipe.labels.xmlsafe import LabelError


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``label`` subcommand."""
    p = subparsers.add_parser(
        "label", help="read a Bern framelet header or PDS4 label and print its metadata"
    )
    p.add_argument("file", help="label XML file")
    p.add_argument("--json", action="store_true", help="print all extracted fields as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the label summary (or JSON); exit status 2 on an unreadable label."""
    try:
        label = read_label(args.file)
    except LabelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(label_to_dict(label), indent=2, allow_nan=False))
    else:
        print(summary(label))
    return 0
