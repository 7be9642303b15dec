"""SpaceWire science frames: real flown FSW headers, byte-exact round trips, corrupt input."""

from __future__ import annotations

import hashlib
import json
import struct
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from cassis_pipe.telemetry.errors import FrameError
from cassis_pipe.telemetry.science import (
    DATA_TAG_MANUAL,
    HEADER_TAGS,
    MIN_CONTAINER_LENGTH,
    ScienceFrame,
    decode_science_frame,
    encode_science_frame,
)

DUMP_LABEL = "pds4-exports/CAS-MCO-2016-11-20T15.30.00.349-DMP-00000-00.xml"
# FSW_HEADER attribute base name -> ScienceFrame field
LABEL_FIELDS = {
    "Timestamp": "timestamp",
    "UID": "uid",
    "WindowCounter": "window",
    "SequenceCounter": "sequence",
    "CompressionRatio": "compression",
    "TotalDataLength": "total_length",
    "Offset": "offset",
    "Type": "type",
    "Error": "error",
    "Position": "position_mdeg",
    "ExposureTimestamp": "exposure_timestamp",
    "PEHK": "pehk",
}
HEX_FIELDS = {"Timestamp", "ExposureTimestamp", "PEHK"}


def fsw_header(path: Path) -> dict[str, str]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    fsw = etree.parse(str(path), parser).getroot().find(".//FSW_HEADER")
    assert fsw is not None
    return dict(fsw.attrib)


def frame_from_fsw(attrs: dict[str, str]) -> ScienceFrame:
    """Rebuild a frame from a label's FSW_HEADER (data = zeros of Data_Length)."""
    values = {
        field: bytes.fromhex(attrs[name]) if name in HEX_FIELDS else int(attrs[name])
        for name, field in LABEL_FIELDS.items()
    }
    return ScienceFrame(
        **values,
        data=bytes(int(attrs["Data_Length"])),
        compression_len=int(attrs["CompressionRatio_Length"]),
        data_tag=int(attrs["Data_Tag"]),
    )


def sample_frame(data: bytes = b"\x01\x02\x03", **kw: object) -> ScienceFrame:
    base = dict(
        timestamp=bytes.fromhex("2f01543592c2a7cb"),
        uid=100799268,
        window=0,
        sequence=5,
        compression=0,
        total_length=len(data),
        offset=0,
        type=0,
        error=0,
        position_mdeg=100228,
        exposure_timestamp=bytes.fromhex("2f015435767e275a"),
        pehk=bytes(range(64)),
        data=data,
    )
    base.update(kw)
    return ScienceFrame(**base)  # type: ignore[arg-type]


def real_labels(all_bern_labels: list[Path], data_dir: Path) -> list[Path]:
    return [*all_bern_labels, data_dir / DUMP_LABEL]


def test_real_fsw_headers_round_trip(all_bern_labels: list[Path], data_dir: Path) -> None:
    labels = real_labels(all_bern_labels, data_dir)
    assert len(labels) == 6
    for path in labels:
        attrs = fsw_header(path)
        # the label lists 13 TLVs with the lengths we enforce
        for name, field in LABEL_FIELDS.items():
            tag = int(attrs[f"{name}_Tag"])
            assert HEADER_TAGS[tag][0] == field
            assert int(attrs[f"{name}_Length"]) in HEADER_TAGS[tag][1]
        frame = frame_from_fsw(attrs)
        wire = encode_science_frame(frame)
        tm_length = int(attrs["ScienceTM_Length"])
        data_length = int(attrs["Data_Length"])
        ratio_len = int(attrs["CompressionRatio_Length"])
        assert tm_length - data_length == 168 + ratio_len  # 169, or 170 for the 2-byte ratio
        assert struct.unpack_from(">I", wire, 1)[0] == tm_length == frame.science_tm_length
        assert len(wire) == 5 + tm_length + 21 == frame.wire_length
        decoded, consumed = decode_science_frame(wire)
        assert consumed == len(wire) and decoded == frame and decoded.md5_ok
        assert encode_science_frame(decoded) == wire
        for name, field in LABEL_FIELDS.items():
            got = getattr(decoded, field)
            want = attrs[name]
            assert (got.hex() if name in HEX_FIELDS else str(got)) == want, (path.name, name)
        assert decoded.data_tag == int(attrs["Data_Tag"]) == 160
        assert len(decoded.data) == data_length


def test_2018_file_has_two_byte_ratio(data_dir: Path) -> None:
    (path,) = sorted((data_dir / "compressed").glob("*.xml"))
    frame = frame_from_fsw(fsw_header(path))
    assert (frame.compression, frame.compression_len, frame.position_mdeg) == (520, 2, 100228)
    wire = encode_science_frame(frame)
    # the ratio TLV is tag 5, length 2, value 0x0208, right after tags 1-4 (5+8, 5+4, 5+1, 5+1)
    p = 5 + 13 + 9 + 6 + 6
    assert wire[p : p + 7] == bytes.fromhex("05000000020208")


