"""Seeded mutation fuzzing of every parser: stream readers, time codes, JPEG-LS, labels.

Each target takes seed inputs (valid data), mutates them (bit flips, byte overwrites with
sync/marker-like values, truncation, insertion of random or sync-rich bytes, deletion,
duplication of a slice, clobbered length fields) or draws pure random bytes, and calls the parser.
A parser may refuse an input only with its documented error (``FrameError``, ``JpegLsError``,
``LabelError``); stream readers must never raise and must account for every byte. Anything else is
an *unhandled* input. Used at a few thousand inputs by the test suite and at 10^6 by
``benchmarks/fuzz_readers.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from cassis_pipe.telemetry.errors import FrameError, StreamResult

_MAGIC = (0xFA, 0xFB, 0xF0, 0xF5, 0xFF, 0x00, 0x3C)  # sync, MD5 tag, MIL syncs, marker, '<'


def mutate(rng: np.random.Generator, base: bytes) -> bytes:
    """One to three random edits of ``base`` (or pure random, sync-rich bytes, 1 in 16)."""
    if rng.integers(0, 16) == 0:
        arr = np.frombuffer(rng.bytes(int(rng.integers(0, 600))), dtype=np.uint8).copy()
        arr[rng.random(arr.size) < 0.1] = _MAGIC[int(rng.integers(0, len(_MAGIC)))]
        return arr.tobytes()
    buf = bytearray(base)
    for _ in range(int(rng.integers(1, 4))):
        n = len(buf)
        at = int(rng.integers(0, n + 1))
        op = int(rng.integers(0, 8))
        if op == 0 and n:
            for p in rng.integers(0, n, size=int(rng.integers(1, 4))):
                buf[p] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:
            del buf[at:]
        elif op == 2:
            del buf[:at]
        elif op == 3:
            junk = rng.bytes(int(rng.integers(1, 40)))
            buf[at:at] = bytes((_MAGIC[int(rng.integers(0, 4))],)) + junk
        elif op == 4 and n:
            buf[at:at] = buf[at : min(n, at + int(rng.integers(1, 400)))]
        elif op == 5 and n:
            del buf[at : at + int(rng.integers(1, 30))]
        elif op == 6 and n:
            buf[min(at, n - 1)] = _MAGIC[int(rng.integers(0, len(_MAGIC)))]
        elif op == 7 and n >= 5:
            p = min(at, n - 4)
            buf[p : p + 4] = int(rng.integers(0, 2**32)).to_bytes(4, "big")
    return bytes(buf)


def check_tiling(result: StreamResult, total: int, lengths: Sequence[int]) -> None:
    """AssertionError unless frames (``lengths``) and rejects tile ``[0, total)`` exactly."""
    spans = sorted([*zip(result.offsets, lengths, strict=True),
                    *((r.offset, r.length) for r in result.rejects)])
    pos = 0
    for start, length in spans:
        if start != pos or length <= 0:
            raise AssertionError(f"bytes not accounted for exactly once at {pos}")
        pos = start + length
    if pos != total:
        raise AssertionError(f"bytes {pos}..{total} not accounted for")


@dataclass
class FuzzReport:
    """What a fuzz run found: inputs tried, unhandled inputs (first few kept), slowest input."""

    target: str
    inputs: int = 0
    refused: int = 0
    unhandled: int = 0
    examples: list[tuple[str, str]] = field(default_factory=list)
    slowest_s: float = 0.0
    slowest_len: int = 0
    slowest_input: bytes = b""

    def line(self) -> str:
        return (f"{self.target:8s} inputs {self.inputs:9d}  refused {self.refused:9d}  "
                f"unhandled {self.unhandled:3d}  slowest {1e3 * self.slowest_s:8.2f} ms cpu "
                f"({self.slowest_len} bytes)")


@dataclass(frozen=True)
class FuzzTarget:
    """A parser under fuzz: seeds, the call, and the one exception type it may refuse with."""

    name: str
    seeds: tuple[bytes, ...]
    call: Callable[[bytes], object]
    refusal: type[Exception] | tuple[type[Exception], ...] = ()


def run(target: FuzzTarget, inputs: int, seed: int = 0) -> FuzzReport:
    """Feed ``inputs`` mutated inputs to ``target`` (deterministic for a ``seed``)."""
    rng = np.random.default_rng([seed, len(target.name)])
    rep = FuzzReport(target.name)
    for data in target.seeds:  # warm-up (imports, JIT cache loads) outside the timings
        target.call(data)
    for _ in range(inputs):
        data = mutate(rng, target.seeds[int(rng.integers(0, len(target.seeds)))])
        t0 = time.thread_time()  # CPU time: steady on a shared machine
        try:
            target.call(data)
        except target.refusal:
            rep.refused += 1
        except Exception as exc:  # the point of fuzzing: count, keep an example, go on
            rep.unhandled += 1
            if len(rep.examples) < 5:
                rep.examples.append((f"{type(exc).__name__}: {exc}"[:200], data.hex()[:400]))
        dt = time.thread_time() - t0
        if dt > rep.slowest_s:
            rep.slowest_s, rep.slowest_len, rep.slowest_input = dt, len(data), data
        rep.inputs += 1
    return rep


def _stream(kind: str) -> Callable[[bytes], object]:
    from cassis_pipe.telemetry.mil import FRAME_LEN
    from cassis_pipe.telemetry.streams import read_stream

    def call(data: bytes) -> None:
        res = read_stream(kind, data)
        lengths = [f.wire_length if kind == "science" else FRAME_LEN for f in res.frames]
        check_tiling(res, len(data), lengths)

    return call


def _timecode(data: bytes) -> None:
    from cassis_pipe.telemetry.timecode import decode_timecode, unpack_timecode

    unpack_timecode(data[:8])
    decode_timecode(data[:8])


def _jpegls(data: bytes) -> None:
    from cassis_pipe.codec import decode

    out = decode(data)
    if out.ndim != 2:
        raise AssertionError("decoded image is not 2-D")


def _label(data: bytes) -> None:
    from cassis_pipe.labels.bern import parse_bern_label
    from cassis_pipe.labels.pds4 import parse_pds4_label

    parser = parse_bern_label if b"CaSSIS_Header" in data else parse_pds4_label
    parser(data, "fuzz.xml")


def telemetry_seeds() -> dict[str, tuple[bytes, ...]]:
    """Valid science, TC and HK streams and time codes to mutate."""
    from cassis_pipe.telemetry import hostile
    from cassis_pipe.telemetry.hk import HK_FIELDS, encode_hk
    from cassis_pipe.telemetry.science import encode_science_frame
    from cassis_pipe.telemetry.tc import dump, encode_tc, set_tm_rate, take_image

    rng = np.random.default_rng(11)
    sci = tuple(b"".join(encode_science_frame(hostile.science_frame(i + k, rng.bytes(40 * k)))
                         for k in range(n)) for i, n in enumerate((1, 2, 3, 4)))
    tcs = [encode_tc(c) for c in (take_image(5, 77), set_tm_rate(5, 1), dump(5, 0, 1, 2, 3))]
    hks = [encode_hk(t, 99, {}) for t in sorted(HK_FIELDS)]
    return {"science": sci, "tc": (b"".join(tcs), tcs[0] * 3), "hk": (b"".join(hks), hks[0]),
            "timecode": (bytes.fromhex("2f01543131b1aa13"), bytes.fromhex("2f04085de6618507"))}


def jpegls_seeds() -> tuple[bytes, ...]:
    """Small JPEG-LS streams (random-walk images, lossless and near-lossless)."""
    from cassis_pipe.codec import encode

    rng = np.random.default_rng(12)
    out = []
    for shape, bits, near in (((16, 20), 14, 0), ((9, 31), 8, 3), ((24, 12), 12, 1)):
        img = np.cumsum(rng.integers(-3, 4, shape), axis=1) % (1 << bits)
        out.append(encode(img.astype(np.uint16 if bits > 8 else np.uint8),
                          bits_per_sample=bits, near=near))
    return tuple(out)


def targets(label_seeds: Sequence[bytes] = ()) -> dict[str, FuzzTarget]:
    """Every fuzz target; the label target needs ``label_seeds`` (label XML bytes)."""
    from cassis_pipe.codec import JpegLsError
    from cassis_pipe.labels.xmlsafe import LabelError

    tel = telemetry_seeds()
    out = {k: FuzzTarget(k, tel[k], _stream(k)) for k in ("science", "tc", "hk")}
    out["timecode"] = FuzzTarget("timecode", tel["timecode"], _timecode, FrameError)
    out["jpegls"] = FuzzTarget("jpegls", jpegls_seeds(), _jpegls, JpegLsError)
    if label_seeds:
        out["labels"] = FuzzTarget("labels", tuple(label_seeds), _label, LabelError)
    return out
