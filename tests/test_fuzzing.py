"""The fuzz harness behind benchmarks/fuzz_readers.py, run small: every parser survives a few
thousand mutated inputs, and the harness does catch a parser that misbehaves."""

from __future__ import annotations

from pathlib import Path

import pytest

from cassis_pipe.telemetry.errors import Reject, StreamResult
from cassis_pipe.telemetry.streams import read_science_stream
from tests.support import fuzzing

LABELS = [p.read_bytes() for p in sorted((Path(__file__).parent / "data").glob("*/*.xml"))[:6]]
TARGETS = fuzzing.targets(LABELS)
INPUTS = {"science": 3000, "tc": 3000, "hk": 3000, "timecode": 3000, "jpegls": 1500,
          "labels": 800}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_parser_survives_mutations(name: str) -> None:
    rep = fuzzing.run(TARGETS[name], INPUTS[name], seed=7)
    assert rep.inputs == INPUTS[name]
    assert rep.unhandled == 0, rep.examples
    if name in ("timecode", "jpegls", "labels"):  # the mutations do reach the refusal paths
        assert rep.refused > INPUTS[name] // 4


def test_harness_counts_lost_bytes_and_stray_exceptions() -> None:
    """Positive control: a reader that drops its last reject span, and one that raises."""

    def lossy(data: bytes) -> None:
        res = read_science_stream(data)
        cut = StreamResult(res.frames, res.offsets, res.rejects[:-1])
        fuzzing.check_tiling(cut, len(data), [f.wire_length for f in res.frames])

    def raising(data: bytes) -> None:
        if len(data) % 7 == 0:
            raise KeyError("boom")

    seeds = TARGETS["science"].seeds
    lost = fuzzing.run(fuzzing.FuzzTarget("lossy", seeds, lossy), 300)
    stray = fuzzing.run(fuzzing.FuzzTarget("raising", seeds, raising, KeyError.__base__), 300)
    assert lost.unhandled > 50 and lost.examples
    assert stray.unhandled == 0 and stray.refused > 0  # LookupError is its declared refusal
    assert fuzzing.run(fuzzing.FuzzTarget("raising", seeds, raising), 300).unhandled > 0


def test_check_tiling() -> None:
    ok = StreamResult([object()], [0], [Reject(64, 6, "garbage")])
    fuzzing.check_tiling(ok, 70, [64])
    with pytest.raises(AssertionError):
        fuzzing.check_tiling(ok, 71, [64])
    with pytest.raises(AssertionError):
        fuzzing.check_tiling(StreamResult([], [], [Reject(1, 5, "garbage")]), 6, [])
