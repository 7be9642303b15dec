"""Hypothesis fuzzing of the ops parsers: HK column decoder, times, channel names, users files,
deliveries state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_support import KERNELS, sim_hk

from cassis_pipe.ops.auth import verify_password
from cassis_pipe.ops.clock import Clock, parse_time
from cassis_pipe.ops.hkframes import CHANNELS, HkDbError, decode_hk_arrays, resolve_channel
from cassis_pipe.ops.status import read_deliveries
from cassis_pipe.telemetry.hk import read_hk_stream

CLOCK = Clock(KERNELS / "em16_tgo_step_20190823.tsc", KERNELS / "naif0012.tls")
HK = sim_hk(0.5)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(HK) - 1), st.integers(0, 255)), max_size=6),
       st.integers(0, len(HK)), st.binary(max_size=80))
def test_column_decoder_agrees_with_stream_reader(flips, cut, tail) -> None:
    data = bytearray(HK[:cut])
    for pos, val in flips:
        if pos < len(data):
            data[pos] = val
    data += tail
    got = decode_hk_arrays(bytes(data))
    ref = read_hk_stream(bytes(data))
    assert got.valid == ref.valid
    assert got.rejected_bytes + 64 * got.valid == len(data)
    assert got.rejects == [r.as_dict() for r in ref.rejects]
    want = sorted((f.type, f.timestamp) for f in ref.frames)
    have = sorted((t, int(x)) for t, b in got.batches.items() for x in b.tc.astype(np.uint64))
    assert have == want


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_times_parse_or_refuse(text: str) -> None:
    try:
        t = parse_time(text, CLOCK)
    except HkDbError:
        return
    assert 0.0 <= t < 2.0**32


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=40), st.sampled_from(sorted(CHANNELS))))
def test_channel_names_resolve_or_refuse(name: str) -> None:
    try:
        ch = resolve_channel(name)
    except HkDbError:
        return
    assert ch.name in CHANNELS and name in (ch.name, ch.field)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=120))
def test_malformed_password_hashes_never_verify(stored: str) -> None:
    assert verify_password("any password", stored) is False


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c,
                                                                        max_size=3),
                    max_leaves=10))
def test_deliveries_reader_never_raises(tmp_path_factory, value) -> None:  # noqa: ANN001
    p = Path(tmp_path_factory.mktemp("d")) / "state.json"
    p.write_text(json.dumps(value))
    rows = read_deliveries(p)
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows)
