"""Science stream reader: resynchronisation, byte-coverage invariant, fuzzing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.level0.wire import peek_header
from cassis_pipe.telemetry.errors import StreamResult
from cassis_pipe.telemetry.science import ScienceFrame, encode_science_frame
from cassis_pipe.telemetry.streams import read_science_stream, read_stream


def make_frame(i: int, data: bytes) -> ScienceFrame:
    return ScienceFrame(
        timestamp=bytes.fromhex("2f01543592c2a7cb"),
        uid=100799268 + i,
        window=i % 4,
        sequence=i % 256,
        compression=520 if i % 3 == 0 else 0,
        compression_len=2 if i % 3 == 0 else 1,
        total_length=len(data),
        offset=0,
        type=0,
        error=0,
        position_mdeg=100228,
        exposure_timestamp=bytes.fromhex("2f015435767e275a"),
        pehk=bytes((i + k) % 256 for k in range(64)),
        data=data,
        extra=((0x60, b"x" * (i % 3)),) if i % 2 else (),
    )


def check_coverage(data: bytes, result: StreamResult) -> None:
    """Every byte in exactly one valid frame or one reject span; frames re-encode exactly."""
    spans = []
    for frame, off in zip(result.frames, result.offsets, strict=True):
        length = frame.wire_length
        assert encode_science_frame(frame) == data[off : off + length]
        assert frame.md5_ok
        spans.append((off, length, True))
    for r in result.rejects:
        assert r.length > 0 and isinstance(r.reason, str) and r.reason
        spans.append((r.offset, r.length, False))
    spans.sort()
    pos, prev_reject = 0, False
    for off, length, valid in spans:
        assert off == pos, f"gap or overlap at byte {pos}"
        # a reject right after a reject starts at a corrupt frame whose header is readable
        assert valid or not prev_reject or peek_header(data, off) is not None, "adjacent rejects"
        prev_reject = not valid
        pos += length
    assert pos == len(data)


def frames_stream(rng: np.random.Generator, n: int, max_data: int = 120) -> tuple[bytes, list]:
    frames = [
        make_frame(int(rng.integers(0, 1000)), rng.bytes(int(rng.integers(0, max_data))))
        for _ in range(n)
    ]
    return b"".join(encode_science_frame(f) for f in frames), frames


def test_clean_stream() -> None:
    rng = np.random.default_rng(1)
    data, frames = frames_stream(rng, 6)
    result = read_science_stream(data)
    assert result.frames == frames and result.rejects == []
    assert result.offsets[0] == 0
    check_coverage(data, result)


def test_empty_and_tiny() -> None:
    assert read_science_stream(b"").valid == 0
    r = read_science_stream(b"\xfa")
    assert r.valid == 0 and [(x.offset, x.length) for x in r.rejects] == [(0, 1)]
    assert r.rejects[0].reason == "truncated container header"


def test_garbage_corruption_and_truncation() -> None:
    rng = np.random.default_rng(2)
    f = [encode_science_frame(make_frame(i, rng.bytes(50 + i))) for i in range(5)]
    bad = bytearray(f[2])
    bad[len(bad) // 2] ^= 0x01
    garbage = b"\x00\xfa\x00\x00\x01\x00junk\xfa"
    data = f[0] + garbage + f[1] + bytes(bad) + f[3] + f[4][:-3]
    result = read_science_stream(data)
    check_coverage(data, result)
    assert [fr.uid for fr in result.frames] == [100799268, 100799269, 100799271]
    spans = [(r.offset, r.length, r.reason) for r in result.rejects]
    o1 = len(f[0])
    o2 = o1 + len(garbage) + len(f[1])
    o4 = o2 + len(bad) + len(f[3])
    assert spans == [
        (o1, len(garbage), "garbage"),
        (o2, len(bad), "md5 mismatch"),
        (o4, len(f[4]) - 3, "truncated md5 tlv"),
    ]


def test_frame_hidden_inside_corrupt_frame_data_is_found() -> None:
    """A valid frame that happens to sit in a corrupt frame's data is still recovered."""
    inner = encode_science_frame(make_frame(7, b"inner"))
    outer = bytearray(encode_science_frame(make_frame(8, b"A" * 40 + inner + b"B" * 40)))
    outer[-1] ^= 0xFF  # break the outer MD5
    result = read_science_stream(bytes(outer))
    check_coverage(bytes(outer), result)
    assert [fr.uid for fr in result.frames] == [100799275]


def test_read_stream_dispatch() -> None:
    data, frames = frames_stream(np.random.default_rng(3), 2)
    assert read_stream("science", data).frames == frames
    assert read_stream("science", memoryview(data)).frames == frames
    with pytest.raises(ValueError, match="unknown stream kind"):
        read_stream("bogus", data)


