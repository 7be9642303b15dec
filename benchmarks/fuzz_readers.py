"""Fuzz every parser at scale: ``python benchmarks/fuzz_readers.py --inputs 1000000``.

Targets (tests.support.fuzzing): science, tc, hk stream readers, timecode, jpegls decoder, labels
(Bern and PDS4 readers, seeded with the labels in tests/data). Prints per target the inputs
tried, how many were refused with the parser's documented error, unhandled inputs (any other
exception, or a stream reader that loses or double-counts a byte; the first few are printed with
the input in hex) and the slowest input. Exit status 1 if any input was unhandled.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.support import fuzzing

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=1_000_000, help="inputs per target")
    ap.add_argument("--targets", default="science,tc,hk,timecode,jpegls,labels")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    labels = [p.read_bytes() for p in sorted(DATA.glob("*/*.xml"))[:6]]
    all_targets = fuzzing.targets(labels)
    bad = 0
    for name in args.targets.split(","):
        t0 = time.perf_counter()
        rep = fuzzing.run(all_targets[name], args.inputs, args.seed)
        print(f"{rep.line()}  [{time.perf_counter() - t0:.0f} s]", flush=True)
        print(f"    slowest input: {rep.slowest_input.hex()[:200]}")
        for what, data in rep.examples:
            print(f"    {what}\n      input: {data}")
        bad += rep.unhandled
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
