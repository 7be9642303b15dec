"""Stream readers vs ``cat FILE | md5sum`` on the same bytes, side by side (issue 11).

    python benchmarks/bench_readers.py [--mb 100] [--kinds science,tc,hk] [--dir /tmp]

Writes each clean and hostile file (cassis_pipe.telemetry.hostile) of ``--mb`` MB, then times,
best of ``--repeat``, ``cat FILE | md5sum`` and reading the file plus the stream reader, and
prints both times and their ratio, as wall time and as CPU time (user + system, children
included; far steadier on a shared machine), and the reader's wall time against reading and
hashing the file in this same process (``hashlib.md5``), which a loaded machine slows alike.
Target: ratio < 2 for the science files.
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import subprocess
import time
from pathlib import Path

from cassis_pipe.telemetry import hostile
from cassis_pipe.telemetry.hk import encode_hk
from cassis_pipe.telemetry.streams import read_stream
from cassis_pipe.telemetry.tc import encode_tc, set_tm_rate, take_image

_TC = [encode_tc(take_image(7, 1)), encode_tc(set_tm_rate(7, 1))]
_HK = [encode_hk(1, 1, {}), encode_hk(2, 1, {})]
CASES = {
    "science": {"clean": hostile.clean_science, "fa_flood": hostile.fa_flood,
                "common_trailer": hostile.common_trailer, "nested": hostile.nested_containers,
                "random_fa": hostile.random_sync_rich, "cut_frames": hostile.cut_frames},
    "tc": {"clean": lambda n: hostile.mil_stream(_TC, n),
           "sync_flood": lambda n: hostile.mil_stream([b"\xf0" * 64], n),
           "bad_crc": lambda n: hostile.mil_stream(_TC, n, flip_at=6)},
    "hk": {"clean": lambda n: hostile.mil_stream(_HK, n),
           "sync_flood": lambda n: hostile.mil_stream([b"\xf5" * 64], n),
           "bad_crc": lambda n: hostile.mil_stream(_HK, n, flip_at=6)},
}


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its finished children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _best(fn, repeat: int) -> tuple[float, float]:
    """Best wall time and best CPU time (s) of ``repeat`` calls of ``fn``."""
    wall = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), _cpu()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t0), min(cpu, _cpu() - c0)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=float, default=100.0, help="file size in MB (1e6 bytes)")
    ap.add_argument("--kinds", default="science,tc,hk")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dir", type=Path, default=Path("/tmp"))
    args = ap.parse_args()
    size = int(args.mb * 1e6)
    read_stream("science", hostile.clean_science(3000, 500))  # JIT / cache warm-up
    read_stream("tc", _TC[0])
    print(f"{'kind':8s} {'file':15s} {'MB':>6s} | wall s: {'cat|md5':>7s} {'reader':>7s} "
          f"{'ratio':>6s} | cpu s: {'cat|md5':>7s} {'reader':>7s} {'ratio':>6s} | in-process "
          f"{'md5':>6s} {'ratio':>6s} | frames rejects")
    for kind in args.kinds.split(","):
        for name, build in CASES[kind].items():
            path = args.dir / f"bench_{kind}_{name}.bin"
            path.write_bytes(build(size))
            ref = _best(lambda p=path: subprocess.run(f"cat {p} | md5sum", shell=True, check=True,
                                                      capture_output=True), args.repeat)
            out = {}

            def read(p=path, k=kind, o=out) -> None:
                o["r"] = read_stream(k, p.read_bytes())

            t = _best(read, args.repeat)
            own = _best(lambda p=path: hashlib.md5(p.read_bytes()).digest(), args.repeat)
            r = out["r"]
            print(f"{kind:8s} {name:15s} {path.stat().st_size / 1e6:6.1f} | wall s: {ref[0]:7.3f} "
                  f"{t[0]:7.3f} {t[0] / ref[0]:6.2f} | cpu s: {ref[1]:7.3f} {t[1]:7.3f} "
                  f"{t[1] / ref[1]:6.2f} | wall {own[0]:6.3f} {t[0] / own[0]:6.2f} | "
                  f"{r.valid} {len(r.rejects)}", flush=True)
            path.unlink()


if __name__ == "__main__":
    main()
