"""Reassembly and decompression: exact DN recovery, corrupt framelets isolated, raw layout."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.codec.jpegls import encode
from cassis_pipe.codec.ratio import near_for_ratio_id
from cassis_pipe.instrument.constants import BINNING_CODES
from cassis_pipe.level0.decompress import (
    CORRUPT,
    OK,
    SKIPPED,
    decompress,
    decompress_summary,
    is_jpegls,
    raw_to_dn,
)
from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.level0.pseudo import predict_packets
from cassis_pipe.level0.reassemble import assemble_one, reassemble
from cassis_pipe.sim.synthetic.level0 import build_observation, window_dn
from cassis_pipe.telemetry.science import ScienceFrame, decode_science_frame, encode_science_frame
from cassis_pipe.telemetry.streams import read_science_stream


def pipeline(science: bytes, tc: bytes, raw_ids=frozenset({0}), threads=None):
    plan = plan_from_tc(tc)
    packets = predict_packets(plan, raw_ratio_ids=raw_ids)
    stream = read_science_stream(science)
    framelets = reassemble(stream.frames, stream.offsets)
    return decompress(framelets.values(), packets, threads=threads), packets


@pytest.fixture(scope="module")
def obs():
    return build_observation(max_frame_data=120, seed=3)


def test_exact_dn_recovery(obs) -> None:
    out, packets = pipeline(obs.science, obs.tc, threads=2)
    assert len(out) == 18 and all(r.status == OK for r in out)
    for r in out:
        truth = obs.dn[r.key]
        near = 0 if r.meta["encoding"] == "raw" else near_for_ratio_id(r.meta["compression"])
        assert r.dn.dtype == np.uint16 and r.dn.shape == truth.shape
        err = np.abs(r.dn.astype(int) - truth.astype(int)).max()
        assert err <= near
        if r.meta["encoding"] == "raw":
            assert np.array_equal(r.dn, truth)
        assert r.meta["filter"] == packets[[p.key for p in packets].index(r.key)].filter
        assert r.meta["position_mdeg"] == 100228 and "shape_mismatch" not in r.meta
        assert r.meta["dn_over_14bit"] == 0 and r.tail is None
    assert [r.key for r in out] == sorted(r.key for r in out)
    s = decompress_summary(out)
    assert (s["decoded"], s["corrupt"], s["skipped"]) == (18, 0, 0)


def test_lossless_jpegls_everywhere_is_exact() -> None:
    obs = build_observation(max_frame_data=300, raw_ratio_ids=frozenset(), seed=5)
    out, _ = pipeline(obs.science, obs.tc, raw_ids=frozenset())
    near0 = [r for r in out if r.meta["compression"] == 0]
    assert len(near0) == 6 and all(r.meta["encoding"] == "jpeg-ls" for r in near0)
    for r in near0:
        assert np.array_equal(r.dn, obs.dn[r.key])


def test_corrupt_stream_only_fails_its_framelet(obs) -> None:
    frames = [decode_science_frame(b)[0] for _, _, b in obs.frames]
    # rewrite framelet (uid, 1, 1) with a valid-MD5 frame whose JPEG-LS data is damaged
    key = (obs.uid, 1, 1)
    parts = []
    for f in frames:
        if (f.uid, f.window, f.sequence) == key and f.offset == 0:
            bad = bytearray(f.data)
            bad[40:60] = b"\xff" * 20
            f = dataclasses.replace(f, data=bytes(bad))
        parts.append(encode_science_frame(f))
    out, _ = pipeline(b"".join(parts), obs.tc, threads=2)
    bad = [r for r in out if r.status != OK]
    assert [r.key for r in bad] == [key] and bad[0].status == CORRUPT
    assert "JPEG-LS" in bad[0].error
    assert sum(r.status == OK for r in out) == 17


def test_incomplete_framelet_is_skipped_not_patched(obs) -> None:
    parts = [b for k, off, b in obs.frames if not (k == (obs.uid, 0, 2) and off == 120)]
    out, _ = pipeline(b"".join(parts), obs.tc)
    (r,) = [r for r in out if r.status != OK]
    assert r.key == (obs.uid, 0, 2) and r.status == SKIPPED and r.dn is None
    assert r.error == "framelet incomplete"


def test_raw_length_mismatch_is_corrupt(obs) -> None:
    frames = [decode_science_frame(b)[0] for _, _, b in obs.frames]
    parts = []
    for f in frames:
        if f.window == 4 and f.sequence == 0:
            f = dataclasses.replace(f, total_length=f.total_length + 2,
                                    data=f.data + (b"\x00\x00" if f.offset == 240 else b""))
        parts.append(encode_science_frame(f))
    out, _ = pipeline(b"".join(parts), obs.tc)
    (r,) = [r for r in out if r.status != OK]
    assert r.status == CORRUPT and "raw data 258 B" in r.error


def test_raw_binned_odd_rows_keep_tail() -> None:
    """Flown NIR: 255 detector rows binned 2x2 = 127 full rows of 1024 + 512 px."""
    px = np.arange(10, dtype=np.uint16)
    full, tail = raw_to_dn(px.astype(">u2").tobytes(), 4)
    assert full.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]] and tail.tolist() == [8, 9]
    little, _ = raw_to_dn(px.astype("<u2").tobytes(), 5, "<")
    assert little.tolist() == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    with pytest.raises(ValueError):
        raw_to_dn(b"\x00\x01\x02", 2)


def test_shape_mismatch_is_noted(obs) -> None:
    frames = [decode_science_frame(b)[0] for _, _, b in obs.frames]
    other = encode(window_dn((9, 32), 1), near=3, bits_per_sample=14)
    parts = [encode_science_frame(f) for f in frames if (f.window, f.sequence) != (0, 0)]
    f0 = next(f for f in frames if (f.window, f.sequence) == (0, 0))
    parts.append(encode_science_frame(dataclasses.replace(f0, data=other, offset=0,
                                                          total_length=len(other))))
    out, _ = pipeline(b"".join(parts), obs.tc)
    r = next(r for r in out if r.key == (obs.uid, 0, 0))
    assert r.status == OK and r.dn.shape == (9, 32) and r.meta["shape_mismatch"] is True


def test_sniffing_raw_vs_jpegls() -> None:
    assert is_jpegls(encode(np.zeros((2, 2), np.uint16), bits_per_sample=14))
    assert not is_jpegls(np.full(4, 16383, ">u2").tobytes())
    assert not is_jpegls(np.full(4, 16383, "<u2").tobytes())


def _frame(data: bytes, offset: int, total: int) -> ScienceFrame:
    return ScienceFrame(timestamp=bytes(8), uid=1, window=0, sequence=0, compression=0,
                        total_length=total, offset=offset, type=0, error=0, position_mdeg=0,
                        exposure_timestamp=bytes(8), pehk=bytes(64), data=data)


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=400), st.lists(st.tuples(st.integers(0, 399),
                                                               st.integers(1, 120)),
                                                     min_size=1, max_size=8))
def test_reassembly_property(payload: bytes, cuts: list[tuple[int, int]]) -> None:
    """Parts cut anywhere (overlapping, repeated) rebuild the payload exactly when they cover it;
    otherwise the missing ranges are exactly the uncovered bytes."""
    n = len(payload)
    parts = [(min(a, n - 1), min(a, n - 1) + ln) for a, ln in cuts]
    frames = [_frame(payload[a:b], a, n) for a, b in parts]
    fl = assemble_one(frames, list(range(len(frames))))
    covered = np.zeros(n, bool)
    for a, b in parts:
        covered[a:b] = True
    if covered.all():
        assert fl.status == "complete" and fl.data == payload
    else:
        assert fl.status == "incomplete" and fl.data is None
        gaps = np.zeros(n, bool)
        for a, b in fl.missing:
            gaps[a:b] = True
        assert np.array_equal(gaps, ~covered)


def test_reassembly_conflicts_and_overrun() -> None:
    a = _frame(b"abcd", 0, 6)
    b = _frame(b"xxef", 2, 6)
    fl = assemble_one([a, b], [0, 100])
    assert fl.status == "conflict" and fl.conflicts[0]["ranges"] == [[2, 4]]
    c = _frame(b"abcdefgh", 0, 6)
    fl = assemble_one([c], [0])
    assert fl.status == "conflict" and fl.conflicts[0]["kind"] == "part runs past total_length"
    d = _frame(b"", 0, 0)
    assert assemble_one([d], [0]).status == "complete"


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=0, max_size=300), st.integers(0, 200))
def test_hostile_jpegls_data_only_marks_that_framelet(junk: bytes, cut: int) -> None:
    good = encode(window_dn((6, 8), 2), near=0, bits_per_sample=14)
    variants = [b"\xff\xd8" + junk, good[: max(cut, 2)], good[:20] + junk]
    fls = [assemble_one([dataclasses.replace(_frame(d, 0, len(d)), sequence=i)], [0])
           for i, d in enumerate([good, *variants])]
    out = decompress(fls)
    assert out[0].status == OK and np.array_equal(out[0].dn, window_dn((6, 8), 2))
    for r, d in zip(out[1:], variants, strict=True):
        assert r.status == (OK if d == good else CORRUPT)
        assert (r.error is None) == (d == good)


@st.composite
def tables(draw):
    from cassis_pipe.sim.synthetic.level0 import make_table

    n_win = draw(st.integers(1, 6))
    wins = []
    for _ in range(n_win):
        binning = draw(st.integers(0, 1))
        f = BINNING_CODES[binning]
        r0 = draw(st.integers(0, 2000))
        rows = f * draw(st.integers(1, 6))
        c0 = draw(st.integers(0, 2000))
        cols = f * draw(st.integers(1, 10))
        wins.append((r0, r0 + rows, c0, c0 + cols - 1, binning, draw(st.integers(0, 5))))
    return make_table(num_exp=draw(st.integers(1, 4)), step_exp_us=draw(st.integers(0, 10**7)),
                      windows=tuple(wins))


@settings(max_examples=20, deadline=None)
@given(tables(), st.integers(1, 64), st.integers(0, 5))
def test_any_table_round_trips_raw(table, max_data: int, seed: int) -> None:
    """Random windows/exposures, every window raw: validation clean, DN exact, counts match."""
    from cassis_pipe.level0.run import process_level0

    everything = frozenset(range(16))
    obs = build_observation(table=table, max_frame_data=max_data, raw_ratio_ids=everything,
                            seed=seed)
    res = process_level0(obs.science, obs.tc, raw_ratio_ids=everything,
                         max_frame_data=max_data)
    assert res.ok, res.summary()
    assert len(res.packets) == table.num_exp * table.num_win
    for r in res.framelets:
        assert np.array_equal(r.dn, obs.dn[r.key])
