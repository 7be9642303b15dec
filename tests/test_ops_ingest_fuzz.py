"""Fuzzing the delivery reader and the ingest with hypothesis: cut, spliced and garbage
deliveries become frames, rejects or a pending tail covering every byte once; never a crash,
and the ledger's byte accounting always balances."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassis_pipe.ops.delivery import KINDS, format_name, parse_name, split_delivery
from cassis_pipe.ops.ingest import IngestConfig, ingest
from cassis_pipe.telemetry.hk import encode_hk
from cassis_pipe.telemetry.science import ScienceFrame, encode_science_frame
from cassis_pipe.telemetry.tc import encode_tc, take_image
from cassis_pipe.telemetry.timecode import encode_timecode


def _sci(i: int, n: int) -> bytes:
    ts = encode_timecode(1e8 + i)
    return encode_science_frame(ScienceFrame(
        timestamp=ts, uid=0x20BB8028 + 4 * (i % 3), window=i % 4, sequence=i % 5, compression=3,
        total_length=n, offset=0, type=0, error=0, position_mdeg=1000, exposure_timestamp=ts,
        pehk=bytes(64), data=bytes((i + k) % 251 for k in range(n))))


def valid_stream(kind: str, n: int) -> bytes:
    if kind == "SCI":
        return b"".join(_sci(i, 40 + 13 * i) for i in range(n))
    if kind == "TC":
        return b"".join(encode_tc(take_image(0x20BB8028 + 4 * i, encode_timecode(1e8 + i), 4))
                        for i in range(n))
    return b"".join(encode_hk(i % 4, encode_timecode(1e8 + i), {}) for i in range(n))


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes]:
    kind = draw(st.sampled_from(KINDS))
    data = bytearray(valid_stream(kind, draw(st.integers(0, 6))))
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(("cut", "insert", "flip", "delete")))
        pos = draw(st.integers(0, len(data)))
        if op == "cut":
            del data[pos:]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(max_size=80))
        elif op == "flip" and pos < len(data):
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 70))]
    return kind, bytes(data)


@settings(max_examples=400, deadline=None)
@given(damaged())
def test_split_covers_every_byte_once(case: tuple[str, bytes]) -> None:
    kind, data = case
    s = split_delivery(kind, data)
    spans = [(f.offset, len(f.data)) for f in s.frames] + \
        [(r.offset, r.length) for r in s.rejects] + ([s.pending] if s.pending else [])
    spans.sort()
    pos = 0
    for off, n in spans:
        assert off == pos and n > 0
        pos += n
    assert pos == len(data)
    if s.pending:
        assert s.pending[0] + s.pending[1] == len(data)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(KINDS), st.binary(max_size=400))
def test_random_bytes_never_crash(kind: str, data: bytes) -> None:
    s = split_delivery(kind, data)
    total = sum(len(f.data) for f in s.frames) + sum(r.length for r in s.rejects)
    assert total + (s.pending[1] if s.pending else 0) == len(data)


def test_cut_frame_is_pending_not_rejected() -> None:
    for kind in KINDS:
        data = valid_stream(kind, 3)
        s = split_delivery(kind, data[:-10])
        assert len(s.frames) == 2 and not s.rejects and s.pending is not None
        assert s.pending[0] + s.pending[1] == len(data) - 10


def test_names() -> None:
    name = format_name("SCI", "20190515T074854", 2)
    assert name == "CAS_SCI_20190515T074854_R02.bin"
    p = parse_name(name)
    assert p is not None and (p.kind, p.slot, p.revision, p.identity) == \
        ("SCI", "20190515T074854", 2, "SCI_20190515T074854")
    for bad in ("CAS_SCI_20190515T074854_R00.bin", "CAS_XX_20190515T074854_R01.bin",
                "cas_sci_20190515T074854_R01.bin", "CAS_SCI_20190515_R01.bin"):
        assert parse_name(bad) is None


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(damaged(), min_size=1, max_size=5), st.lists(st.booleans(), min_size=5,
                                                             max_size=5))
def test_ingest_accounting_balances(tmp_path: Path, cases: list[tuple[str, bytes]],
                                    repeat: list[bool]) -> None:
    """Any mix of damaged deliveries (some delivered twice, some under a bad name)."""
    run = tmp_path / f"r{len(list(tmp_path.iterdir()))}"
    d = run / "downlink"
    d.mkdir(parents=True)
    cfg = IngestConfig(downlink=d, root=run / "ingest", wait_s=0.0)
    total = 0
    for i, (kind, data) in enumerate(cases):
        names = [format_name(kind, f"2019051{i}T000000", 1)]
        if repeat[i]:
            names.append(format_name(kind, f"2019051{i}T000000", 2))
        if i == 4:
            names = ["junk.bin"]
        for name in names:
            (d / name).write_bytes(data)
            total += len(data)
    rep = ingest(cfg, now=0.0)
    acc = rep["accounting"]
    assert acc["balanced"] and acc["delivered"] == total and acc["pending"] == 0
    again = ingest(cfg, now=1.0)
    assert again["deliveries"] == [] and again["accounting"] == acc
