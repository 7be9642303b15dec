"""``cassis-pipe time HEX [--sclk K] [--lsk K]``: UTC of a CaSSIS time code (packaged kernels by
default)."""

from __future__ import annotations

import argparse
import sys

from cassis_pipe.instrument.constants import DEFAULT_LSK, DEFAULT_SCLK
from cassis_pipe.telemetry.errors import FrameError
from cassis_pipe.telemetry.timecode import (
    KernelError,
    parse_hex_timecode,
    timecode_to_utc,
)


def _run(args: argparse.Namespace) -> int:
    try:
        code = parse_hex_timecode(args.hex)
        print(timecode_to_utc(code, args.sclk, args.lsk))
    except (FrameError, KernelError) as exc:
        print(f"cassis-pipe time: {exc}", file=sys.stderr)
        return 2
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``time`` subcommand."""
    p = subparsers.add_parser(
        "time",
        help="convert an 8-byte CaSSIS time code (hex) to UTC",
        description="Print the UTC (ISO 8601, ms) of a CaSSIS time code such as 2f01543131b1aa13.",
    )
    p.add_argument("hex", metavar="HEX", help="16 hex digits: P-field 2f, 4 coarse, 3 fine bytes")
    p.add_argument("--sclk", default=str(DEFAULT_SCLK),
                   help=f"TGO SPICE SCLK kernel (.tsc); default: packaged {DEFAULT_SCLK.name}")
    p.add_argument("--lsk", default=str(DEFAULT_LSK),
                   help=f"SPICE leap-seconds kernel (.tls); default: packaged {DEFAULT_LSK.name}")
    p.set_defaults(func=_run)
