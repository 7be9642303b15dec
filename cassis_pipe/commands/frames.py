"""``cassis-pipe frames FILE --kind science|tc|hk [--json]``: validate a downlink file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cassis_pipe.telemetry.errors import StreamResult
from cassis_pipe.telemetry.streams import STREAM_KINDS, read_stream


def _frame_entry(frame: Any, offset: int) -> dict[str, Any]:
    entry: dict[str, Any] = {"file_offset": offset}
    wire = getattr(frame, "wire_length", None)
    if wire is not None:
        entry["length"] = wire
    entry.update(frame.as_dict())
    return entry


def summary_dict(kind: str, result: StreamResult) -> dict[str, Any]:
    """JSON-ready report of a stream: valid count, reject spans and per-frame fields."""
    return {
        "kind": kind,
        "valid": result.valid,
        "rejected": [r.as_dict() for r in result.rejects],
        "frames": [_frame_entry(f, o) for f, o in zip(result.frames, result.offsets, strict=True)],
    }


def _human(kind: str, path: str, size: int, result: StreamResult) -> str:
    bad = sum(r.length for r in result.rejects)
    lines = [
        f"{path}: {size} bytes, {kind} stream: {result.valid} valid frames, "
        f"{len(result.rejects)} rejected spans ({bad} bytes)"
    ]
    for r in result.rejects:
        lines.append(f"  reject at byte {r.offset}, {r.length} bytes: {r.reason}")
    return "\n".join(lines)


def no_frames_message(kind: str, path: str, data: bytes) -> str:
    """Why a file with no valid ``kind`` frame is refused, naming the kind it does read as."""
    if not data:
        return f"{path}: empty file, no {kind} frames"
    others = {k: read_stream(k, data).valid for k in STREAM_KINDS if k != kind}
    best = max(others, key=lambda k: others[k])
    hint = (f"; it reads as a {best} stream ({others[best]} valid frames): try --kind {best}"
            if others[best] else "; it is not a science, TC or HK stream either")
    return f"{path}: no valid {kind} frame in {len(data)} bytes{hint}"


def _run(args: argparse.Namespace) -> int:
    """Report the stream; exit 1 if the file holds no valid frame of the kind, 2 if unreadable."""
    try:
        data = Path(args.file).read_bytes()
        result = read_stream(args.kind, data)
    except (OSError, ImportError) as exc:
        print(f"cassis-pipe frames: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary_dict(args.kind, result), indent=1))
    else:
        print(_human(args.kind, args.file, len(data), result))
    if result.valid == 0:
        print(f"cassis-pipe frames: {no_frames_message(args.kind, args.file, data)}",
              file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``frames`` subcommand."""
    p = subparsers.add_parser(
        "frames",
        help="split a downlink file into valid frames and rejected byte spans",
        description="Read a file of concatenated frames; report valid frames and reject spans.",
    )
    p.add_argument("file", metavar="FILE", help="downlink file of concatenated frames")
    p.add_argument("--kind", choices=STREAM_KINDS, default="science", help="frame kind")
    p.add_argument("--json", action="store_true", help="print a JSON object instead of a summary")
    p.set_defaults(func=_run)