def _mutate(rng: np.random.Generator, base: bytes) -> bytes:
    buf = bytearray(base)
    for _ in range(int(rng.integers(1, 4))):
        op = int(rng.integers(0, 8))
        n = len(buf)
        at = int(rng.integers(0, n + 1))
        if op == 0 and n:  # bit flips
            for p in rng.integers(0, n, size=int(rng.integers(1, 4))):
                buf[p] ^= 1 << int(rng.integers(0, 8))
        elif op == 1:  # truncate the end
            del buf[at:]
        elif op == 2:  # cut the start
            del buf[:at]
        elif op == 3:  # insert garbage (sometimes sync-like)
            junk = rng.bytes(int(rng.integers(1, 40)))
            if rng.integers(0, 2):
                junk = b"\xfa" + junk
            buf[at:at] = junk
        elif op == 4 and n:  # duplicate a slice
            end = min(n, at + int(rng.integers(1, 400)))
            buf[at:at] = buf[at:end]
        elif op == 5 and n:  # delete a slice
            del buf[at : at + int(rng.integers(1, 30))]
        elif op == 6 and n:  # overwrite a byte with a sync or md5 tag
            buf[min(at, n - 1)] = (0xFA, 0xFB, 0x00, 0xFF)[int(rng.integers(0, 4))]
        elif op == 7 and n >= 5:  # clobber a length-looking field
            p = min(at, n - 4)
            buf[p : p + 4] = int(rng.integers(0, 2**32)).to_bytes(4, "big")
    return bytes(buf)


def test_fuzz_mutated_and_random_streams() -> None:
    """5 000 inputs (a few seconds): mutated valid streams and random bytes, invariant checked.
    10^6 inputs: ``python benchmarks/fuzz_readers.py --targets science``."""
    rng = np.random.default_rng(20261121)
    bases = [frames_stream(rng, int(rng.integers(1, 5)), max_data=80)[0] for _ in range(16)]
    total, recovered = 5_000, 0
    for i in range(total):
        if i % 10 == 0:
            data = rng.bytes(int(rng.integers(0, 600)))
            if i % 20 == 0:  # random bytes seeded with many sync candidates
                arr = np.frombuffer(data, dtype=np.uint8).copy()
                arr[rng.random(arr.size) < 0.1] = 0xFA
                data = arr.tobytes()
        else:
            data = _mutate(rng, bases[i % len(bases)])
        result = read_science_stream(data)
        check_coverage(data, result)
        recovered += result.valid
    assert recovered > total // 2  # frames outside the damage survive


segment_st = st.one_of(
    st.tuples(st.just("frame"), st.integers(0, 999), st.binary(max_size=64)),
    st.tuples(st.just("junk"), st.just(0), st.binary(min_size=1, max_size=64)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(segment_st, max_size=8))
def test_property_frames_between_garbage(segments: list) -> None:
    """Frames separated by arbitrary garbage: every frame found at its offset, garbage rejected."""
    data, want, junk_spans, pos = b"", [], [], 0
    for kind, i, payload in segments:
        blob = encode_science_frame(make_frame(i, payload)) if kind == "frame" else payload
        if kind == "frame":
            want.append(pos)
        elif junk_spans and junk_spans[-1][0] + junk_spans[-1][1] == pos:
            junk_spans[-1] = (junk_spans[-1][0], junk_spans[-1][1] + len(blob))
        else:
            junk_spans.append((pos, len(blob)))
        data += blob
        pos += len(blob)
    result = read_science_stream(data)
    check_coverage(data, result)
    assert result.offsets == want
    assert [(r.offset, r.length) for r in result.rejects] == junk_spans


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_property_arbitrary_bytes(data: bytes) -> None:
    check_coverage(data, read_science_stream(data))


def _big_stream(total_mb: int) -> tuple[bytes, int]:
    rng = np.random.default_rng(5)
    frame = encode_science_frame(make_frame(1, rng.bytes(4 * 2**20)))  # ~4 MiB frames
    broken = bytearray(frame)
    broken[1000] ^= 0x10
    parts, n = [], 0
    while sum(len(p) for p in parts) < total_mb * 2**20:
        parts.append(bytes(broken) if n % 5 == 4 else frame)
        parts.append(rng.bytes(int(rng.integers(0, 300))))
        n += 1
    return b"".join(parts), n


def test_large_stream_work() -> None:
    """Each byte is hashed at most once and Python decodes once per frame or resync (speed
    itself: benchmarks/bench_readers.py)."""
    data, n = _big_stream(24)
    result = read_science_stream(data)
    assert result.valid == n - n // 5
    assert result.work.hashed_bytes <= len(data)
    assert result.work.decoded <= 2 * n + 2


@pytest.mark.slow
def test_120_mb_stream() -> None:
    data, n = _big_stream(120)
    result = read_science_stream(data)
    check_coverage(data, result)
    assert result.valid == n - n // 5
    assert result.work.hashed_bytes <= len(data)
