"""JPEG-LS speed: our numba codec vs CharLS (libcharls via ctypes), on flown 14-bit framelets.

Usage: python benchmarks/bench_jpegls.py [--repeat 5] [--framelets 40] [--cpu]

Decodes identical streams (CharLS-encoded; ours are byte-identical, which is asserted) with both
decoders on one thread after JIT warm-up, best of --repeat runs; prints Mpx/s and the ratio.
Also times encoding, and decode_batch of --framelets framelets on 1 and 2 threads.
The framelets are the flown RED and NIR level-1b exposures of 2016-11-26 (2048 x 256) converted
back to DN with their labels' ABSOLUTE_CALIBRATION.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cassis_pipe.codec import decode, decode_batch, encode  # noqa: E402
from cassis_pipe.parallel import set_threads  # noqa: E402
from tests.support import charls_ref  # noqa: E402

DATA = ROOT / "tests" / "data" / "level1b"
FRAMELETS = {  # stem suffix -> ABSOLUTE_CALIBRATION (I/F per DN)
    "RED-01005": 4.67201e-05,
    "NIR-02005": 4.86998e-05,
}


def load_framelets() -> list[np.ndarray]:
    """Flown framelets as 14-bit DN (uint16, 256 x 2048)."""
    out = []
    for tag, k in FRAMELETS.items():
        f = DATA / f"CAS-MCO-2016-11-26T22.50.27.381-{tag}-B1.dat"
        img = np.fromfile(f, dtype="<f4").reshape(256, 2048)
        out.append(np.clip(np.rint(img / k), 0, 16383).astype(np.uint16))
    return out


def best_time(fn, repeat: int, clock=time.perf_counter) -> float:
    """Best time (s) of ``repeat`` calls on ``clock`` (wall by default)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = clock()
        fn()
        best = min(best, clock() - t0)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--framelets", type=int, default=40)
    ap.add_argument("--cpu", action="store_true",
                    help="single-thread figures from thread CPU time (robust on a loaded machine)")
    args = ap.parse_args()
    clock = time.thread_time if args.cpu else time.perf_counter
    if not charls_ref.available():
        sys.exit("libcharls not found (install imagecodecs)")
    set_threads(1)
    imgs = load_framelets()
    npx = sum(i.size for i in imgs)
    cdec = charls_ref.Decoder()
    print(f"{len(imgs)} flown framelets 2048x256, 14-bit, {npx / 1e6:.2f} Mpx per pass; "
          f"best of {args.repeat}, {'thread CPU' if args.cpu else 'wall'} time")
    for near in (0, 4):
        streams = [charls_ref.encode(i, 14, near) for i in imgs]
        ours = [encode(i, near=near, bits_per_sample=14) for i in imgs]
        assert ours == streams, "encoder not byte-identical to CharLS"
        for s in streams:  # warm-up (JIT) and correctness
            assert np.array_equal(decode(s), cdec.decode(s))
        outs = [None] * len(streams)

        def charls_decode(streams=streams, outs=outs):
            for j, s in enumerate(streams):
                outs[j] = cdec.decode(s, outs[j])

        t_c = best_time(charls_decode, args.repeat, clock)
        t_o = best_time(lambda streams=streams: [decode(s) for s in streams], args.repeat, clock)
        t_ce = best_time(lambda n=near: [charls_ref.encode(i, 14, n) for i in imgs],
                         args.repeat, clock)
        t_oe = best_time(lambda n=near: [encode(i, near=n, bits_per_sample=14) for i in imgs],
                         args.repeat, clock)
        size = sum(len(s) for s in streams)
        print(f"NEAR {near}: ratio {2 * npx / size:.3f} (16-bit basis)")
        print(f"  decode  CharLS {npx / t_c / 1e6:6.1f} Mpx/s   ours {npx / t_o / 1e6:6.1f} Mpx/s"
              f"   ours/CharLS {t_c / t_o:.2f}")
        print(f"  encode  CharLS {npx / t_ce / 1e6:6.1f} Mpx/s   ours {npx / t_oe / 1e6:6.1f} Mpx/s"
              f"   ours/CharLS {t_ce / t_oe:.2f}")
        batch = [streams[j % len(streams)] for j in range(args.framelets)]
        bpx = args.framelets * imgs[0].size
        decode_batch(batch[:2], threads=2)  # warm-up
        for threads in (1, 2):
            t_b = best_time(lambda b=batch, t=threads: decode_batch(b, threads=t), args.repeat)
            print(f"  decode_batch {args.framelets} framelets, {threads} thread(s): "
                  f"{bpx / t_b / 1e6:6.1f} Mpx/s")


if __name__ == "__main__":
    main()
