"""MIL HK frames: layouts against the manual, round trips per type, decoder errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.telemetry.crc import crc16
from cassis_pipe.telemetry.errors import FrameError
from cassis_pipe.telemetry.hk import (
    HK_FIELDS,
    HK_NAMES,
    HkValue,
    decode_hk,
    encode_hk,
    read_hk_stream,
)

# Spot checks of manual section 4.2 offsets (where the manual is self-consistent).
MANUAL_OFFSETS = {
    0x00: {"PT_DPM": 0x0A, "PT_RCM": 0x24, "PT_MOT_2": 0x2A, "DMY5": 0x3A},
    0x01: {"Z1_CALC_TEMP": 0x0A, "Z5_MAX_TEMP": 0x26, "TSCP_ACTUAL_POS": 0x28,
           "TSCP_TARGET_POS": 0x2C, "TSCP_ROT_STAT": 0x30, "FPGA_COMM_STAT": 0x32},
    0x02: {"0V5_REF": 0x0A, "I_3V3_DPM": 0x0C, "U_3V3_PE": 0x26, "I_3V3_PE": 0x28,
           "I_25V": 0x34, "DMY2": 0x3A},
    0x03: {"PE_HK_STAT": 0x0A, "PE_HK_LASTEVENT": 0x0B, "PE_HK_ADDRRW": 0x0C,
           "PE_HK_PROTFLAG": 0x1C, "PE_ROIC_FREQ": 0x1E, "DMY8": 0x3A},
    0x10: {"FSW_VERSION": 0x0A, "FSW_LUPDATE": 0x0C, "FSW_MODE": 0x14, "IMEM_STATE": 0x1D,
           "SC_LSENT_ITAG": 0x1F},
    0x11: {"FSW_LAST_ISSUE": 0x0A, "FSW_LAST_ECODE": 0x1A, "FSW_STATUS_0": 0x1C,
           "TSENS_H_STAT": 0x24, "HEATER_H_STAT": 0x28, "HEATER_STAT": 0x29},
    0x20: {"0V5_REF": 0x0A, "I_25V": 0x34, "IMEM_FREE": 0x36, "IMEM_COMP": 0x38,
           "IMEM_OFLW_CNT": 0x3A, "DMY1": 0x3C},
}


def test_all_seven_types() -> None:
    assert sorted(HK_FIELDS) == [0x00, 0x01, 0x02, 0x03, 0x10, 0x11, 0x20]
    assert len(set(HK_NAMES.values())) == 7


@pytest.mark.parametrize("ftype", sorted(HK_FIELDS))
def test_layout(ftype: int) -> None:
    table = HK_FIELDS[ftype]
    off = 0x0A
    for f in table:
        assert f.offset == off
        off += f.length
    assert off == 0x3E
    names = [f.name for f in table]
    assert len(set(names)) == len(names)
    by_name = {f.name: f for f in table}
    for name, manual in MANUAL_OFFSETS[ftype].items():
        assert by_name[name].offset == manual, name


def test_fsw_status_1_image_tags_are_8_bytes() -> None:
    by_name = {f.name: f for f in HK_FIELDS[0x10]}
    assert (by_name["SC_LSENT_ITAG"].offset, by_name["SC_LSENT_ITAG"].length) == (0x1F, 8)
    assert (by_name["SC_LCOMP_ITAG"].offset, by_name["SC_LCOMP_ITAG"].length) == (0x27, 8)
    assert (by_name["FSW_UPTIME"].offset, by_name["FSW_UPTIME"].unit) == (0x2F, "s")


def test_units_and_tags() -> None:
    fields = {(t, f.name): f for t, tab in HK_FIELDS.items() for f in tab}
    assert fields[(0x01, "TSCP_ACTUAL_POS")].unit == "mdeg"
    assert fields[(0x00, "PT_DPM")].unit == "raw"  # no calibration in the manual
    tags = [f.tag for (t, _), f in fields.items() if f.tag is not None and t != 0x20]
    assert len(tags) == len(set(tags))  # 0x71 no longer used twice
    assert fields[(0x03, "PE_ROIC_FREQ")].tag == 0x7B


def test_imaging_frame_type_byte() -> None:
    frame = encode_hk(0x20, 1, {"IMEM_FREE": 5})
    assert frame[1] == 0x20
    hk = decode_hk(frame)
    assert hk.name == "imaging" and hk.fields["IMEM_FREE"] == HkValue(5, "blocks")


def test_frame_bytes() -> None:
    frame = encode_hk(0x01, 0x2F01543131B1AA13, {"TSCP_ACTUAL_POS": 100228, "Z1_CALC_TEMP": 0x1234})
    assert frame[:2] == b"\xf5\x01"
    assert frame[2:10] == bytes.fromhex("2f01543131b1aa13")
    assert frame[0x0A:0x0C] == b"\x12\x34"
    assert frame[0x28:0x2C] == (100228).to_bytes(4, "big")
    assert int.from_bytes(frame[0x3E:], "big") == crc16(frame[:0x3E])
    hk = decode_hk(frame)
    assert hk.timestamp == 0x2F01543131B1AA13
    assert hk.fields["TSCP_ACTUAL_POS"] == HkValue(100228, "mdeg")
    d = hk.as_dict()
    assert d["fields"]["TSCP_ACTUAL_POS"] == {"raw": 100228, "unit": "mdeg"}
    json.dumps(d)


@st.composite
def hk_inputs(draw):
    ftype = draw(st.sampled_from(sorted(HK_FIELDS)))
    values = {
        f.name: draw(st.integers(0, (1 << (8 * f.length)) - 1))
        for f in HK_FIELDS[ftype]
        if draw(st.booleans())
    }
    return ftype, draw(st.integers(0, (1 << 64) - 1)), values


@settings(max_examples=400)
@given(hk_inputs())
def test_round_trip_per_type(inp) -> None:
    ftype, ts, values = inp
    frame = encode_hk(ftype, ts, values)
    assert len(frame) == 64
    hk = decode_hk(frame)
    assert (hk.type, hk.timestamp) == (ftype, ts)
    assert {k: v.raw for k, v in hk.fields.items()} == {
        f.name: values.get(f.name, 0) for f in HK_FIELDS[ftype]
    }
    # decode -> encode reproduces the bytes
    assert encode_hk(ftype, hk.timestamp, {k: v.raw for k, v in hk.fields.items()}) == frame


@given(st.sampled_from(sorted(HK_FIELDS)), st.binary(min_size=60, max_size=60))
def test_any_payload_round_trips(ftype: int, payload: bytes) -> None:
    body = bytes((0xF5, ftype)) + payload
    crc = crc16(body)
    frame = body + bytes((crc >> 8, crc & 0xFF))
    hk = decode_hk(frame)
    assert encode_hk(ftype, hk.timestamp, {k: v.raw for k, v in hk.fields.items()}) == frame


def test_decoder_errors() -> None:
    good = bytearray(encode_hk(0x11, 3, {"FSW_LAST_ECODE": 4}))
    for pos, val, reason, where in [
        (0, 0xF0, "bad sync", 0),
        (1, 0xA0, "unknown type", 1),
        (1, 0x04, "unknown type", 1),
        (0x20, 0xFF, "bad CRC", 0x3E),
    ]:
        bad = bytearray(good)
        bad[pos] = val
        with pytest.raises(FrameError) as exc:
            decode_hk(b"\x00" * 3 + bytes(bad), 3)
        assert exc.value.reason == reason and exc.value.offset == 3 + where
    with pytest.raises(FrameError) as exc:
        decode_hk(bytes(good[:40]))
    assert exc.value.reason == "truncated frame"


def test_encoder_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        encode_hk(0xA0, 0, {})
    with pytest.raises(ValueError):
        encode_hk(0x00, 0, {"I_3V3": 1})
    with pytest.raises(ValueError):
        encode_hk(0x00, 0, {"PT_DPM": 1 << 16})
    with pytest.raises(ValueError):
        encode_hk(0x00, 1 << 64, {})
    with pytest.raises(ValueError):
        encode_hk(0x00, b"\x2f", {})


def test_stream_of_all_types() -> None:
    frames = [encode_hk(t, i, {}) for i, t in enumerate(sorted(HK_FIELDS))]
    res = read_hk_stream(b"".join(frames))
    assert [f.type for f in res.frames] == sorted(HK_FIELDS)
    assert res.offsets == [64 * i for i in range(7)] and res.rejects == []