def test_wire_layout_of_sample() -> None:
    frame = sample_frame()
    wire = encode_science_frame(frame)
    assert wire[0] == 0xFA and wire[5:18] == bytes.fromhex("01 00000008 2f01543592c2a7cb")
    body_end = 5 + frame.science_tm_length
    assert wire[body_end - 8 :][:8] == bytes.fromhex("a000000003010203")
    assert wire[body_end : body_end + 5] == bytes.fromhex("fb00000010")
    assert wire[body_end + 5 :] == hashlib.md5(wire[:body_end]).digest()
    assert MIN_CONTAINER_LENGTH == 169


tag_st = st.integers(0, 255).filter(lambda t: t not in HEADER_TAGS and t not in (0x10, 0xA0))
frame_st = st.builds(
    ScienceFrame,
    timestamp=st.binary(min_size=8, max_size=8),
    uid=st.integers(0, 2**32 - 1),
    window=st.integers(0, 255),
    sequence=st.integers(0, 255),
    compression=st.integers(0, 255),
    total_length=st.integers(0, 2**32 - 1),
    offset=st.integers(0, 2**32 - 1),
    type=st.integers(0, 255),
    error=st.integers(0, 2**32 - 1),
    position_mdeg=st.integers(0, 2**32 - 1),
    exposure_timestamp=st.binary(min_size=8, max_size=8),
    pehk=st.binary(min_size=64, max_size=64),
    data=st.binary(max_size=300),
    compression_len=st.just(1),
    data_tag=st.sampled_from([0xA0, 0x10]),
    extra=st.lists(st.tuples(tag_st, st.binary(max_size=20)), max_size=3).map(tuple),
)


@settings(max_examples=300, deadline=None)
@given(frame_st, st.randoms(use_true_random=False), st.booleans(), st.integers(0, 65535))
def test_round_trip_property(frame: ScienceFrame, rnd, shuffle: bool, wide: int) -> None:
    if wide % 2:
        frame = replace(frame, compression=wide, compression_len=2)
    if shuffle:
        layout = [*HEADER_TAGS, *(t for t, _ in frame.extra), frame.data_tag]
        rnd.shuffle(layout)
        # keep extras in their list order (the layout only fixes positions)
        extra_tags = iter(t for t, _ in frame.extra)
        layout = [
            next(extra_tags) if t not in HEADER_TAGS and t != frame.data_tag else t for t in layout
        ]
        frame = replace(frame, layout=tuple(layout))
    wire = encode_science_frame(frame)
    prefix = b"\x00" * 7
    decoded, consumed = decode_science_frame(prefix + wire + b"junk", offset=7)
    assert consumed == len(wire) == frame.wire_length
    assert encode_science_frame(decoded) == wire
    canonical = frame.layout is None or list(frame.layout) == [
        *HEADER_TAGS,
        *(t for t, _ in frame.extra),
        frame.data_tag,
    ]
    assert decoded == (replace(frame, layout=None) if canonical else frame)


def test_data_tag_0x10_accepted_and_preserved() -> None:
    frame = sample_frame(data_tag=DATA_TAG_MANUAL)
    wire = encode_science_frame(frame)
    decoded, _ = decode_science_frame(wire)
    assert decoded.data_tag == 0x10 and decoded.data == frame.data


def _rehash(wire: bytearray) -> bytes:
    """Fix up the MD5 of a frame whose container was edited on purpose."""
    end = 5 + struct.unpack_from(">I", wire, 1)[0]
    wire[end + 5 : end + 21] = hashlib.md5(wire[:end]).digest()
    return bytes(wire)


def test_md5_mismatch_and_verify_false() -> None:
    frame = sample_frame(data=bytes(1000))
    wire = bytearray(encode_science_frame(frame))
    wire[-100] ^= 0x40  # a data byte
    with pytest.raises(FrameError) as info:
        decode_science_frame(bytes(wire))
    assert info.value.reason == "md5 mismatch"
    assert info.value.offset == len(wire) - 16
    decoded, consumed = decode_science_frame(bytes(wire), verify=False)
    assert not decoded.md5_ok and consumed == len(wire)
    assert decoded.uid == frame.uid and decoded.data != frame.data
    assert decoded.as_dict()["md5_ok"] is False
    # verify=False also tolerates a missing MD5 TLV
    cut = bytes(wire[: 5 + frame.science_tm_length])
    with pytest.raises(FrameError, match="truncated md5"):
        decode_science_frame(cut)
    decoded, consumed = decode_science_frame(cut, verify=False)
    assert consumed == len(cut) and not decoded.md5_ok


def _tlvs(frame: ScienceFrame) -> list[tuple[int, bytes]]:
    """The (tag, value) list of an encoded frame, parsed independently of the decoder."""
    wire = encode_science_frame(frame)
    out, p, end = [], 5, 5 + struct.unpack_from(">I", wire, 1)[0]
    while p < end:
        length = struct.unpack_from(">I", wire, p + 1)[0]
        out.append((wire[p], wire[p + 5 : p + 5 + length]))
        p += 5 + length
    return out


