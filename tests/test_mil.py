"""MIL stream readers: resynchronisation, reject spans, coverage invariant, fuzzing."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.telemetry import tc
from cassis_pipe.telemetry.errors import Reject
from cassis_pipe.telemetry.hk import HK_FIELDS, encode_hk, read_hk_stream
from cassis_pipe.telemetry.mil import coverage_ok
from cassis_pipe.telemetry.tc import COMMANDS, encode_tc, read_tc_stream


def _tc_frames(rng: np.random.Generator, n: int) -> list[bytes]:
    out = []
    cids = sorted(COMMANDS)
    for _ in range(n):
        spec = COMMANDS[cids[rng.integers(len(cids))]]
        params: dict[str, int | bytes] = {}
        for p in spec.params:
            if p.kind == "bytes":
                params[p.name] = rng.bytes(p.length)
            else:
                params[p.name] = int.from_bytes(rng.bytes(p.length), "big")
        uid = params.pop("uid", None)
        out.append(encode_tc(tc.Command(spec.cid, spec.name, params, uid)))  # type: ignore[arg-type]
    return out


def _hk_frames(rng: np.random.Generator, n: int) -> list[bytes]:
    types = sorted(HK_FIELDS)
    out = []
    for _ in range(n):
        t = types[rng.integers(len(types))]
        vals = {f.name: int.from_bytes(rng.bytes(f.length), "big") for f in HK_FIELDS[t]}
        out.append(encode_hk(t, int.from_bytes(rng.bytes(8), "big"), vals))
    return out


def test_clean_streams() -> None:
    rng = np.random.default_rng(1)
    tcs, hks = _tc_frames(rng, 50), _hk_frames(rng, 50)
    r = read_tc_stream(b"".join(tcs))
    assert r.valid == 50 and r.rejects == [] and r.offsets == list(range(0, 3200, 64))
    assert [encode_tc(c) for c in r.frames] == tcs
    h = read_hk_stream(b"".join(hks))
    assert h.valid == 50 and h.rejects == []
    assert read_tc_stream(b"").frames == [] and read_tc_stream(b"").rejects == []
    # frames serialise for `cassis-pipe frames --json`
    json.dumps([f.as_dict() for f in r.frames + h.frames])


def test_coverage_check_detects_gaps_and_overlaps() -> None:
    from cassis_pipe.telemetry.errors import StreamResult

    assert coverage_ok(StreamResult([1], [0], [Reject(64, 6, "garbage")]), 70)
    assert not coverage_ok(StreamResult([1], [0], [Reject(65, 5, "garbage")]), 70)  # gap
    assert not coverage_ok(StreamResult([1], [0], [Reject(60, 10, "garbage")]), 70)  # overlap
    assert not coverage_ok(StreamResult([1], [0], []), 70)  # tail not covered
    assert not coverage_ok(StreamResult([], [], [Reject(0, 0, "garbage")]), 0)  # empty span


def test_reject_reasons_and_resync() -> None:
    rng = np.random.default_rng(2)
    a, b, c = _tc_frames(rng, 3)
    bad = bytearray(b)
    bad[10] ^= 0x40
    stream = b"junk" + a + bytes(bad) + c + b"\xf0" + c[:20]
    r = read_tc_stream(stream)
    assert r.offsets == [4, 132]
    assert r.rejects == [
        Reject(0, 4, "garbage"),
        Reject(68, 64, "bad CRC"),
        Reject(196, 21, "truncated frame"),
    ]
    assert coverage_ok(r, len(stream))
    # an HK stream read as TC is all garbage, and vice versa
    hk = b"".join(_hk_frames(rng, 3))
    r = read_tc_stream(hk)
    assert r.frames == [] and coverage_ok(r, len(hk))
    h = read_hk_stream(stream)
    assert h.frames == [] and coverage_ok(h, len(stream))


def test_unknown_cid_and_type_reasons() -> None:
    frame = bytearray(encode_tc(tc.set_tm_rate(1, 1)))
    frame[2] = 0x77
    r = read_tc_stream(bytes(frame))
    assert r.rejects == [Reject(0, 64, "unknown cid")]
    hkf = bytearray(encode_hk(0x00, 0, {}))
    hkf[1] = 0xA1
    h = read_hk_stream(bytes(hkf))
    assert h.rejects == [Reject(0, 64, "unknown type")]


def test_frame_after_truncated_frame_is_found() -> None:
    rng = np.random.default_rng(3)
    a, b = _hk_frames(rng, 2)
    stream = a[:30] + b
    h = read_hk_stream(stream)
    assert h.offsets == [30] and len(h.rejects) == 1 and h.rejects[0].offset == 0
    assert coverage_ok(h, len(stream))


def _mutate(rng: np.random.Generator, frames: list[bytes]) -> bytes:
    k = int(rng.integers(1, 6))
    idx = rng.integers(0, len(frames), k)
    data = bytearray(b"".join(frames[i] for i in idx))
    op = int(rng.integers(0, 7))
    if op == 0:  # bit flips
        for _ in range(int(rng.integers(1, 4))):
            pos = int(rng.integers(0, len(data)))
            data[pos] ^= 1 << int(rng.integers(0, 8))
    elif op == 1:  # truncation
        data = data[: int(rng.integers(0, len(data)))]
    elif op == 2:  # garbage insertion
        pos = int(rng.integers(0, len(data) + 1))
        data[pos:pos] = rng.bytes(int(rng.integers(1, 80)))
    elif op == 3:  # duplication of a slice
        s = int(rng.integers(0, len(data)))
        e = int(rng.integers(s, len(data) + 1))
        pos = int(rng.integers(0, len(data) + 1))
        data[pos:pos] = data[s:e]
    elif op == 4:  # deletion
        s = int(rng.integers(0, len(data)))
        del data[s : s + int(rng.integers(1, 70))]
    elif op == 5:  # pure random bytes, rich in sync bytes
        raw = np.frombuffer(rng.bytes(int(rng.integers(0, 300))), dtype=np.uint8).copy()
        raw[rng.random(raw.size) < 0.1] = 0xF0
        raw[rng.random(raw.size) < 0.1] = 0xF5
        data = bytearray(raw.tobytes())
    # op == 6: unmodified
    return bytes(data)


def test_fuzz_readers() -> None:
    """5 000 mutated multi-frame byte strings through both readers (seeded, a few seconds).
    10^6 inputs: ``python benchmarks/fuzz_readers.py --targets tc,hk``."""
    rng = np.random.default_rng(20261121)
    pool = _tc_frames(rng, 300) + _hk_frames(rng, 300)
    n = 5_000
    total_frames = 0
    for _ in range(n):
        data = _mutate(rng, pool)
        for reader in (read_tc_stream, read_hk_stream):
            res = reader(data)
            assert coverage_ok(res, len(data)), (reader.__name__, data.hex())
            total_frames += res.valid
    assert total_frames > n  # most frames survive most mutations


_tc_pool = _tc_frames(np.random.default_rng(4), 40)
_hk_pool = _hk_frames(np.random.default_rng(5), 40)


@settings(max_examples=300)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(_tc_pool),
            st.sampled_from(_hk_pool),
            st.binary(max_size=70),
        ),
        max_size=8,
    )
)
def test_hypothesis_streams(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    tc_res = read_tc_stream(data)
    hk_res = read_hk_stream(data)
    for res in (tc_res, hk_res):
        assert coverage_ok(res, len(data))
    # every accepted TC frame re-encodes to the bytes it came from (up to the zero padding)
    for cmd, off in zip(tc_res.frames, tc_res.offsets, strict=True):
        end = COMMANDS[cmd.cid].crc_offset + 2
        assert encode_tc(cmd)[:end] == data[off : off + end]
    for hk, off in zip(hk_res.frames, hk_res.offsets, strict=True):
        raw = {k: v.raw for k, v in hk.fields.items()}
        assert encode_hk(hk.type, hk.timestamp, raw) == data[off : off + 64]
    # every clean frame that was inserted whole and stands alone is found
    pos = 0
    for piece in pieces:
        if piece in _tc_pool and pos not in tc_res.offsets:
            # only possible if an earlier accepted frame overlaps it
            assert any(o < pos < o + 64 for o in tc_res.offsets)
        if piece in _hk_pool and pos not in hk_res.offsets:
            assert any(o < pos < o + 64 for o in hk_res.offsets)
        pos += len(piece)


@pytest.mark.parametrize("reader", [read_tc_stream, read_hk_stream])
def test_readers_accept_memoryview_and_bytearray(reader) -> None:
    data = b"".join(_tc_pool[:2] + _hk_pool[:2])
    a = reader(data)
    assert reader(bytearray(data)).offsets == a.offsets == reader(memoryview(data)).offsets
