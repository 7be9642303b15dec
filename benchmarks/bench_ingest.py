"""Benchmark: downlink ingest throughput (MB/s, frames/s) on a larger simulated downlink.

Usage::

    python benchmarks/bench_ingest.py --downlink /tmp/bench_dl [--num-exp 10] [--width 512]

The downlink is simulated into ``--downlink`` when it holds no ``truth/downlink.json`` yet
(``cassis_pipe.sim.downlink``, 5 observations). Then, in one run, side by side:

1. the stream readers alone (``split_delivery`` on every delivery: frame parsing + MD5);
2. a cold ingest of all deliveries in one call;
3. the ingest fed cycle by cycle as they arrive (one call per 15-minute batch);
4. a no-op re-run (nothing new: stat of every delivery only).

Prints MB/s and frames/s of each, and the ingest / reader time ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cassis_pipe.ops.delivery import parse_name, split_delivery  # noqa: E402
from cassis_pipe.ops.ingest import IngestConfig, ingest  # noqa: E402
from cassis_pipe.sim.downlink import simulate_downlink, tiny_imaging  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--downlink", type=Path, required=True)
    ap.add_argument("--num-exp", type=int, default=10)
    ap.add_argument("--width", type=int, default=512)
    args = ap.parse_args()
    truth_path = args.downlink / "truth" / "downlink.json"
    if not truth_path.is_file():
        t0 = time.perf_counter()
        simulate_downlink(args.downlink, seed=1, imaging=tiny_imaging(args.num_exp, args.width))
        print(f"simulated downlink in {time.perf_counter() - t0:.1f} s")
    truth = json.loads(truth_path.read_text())
    files = sorted((args.downlink / "downlink").iterdir())
    mb = sum(p.stat().st_size for p in files) / 1e6
    print(f"{len(files)} deliveries, {mb:.1f} MB; unique frames {truth['unique_frames']}")

    per_kind: dict[str, list[float]] = {}
    for p in files:
        kind = parse_name(p.name).kind
        data = p.read_bytes()
        t0 = time.perf_counter()
        n = len(split_delivery(kind, data).frames)
        acc = per_kind.setdefault(kind, [0.0, 0, 0.0])
        acc[0] += time.perf_counter() - t0
        acc[1] += n
        acc[2] += len(data) / 1e6
    t_read = sum(v[0] for v in per_kind.values())
    n_frames = sum(v[1] for v in per_kind.values())
    for kind, (t, n, m) in sorted(per_kind.items()):
        print(f"reader {kind:3s}: {m:6.1f} MB {n:6d} frames {t:6.2f} s = {m / t:6.1f} MB/s, "
              f"{n / t:7.0f} frames/s")
    rows = [("readers only", t_read, n_frames)]

    with tempfile.TemporaryDirectory() as tmp:
        cfg = IngestConfig(downlink=args.downlink / "downlink", root=Path(tmp) / "cold",
                           wait_s=3600.0)
        t0 = time.perf_counter()
        ingest(cfg, now=0.0)
        rows.append(("ingest, all at once", time.perf_counter() - t0, n_frames))
        t0 = time.perf_counter()
        ingest(cfg, now=1.0)
        rows.append(("no-op re-run", time.perf_counter() - t0, 0))
        dl = Path(tmp) / "downlink"
        dl.mkdir()
        cfg = IngestConfig(downlink=dl, root=Path(tmp) / "cycles", wait_s=3600.0)
        t0 = time.perf_counter()
        for i, batch in enumerate(truth["batches"]):
            for name in batch:
                shutil.copy(args.downlink / "downlink" / name, dl / name)
            ingest(cfg, now=i * 900.0)
        rows.append((f"ingest, {len(truth['batches'])} cycles", time.perf_counter() - t0,
                     n_frames))
    print(f"{'':24s} {'time s':>8s} {'MB/s':>8s} {'frames/s':>10s}")
    for name, t, n in rows:
        rate = f"{mb / t:8.1f}" if n else f"{'-':>8s}"
        fps = f"{n / t:10.0f}" if n else f"{'-':>10s}"
        print(f"{name:24s} {t:8.2f} {rate} {fps}")
    print(f"ingest (all at once) / readers-only time: {rows[1][1] / t_read:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