def _container(tlvs: list[tuple[int, bytes]], tail: bytes = b"") -> bytes:
    """Container of ``tlvs`` (+ raw ``tail`` bytes inside it) with a correct MD5 TLV."""
    body = b"".join(bytes((t,)) + struct.pack(">I", len(v)) + v for t, v in tlvs) + tail
    head = b"\xfa" + struct.pack(">I", len(body))
    return head + body + b"\xfb\x00\x00\x00\x10" + hashlib.md5(head + body).digest()


def _edit(tlvs: list[tuple[int, bytes]], tag: int, new: tuple[int, bytes] | None) -> list:
    out = [tv for tv in tlvs if tv[0] != tag]
    i = [t for t, _ in tlvs].index(tag)
    return out if new is None else [*out[:i], new, *out[i:]]


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        ("container_tag", "bad container tag"),
        ("short_container", "below"),
        ("long_container", "truncated container"),
        ("md5_tag", "bad md5 tlv"),
        ("tlv_length", "tlv 2 has length 3"),
        ("tlv_overrun", "overruns"),
        ("duplicate", "duplicate tlv 2"),
        ("duplicate_data", "duplicate data"),
        ("missing", "missing tlv 9"),
        ("missing_data", "missing data"),
        ("truncated_tlv", "truncated tlv header"),
    ],
)
def test_structural_errors(edit: str, reason: str) -> None:
    frame = sample_frame(data=bytes(20))
    wire = bytearray(encode_science_frame(frame))
    tlvs = _tlvs(frame)
    assert _container(tlvs) == wire
    if edit == "container_tag":
        wire[0] = 0xFB
    elif edit == "short_container":
        struct.pack_into(">I", wire, 1, 100)
    elif edit == "long_container":
        struct.pack_into(">I", wire, 1, len(wire))
    elif edit == "md5_tag":
        wire[-21] = 0xFC
    elif edit == "tlv_length":
        wire = _container(_edit(tlvs, 2, (2, b"abc")))
    elif edit == "tlv_overrun":
        wire = _container(tlvs, tail=b"\x60\x00\x00\x01\x00" + bytes(10))
    elif edit == "duplicate":
        wire = _container([*tlvs, (2, b"abcd")])
    elif edit == "duplicate_data":
        wire = _container([*tlvs, (0x10, b"x")])
    elif edit == "missing":
        wire = _container(_edit(tlvs, 9, (0x33, bytes(4))))
    elif edit == "missing_data":
        wire = _container(_edit(tlvs, 0xA0, (0x61, bytes(20))))
    elif edit == "truncated_tlv":
        wire = _container(tlvs, tail=b"\x77\x00")
    with pytest.raises(FrameError, match=reason) as info:
        decode_science_frame(bytes(wire))
    assert 0 <= info.value.offset < len(wire)


def test_unknown_tlvs_kept_in_place() -> None:
    tlvs = _tlvs(sample_frame())
    wire = _container([(0x42, b"hello"), *tlvs[:3], (0x99, b""), *tlvs[3:]])
    frame, consumed = decode_science_frame(wire)
    assert consumed == len(wire)
    assert frame.extra == ((0x42, b"hello"), (0x99, b""))
    assert frame.layout is not None and frame.layout[0] == 0x42
    assert encode_science_frame(frame) == wire


def test_error_offsets_are_absolute() -> None:
    wire = encode_science_frame(sample_frame())
    buf = bytes(100) + wire[:-1]
    with pytest.raises(FrameError) as info:
        decode_science_frame(buf, offset=100)
    assert info.value.offset == 100 + len(wire) - 21
    with pytest.raises(FrameError) as info:
        decode_science_frame(buf, offset=50)
    assert info.value.offset == 50


@pytest.mark.parametrize(
    "kw",
    [
        {"uid": 2**32},
        {"window": 256},
        {"compression": 256},
        {"compression": 1, "compression_len": 3},
        {"position_mdeg": -1},
        {"timestamp": b"\x2f" * 7},
        {"pehk": bytes(63)},
        {"data_tag": 0x11},
        {"extra": ((2, b"x"),)},
        {"layout": (1, 2)},
    ],
)
def test_encode_rejects_bad_fields(kw: dict) -> None:
    with pytest.raises(ValueError):
        encode_science_frame(sample_frame(**kw))


def test_as_dict_is_json_and_summarises_data() -> None:
    frame = sample_frame(data=bytes(5000), extra=((0x60, b"ab"),))
    d = frame.as_dict()
    text = json.dumps(d)
    assert d["data_length"] == 5000 and len(text) < 1000
    assert d["uid"] == 100799268 and d["extra"] == [{"tag": 0x60, "length": 2}]
    assert d["science_tm_length"] == 169 + 5000 + 7


def test_large_frame_decodes_fast() -> None:
    data = bytes(range(256)) * (64 * 1024)  # 16 MiB
    wire = encode_science_frame(sample_frame(data=data, total_length=len(data)))
    t0 = time.perf_counter()
    decoded, consumed = decode_science_frame(wire)
    elapsed = time.perf_counter() - t0
    assert consumed == len(wire) and decoded.data == data
    assert elapsed < 1.0, f"16 MiB frame took {elapsed:.3f} s"
