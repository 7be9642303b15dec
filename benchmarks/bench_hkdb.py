"""HK database: ingest throughput of a year of 1 Hz housekeeping, and a year of daily statistics.

Usage: python benchmarks/bench_hkdb.py [--days 365] [--db PATH_OR_URL] [--keep] [--json OUT]

Generates ``--days`` days of temperature_1 HK frames (type 0x00, the real 64-byte format with
CRC; one frame per second, 86 400 per day, 31.5 M for a year) day by day, loads each day with
``hkdb.load_hk`` (decode, insert, daily aggregates) and reports frames/s (wall clock, and per
CPU second of this process, which a busy shared machine disturbs less; the database server's
CPU is not in it for PostgreSQL). Then times one
channel's daily min/mean/max over the whole range from the daily aggregate table (best of 5)
and, side by side, the same statistics computed from the frames themselves (GROUP BY over each
day's time-code range), which is what the aggregate table saves. Default database: a SQLite
file in a temporary directory (removed unless ``--keep``). Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cassis_pipe.ops.clock import Clock  # noqa: E402
from cassis_pipe.ops.hkdb import load_hk, open_db  # noqa: E402
from cassis_pipe.ops.hkframes import crc_rows, obt_to_tc, resolve_channel  # noqa: E402
from cassis_pipe.ops.hkquery import daily_stats  # noqa: E402
from cassis_pipe.telemetry.hk import HK_FIELDS, decode_hk  # noqa: E402
from cassis_pipe.telemetry.mil import HK_SYNC  # noqa: E402

KERNELS = ROOT / "cassis_pipe" / "data" / "kernels"
START_UTC = "2019-01-01"
PT = [f for f in HK_FIELDS[0] if f.name.startswith("PT_")]


def day_frames(obt0: float, n: int, rng: np.random.Generator) -> bytes:
    """``n`` temperature_1 frames, 1 s apart from ``obt0``: PT1000 values with a slow daily
    cycle and noise (raw counts), valid CRC."""
    f = np.zeros((n, 64), dtype=np.uint8)
    f[:, 0], f[:, 1] = HK_SYNC, 0x00
    tc = obt_to_tc(obt0) + (np.arange(n, dtype=np.int64) << 24)
    f[:, 2:10] = tc.astype(">u8").view(np.uint8).reshape(n, 8)
    phase = np.sin(np.arange(n) * (2 * np.pi / 86400.0))
    for k, field in enumerate(PT):
        v = 2700 + 30 * k + np.rint(10 * phase + rng.normal(0, 1.5, n)).astype(np.int64)
        f[:, field.offset:field.offset + 2] = v.astype(">u2").view(np.uint8).reshape(n, 2)
    crc = crc_rows(f)
    f[:, 62], f[:, 63] = crc >> 8, crc & 0xFF
    return f.tobytes()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--db", help="SQLite path or postgresql:// URL (default: temporary SQLite)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary database")
    ap.add_argument("--json", help="write the figures to this JSON file")
    args = ap.parse_args()
    tmp = None if args.db else Path(tempfile.mkdtemp(prefix="bench-hkdb-"))
    url = args.db or str(tmp / "hk.sqlite")
    clock = Clock(KERNELS / "em16_tgo_step_20190823.tsc", KERNELS / "naif0012.tls")
    rng = np.random.Generator(np.random.PCG64(7))
    obt0 = clock.utc_to_obt(f"{START_UTC}T00:00:00")
    sample = day_frames(obt0, 3, rng)
    assert decode_hk(sample, 64).fields["PT_FPA_1"].unit == "raw"  # real format, valid CRC
    ch = resolve_channel("temperature_1.PT_FPA_1")
    out: dict = {"days": args.days, "frames": args.days * 86400, "database": url}
    try:
        with open_db(url) as db:
            t_gen = t_load = cpu_load = 0.0
            for d in range(args.days):
                t = time.perf_counter()
                data = day_frames(obt0 + d * 86400.0, 86400, rng)
                t_gen += time.perf_counter() - t
                t, c = time.perf_counter(), time.process_time()
                rep = load_hk(db, data, clock, f"day{d}")
                t_load += time.perf_counter() - t
                cpu_load += time.process_time() - c
                assert rep["inserted"] == 86400, rep
                if d % 30 == 29:
                    print(f"  {d + 1} days loaded, {86400 * (d + 1) / t_load:,.0f} frames/s",
                          flush=True)
            out.update(generate_s=t_gen, load_s=t_load, frames_per_s=86400 * args.days / t_load,
                       load_cpu_s=cpu_load, frames_per_cpu_s=86400 * args.days / cpu_load)
            last = clock.day_of(obt0 + (args.days - 1) * 86400.0 + 43200)
            times = []
            for _ in range(5):
                t = time.perf_counter()
                stats = daily_stats(db, ch, START_UTC, last)
                times.append(time.perf_counter() - t)
            out.update(daily_query_s=min(times), daily_rows=len(stats))
            t = time.perf_counter()
            raw = []
            for s in stats:
                lo, hi = clock.day_bounds(s["day"])
                raw.append(db.query(f"SELECT count(*), min({ch.column}), max({ch.column}), "
                                    f"avg(CAST({ch.column} AS DOUBLE PRECISION)) FROM {ch.table} "
                                    "WHERE tc >= ? AND tc < ?",
                                    (obt_to_tc(lo), obt_to_tc(hi)))[0])
            out["raw_group_by_s"] = time.perf_counter() - t
            assert [(s["n"], s["min"], s["max"]) for s in stats] == [r[:3] for r in raw]
            assert all(abs(s["mean"] - r[3]) < 1e-9 for s, r in zip(stats, raw, strict=True))
        if not url.startswith("postgres"):
            out["db_bytes"] = sum(p.stat().st_size for p in Path(url).parent.glob(
                Path(url).name + "*"))
    finally:
        if tmp is not None and not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, indent=1))
    print(f"ingest {out['frames_per_s']:,.0f} frames/s ({out['frames']:,} frames in "
          f"{out['load_s']:.1f} s wall, {out['frames_per_cpu_s']:,.0f} frames per CPU s); "
          f"daily min/mean/max of {ch.name} over {out['daily_rows']} "
          f"days: {out['daily_query_s'] * 1000:.1f} ms from the aggregate table vs "
          f"{out['raw_group_by_s']:.2f} s from the frames "
          f"({out['raw_group_by_s'] / out['daily_query_s']:,.0f}x)")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
