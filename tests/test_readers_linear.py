"""The stream readers do linear work on hostile input (counted, never timed), and the fast scans
give exactly what a naive byte-by-byte resynchronisation gives."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.level0.wire import peek_header
from cassis_pipe.telemetry import hostile
from cassis_pipe.telemetry.errors import FrameError, Reject, StreamResult
from cassis_pipe.telemetry.hk import decode_hk, encode_hk, read_hk_stream
from cassis_pipe.telemetry.mil import FRAME_LEN, HK_SYNC, TC_SYNC
from cassis_pipe.telemetry.science import CONTAINER_TAG, decode_science_frame, encode_science_frame
from cassis_pipe.telemetry.streams import (
    MAX_FAILED_DEPTH,
    REHASH_FLOOR,
    REHASH_FRACTION,
    read_science_stream,
)
from cassis_pipe.telemetry.tc import decode_tc, encode_tc, read_tc_stream, set_tm_rate, take_image

SMALL, LARGE = 20_000, 200_000

SCIENCE_ATTACKS = {
    "fa_flood": hostile.fa_flood,
    "common_trailer": lambda n: hostile.common_trailer(n, block=1 << 30),  # one far trailer
    "common_trailer_blocks": lambda n: hostile.common_trailer(n, block=4096),
    "nested": hostile.nested_containers,
    "random_fa": hostile.random_sync_rich,
    "cut_frames": hostile.cut_frames,
    "clean": lambda n: hostile.clean_science(n, frame_data=2000),
}


def _science_work(data: bytes) -> int:
    w = read_science_stream(data).work
    assert w.hashed_bytes <= (MAX_FAILED_DEPTH + 1) * len(data)
    assert w.scanned <= len(data)
    assert w.decoded <= 2 + 2 * len(data) // 174  # a candidate is at least a 174-byte container
    return w.hashed_bytes + w.scanned + 200 * w.decoded


@pytest.mark.parametrize("attack", sorted(SCIENCE_ATTACKS))
def test_science_work_grows_linearly(attack: str) -> None:
    """10x the input must cost about 10x the work (quadratic resync gave ~100x)."""
    build = SCIENCE_ATTACKS[attack]
    small, large = _science_work(build(SMALL)), _science_work(build(LARGE))
    assert large <= 12 * small, (small, large)


def test_common_trailer_is_hashed_at_most_twice() -> None:
    """The attack that took 6 s at 200 KB: every container announces the same far trailer."""
    data = hostile.common_trailer(LARGE, block=1 << 30)
    res = read_science_stream(data)
    assert res.valid == 0 and len(res.rejects) == 1 and res.rejects[0].length == len(data)
    assert res.work.skipped >= 1
    assert res.work.hashed_bytes <= MAX_FAILED_DEPTH * len(data)


@pytest.mark.parametrize("attack", ["common_trailer_blocks", "nested"])
def test_rehash_budget_caps_large_inputs(attack: str) -> None:
    """Past REHASH_FLOOR, bytes hashed twice are capped at REHASH_FRACTION of the file."""
    data = SCIENCE_ATTACKS[attack](3 * REHASH_FLOOR)
    res = read_science_stream(data)
    assert res.valid == 0
    limit = (1 + REHASH_FRACTION) * len(data) + REHASH_FLOOR
    assert res.work.hashed_bytes <= limit
    assert res.work.skipped >= 1  # a candidate was refused once the budget ran out
    if attack == "common_trailer_blocks":  # many small second hashes: the budget is spent
        assert res.work.hashed_bytes > len(data) + REHASH_FLOOR


def test_frame_after_hostile_block_is_still_found() -> None:
    good = encode_science_frame(hostile.science_frame(3, b"payload"))
    for attack in ("common_trailer_blocks", "nested", "fa_flood"):
        data = SCIENCE_ATTACKS[attack](30_000) + good
        res = read_science_stream(data)
        assert res.offsets == [len(data) - len(good)], attack


MIL_ATTACKS = {
    "tc": (read_tc_stream,
           [b"\xf0" * 64, encode_tc(take_image(7, 1)), encode_tc(set_tm_rate(7, 1))]),
    "hk": (read_hk_stream, [b"\xf5" * 64, encode_hk(1, 1, {})]),
}


@pytest.mark.parametrize("kind", sorted(MIL_ATTACKS))
@pytest.mark.parametrize("variant", ["sync_flood", "bad_crc", "clean"])
def test_mil_work_is_linear(kind: str, variant: str) -> None:
    reader, frames = MIL_ATTACKS[kind]
    work = []
    for n in (SMALL, LARGE):
        if variant == "sync_flood":
            data = hostile.mil_stream(frames[:1], n)
        else:
            data = hostile.mil_stream(frames[1:], n, flip_at=6 if variant == "bad_crc" else None)
        res = reader(data)
        assert res.work.scanned <= n
        # the Python decoder runs once per valid frame and once per reject span, never per byte
        assert res.work.decoded <= res.valid + len(res.rejects)
        assert res.valid == (n // FRAME_LEN if variant == "clean" else 0)
        work.append(res.work.scanned + FRAME_LEN * res.work.decoded)
    assert work[1] <= 12 * work[0]


# ---- oracles: the byte-by-byte resynchronisation the scans replace ----

def _naive_mil(data: bytes, sync: int, decode) -> StreamResult:
    frames, offsets, rejects, pend, reason, pos, n = [], [], [], -1, "", 0, len(data)
    while pos < n:
        if data[pos] == sync and n - pos < FRAME_LEN:
            if pend >= 0:
                rejects.append(Reject(pend, pos - pend, reason))
            rejects.append(Reject(pos, n - pos, "truncated frame"))
            return StreamResult(frames, offsets, rejects)
        try:
            frame = decode(data, pos)
        except FrameError as err:
            if pend < 0:
                pend, reason = pos, "garbage" if data[pos] != sync else err.reason
            pos += 1
            continue
        if pend >= 0:
            rejects.append(Reject(pend, pos - pend, reason))
            pend = -1
        frames.append(frame)
        offsets.append(pos)
        pos += FRAME_LEN
    if pend >= 0:
        rejects.append(Reject(pend, n - pend, reason))
    return StreamResult(frames, offsets, rejects)


def _naive_science(data: bytes) -> tuple[list[int], list[tuple[int, int, str]]]:
    offsets, rejects, pos, n = [], [], 0, len(data)
    while pos < n:
        try:
            _, used = decode_science_frame(data, pos)
        except FrameError as err:
            start, reason = pos, "garbage" if data[pos] != CONTAINER_TAG else err.reason
            pos += 1
            while pos < n:
                try:
                    _, used = decode_science_frame(data, pos)
                    break
                except FrameError as err2:
                    if peek_header(data, pos) is not None:  # a corrupt frame: own span
                        rejects.append((start, pos - start, reason))
                        start, reason = pos, err2.reason
                    pos += 1
            rejects.append((start, pos - start, reason))
            if pos >= n:
                break
        offsets.append(pos)
        pos += used
    return offsets, rejects


_tc_pool = [encode_tc(take_image(i, 1000 + i)) for i in range(3)] + [encode_tc(set_tm_rate(2, 1))]
_hk_pool = [encode_hk(t, 5, {}) for t in (1, 2, 3)]
_sci_pool = [encode_science_frame(hostile.science_frame(i, bytes(range(i * 7)))) for i in range(3)]

piece = st.one_of(
    st.sampled_from(_tc_pool + _hk_pool + _sci_pool),
    st.binary(max_size=70),
    st.builds(lambda b, k, f: b[:k] + bytes([b[k] ^ f]) + b[k + 1:] if k < len(b) else b,
              st.sampled_from(_tc_pool + _hk_pool + _sci_pool), st.integers(0, 300),
              st.integers(1, 255)),
    st.sampled_from([b"\xf0", b"\xf5", b"\xfa", b"\xf0" * 70, b"\xfa" * 9]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(piece, max_size=10))
def test_scans_match_naive_resync(pieces: list[bytes]) -> None:
    data = b"".join(pieces)
    for reader, sync, decode in ((read_tc_stream, TC_SYNC, decode_tc),
                                 (read_hk_stream, HK_SYNC, decode_hk)):
        got, want = reader(data), _naive_mil(data, sync, decode)
        assert (got.offsets, got.rejects) == (want.offsets, want.rejects)
    res = read_science_stream(data)
    assert (res.offsets, [(r.offset, r.length, r.reason) for r in res.rejects]) == \
        _naive_science(data)

