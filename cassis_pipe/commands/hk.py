"""``cassis-pipe hk load|query|limits|gaps|channels``: the housekeeping database.

Times (``--from``/``--to``): ISO UTC (``2019-05-15T07:18:54``) or ``obt:SECONDS``; default the
stored data's first/last frame. ``--db``: SQLite path or ``postgresql://`` URL (default: the
ops config's ``database``). ``limits`` and ``gaps`` exit 1 when they find something.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from cassis_pipe.ops.clock import Clock, parse_time
from cassis_pipe.ops.hkdb import Database, load_hk, load_tc, open_db
from cassis_pipe.ops.hkframes import (
    CHANNELS,
    FRAME_TYPES,
    HkDbError,
    load_limits,
    resolve_channel,
    resolve_frame_type,
)
from cassis_pipe.ops.hkquery import channel_limits, daily_stats, frame_bounds, gaps, series
from cassis_pipe.ops.hkquery import violations as find_violations
from cassis_pipe.ops.opsconfig import OpsConfig, load_ops_config
from cassis_pipe.telemetry.timecode import KernelError


def _range(args: argparse.Namespace, db: Database, clock: Clock,
           frame_type: int) -> tuple[float, float] | None:
    bounds = frame_bounds(db, frame_type)
    t0 = parse_time(args.start, clock) if args.start else (bounds[0] if bounds else None)
    t1 = parse_time(args.end, clock) if args.end else (bounds[1] if bounds else None)
    if t0 is None or t1 is None:
        return None
    if t1 < t0:
        raise HkDbError("--to is before --from")
    return t0, t1


def _load(args: argparse.Namespace, cfg: OpsConfig, clock: Clock) -> int:
    limits = load_limits(cfg.hk_limits)
    with open_db(args.db or cfg.database, limits) as db:
        reports = [load_hk(db, Path(args.hk).read_bytes(), clock, str(args.hk))]
        if args.tc:
            reports.append(load_tc(db, Path(args.tc).read_bytes(), str(args.tc)))
    for r in reports:
        if args.json:
            continue
        print(f"{r['source']}: {r['kind']} {r['frames']} valid frames, {r['inserted']} new, "
              f"{r['duplicates']} already stored, {len(r['rejects'])} rejected spans "
              f"({r['reject_bytes']} bytes)")
        for rej in r["rejects"]:
            print(f"  rejected at byte {rej['offset']}, {rej['length']} bytes: {rej['reason']}")
        if r.get("bad_timecode"):
            print(f"  {r['bad_timecode']} frames with a time code lacking the 0x2f P-field")
    if args.json:
        print(json.dumps(reports, indent=1))
    return 0


def _query(args: argparse.Namespace, cfg: OpsConfig, clock: Clock) -> int:
    ch = resolve_channel(args.channel)
    with open_db(args.db or cfg.database, read_only=True) as db:
        rng = _range(args, db, clock, ch.frame_type)
        if rng is None:
            print(f"no {ch.frame_name} frames stored", file=sys.stderr)
            return 0
        if args.stats == "daily":
            rows: list[dict[str, Any]] = daily_stats(db, ch, clock.day_of(rng[0]),
                                                     clock.day_of(rng[1]))
        else:
            obt, vals = series(db, ch, *rng)
            rows = [{"utc": clock.obt_to_utc(t), "obt": float(t), "value": v}
                    for t, v in zip(obt, vals, strict=True)]
    if args.json:
        print(json.dumps({"channel": ch.name, "unit": ch.unit, "rows": rows}, indent=1))
        return 0
    print(f"# {ch.name} [{ch.unit}]")
    for r in rows:
        if args.stats == "daily":
            print(f"{r['day']}  n={r['n']:<6d} min={r['min']:g} mean={r['mean']:.3f} "
                  f"max={r['max']:g}")
        else:
            print(f"{r['utc']}  obt={r['obt']:.6f}  {r['value']}")
    return 0


def _limits(args: argparse.Namespace, cfg: OpsConfig, clock: Clock) -> int:
    found = []
    with open_db(args.db or cfg.database, read_only=True) as db:
        table = channel_limits(db)
        names = [resolve_channel(c).name for c in args.channel] if args.channel else list(table)
        for name in names:
            ch = CHANNELS[name]
            if name not in table:
                print(f"{name}: no limits set", file=sys.stderr)
                continue
            rng = _range(args, db, clock, ch.frame_type)
            if rng is not None:
                found += find_violations(db, ch, table[name], *rng, max_gap_s=args.max_gap)
    out = [dict(e.as_dict(), start_utc=clock.obt_to_utc(e.start),
                end_utc=clock.obt_to_utc(e.end), limits=table[e.channel].as_dict())
           for e in found]
    if args.json:
        print(json.dumps(out, indent=1))
    else:
        for e in out:
            print(f"{e['channel']}: {e['level']} {e['start_utc']} .. {e['end_utc']} "
                  f"({e['samples']} samples, worst {e['worst']})")
        print(f"{len(out)} out-of-limit episode(s)")
    return 1 if out else 0


def _gaps(args: argparse.Namespace, cfg: OpsConfig, clock: Clock) -> int:
    t = resolve_frame_type(args.type)
    with open_db(args.db or cfg.database, read_only=True) as db:
        rng = _range(args, db, clock, t)
        found = [] if rng is None else gaps(db, t, *rng, max_gap_s=args.max_gap)
    for g in found:
        g["after_utc"], g["before_utc"] = (clock.obt_to_utc(g["after_obt"]),
                                           clock.obt_to_utc(g["before_obt"]))
    if args.json:
        print(json.dumps(found, indent=1))
    else:
        for g in found:
            print(f"gap {g['after_utc']} .. {g['before_utc']} ({g['duration_s']:.3f} s)")
        print(f"{len(found)} gap(s) in {args.type}")
    return 1 if found else 0


def _channels(args: argparse.Namespace, cfg: OpsConfig, clock: Clock) -> int:
    limits = load_limits(cfg.hk_limits)
    for c in CHANNELS.values():
        lim = limits.get(c.name)
        extra = "" if lim is None else "  limits " + json.dumps(lim.as_dict())
        print(f"{c.name:34s} {c.unit:6s} 0x{c.frame_type:02x}{extra}")
    return 0


def _run(args: argparse.Namespace) -> int:
    try:
        cfg = load_ops_config(args.config)
        clock = Clock(cfg.sclk, cfg.lsk)
        return int(args.action(args, cfg, clock))
    except (HkDbError, KernelError, OSError) as exc:
        print(f"cassis-pipe hk: {exc}", file=sys.stderr)
        return 2


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``hk`` subcommand and its actions."""
    p = subparsers.add_parser("hk", help="housekeeping database: load, query, limits, gaps",
                              description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="hk_action", required=True)

    def common(sp: argparse.ArgumentParser, times: bool = True) -> None:
        sp.add_argument("--db", help="SQLite file or postgresql:// URL")
        sp.add_argument("--config", help="ops config (default config/ops.yaml if present)")
        sp.add_argument("--json", action="store_true", help="JSON output")
        if times:
            sp.add_argument("--from", dest="start", help="start time (UTC or obt:SECONDS)")
            sp.add_argument("--to", dest="end", help="end time (UTC or obt:SECONDS)")
        sp.set_defaults(func=_run)

    sp = sub.add_parser("load", help="store HK (and TC) frames, each exactly once")
    sp.add_argument("hk", help="hk.bin (concatenated 64-byte HK frames)")
    sp.add_argument("tc", nargs="?", help="tc.bin (concatenated 64-byte TC frames)")
    common(sp, times=False)
    sp.set_defaults(action=_load)

    sp = sub.add_parser("query", help="one channel's samples or daily min/mean/max")
    sp.add_argument("channel", help="channel (temperature_1.PT_FPA_1 or PT_FPA_1)")
    sp.add_argument("--stats", choices=["daily"], help="daily statistics (UTC days)")
    common(sp)
    sp.set_defaults(action=_query)

    sp = sub.add_parser("limits", help="out-of-limit episodes (exit 1 if any)")
    sp.add_argument("--channel", action="append", default=[], help="channel (repeatable; "
                    "default every channel with limits)")
    sp.add_argument("--max-gap", type=float, default=1.5, help="s between samples of one "
                    "episode (default 1.5)")
    common(sp)
    sp.set_defaults(action=_limits)

    sp = sub.add_parser("gaps", help="gaps in the 1 Hz HK series (exit 1 if any)")
    sp.add_argument("--type", default="temperature_1", choices=list(FRAME_TYPES),
                    help="HK frame type (default temperature_1)")
    sp.add_argument("--max-gap", type=float, default=1.5, help="largest normal spacing, s")
    common(sp)
    sp.set_defaults(action=_gaps)

    sp = sub.add_parser("channels", help="list the HK channels, units and limits")
    sp.add_argument("--config", help="ops config")
    sp.set_defaults(func=_run, action=_channels)
