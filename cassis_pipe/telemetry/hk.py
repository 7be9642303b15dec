"""CaSSIS MIL-bus housekeeping (HK) frames: one declarative table per frame type.

Every HK frame is 64 bytes: 0xf5, frame type byte, 8-byte CaSSIS time code (offset 0x02), the
type's fields from offset 0x0a, CRC-16 big-endian at 0x3e over bytes 0x00-0x3d. All fields are
unsigned big-endian integers. The manual gives no calibration for any sensor, so values are
reported raw except where the manual or flown files fix a unit (see UNITS and docs/icd.md sec. 4).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from cassis_pipe.telemetry.errors import FrameError, StreamResult
from cassis_pipe.telemetry.mil import (
    FRAME_LEN,
    HK_SYNC,
    check_crc,
    frame_slice,
    put_crc,
    read_mil_stream,
)
from cassis_pipe.telemetry.scan import MilTable

HK_CRC_OFFSET = 0x3E
HK_FIELDS_OFFSET = 0x0A  # first field after sync, type and 8-byte time code


class HkField(NamedTuple):
    """One HK field: name, byte offset in the frame, length in bytes, unit, tag (or None)."""

    name: str
    offset: int
    length: int
    unit: str
    tag: int | None


class HkValue(NamedTuple):
    """A decoded HK value: the raw unsigned integer and its unit ("raw" = no calibration known)."""

    raw: int
    unit: str


# Units fixed by the manual or the flown files; every other field is "raw".
UNITS: dict[str, str] = {
    # rotation position in millidegrees, as the flown rotation TLV (100228 = 100.228 deg)
    "TSCP_ACTUAL_POS": "mdeg",
    "TSCP_TARGET_POS": "mdeg",
    "FSW_UPTIME": "s",
    "IMEM_USED": "blocks",
    "IMEM_FREE": "blocks",
    "IMEM_COMP": "blocks",
}

_PT = [
    ("PT_DPM", 0x30), ("PT_PE_2", 0x31), ("PT_PE_1", 0x32), ("PT_FPA_1", 0x33),
    ("PT_FPA_2", 0x34), ("PT_TEL_M1_1", 0x35), ("PT_TEL_M1_2", 0x36), ("PT_TEL_RB_1", 0x37),
    ("PT_TEL_RB_2", 0x38), ("PT_TEL_M2", 0x39), ("PT_TEL_FB", 0x3A), ("PT_PCM_5V", 0x3B),
    ("PT_PCM_PE", 0x3C), ("PT_RCM", 0x3E), ("PT_PCM_MOT", 0x3F), ("PT_MOT_1", 0x40),
    ("PT_MOT_2", 0x41),
]
_ZONES = (
    [(f"Z{z}_CALC_TEMP", 0x1F + z) for z in range(1, 6)]
    + [(f"Z{z}_MIN_TEMP", 0x24 + z) for z in range(1, 6)]
    + [(f"Z{z}_MAX_TEMP", 0x29 + z) for z in range(1, 6)]
)
# Currents and voltages; names made unique and identifier-like (see ICD decisions).
_POWER = [
    ("0V5_REF", 0x50), ("I_3V3_DPM", 0x51), ("3V3_DPM", 0x52), ("I_1V8", 0x53), ("1V8", 0x54),
    ("5V_OP", 0x55), ("5V_ANA", 0x56), ("I_5V_ANA", 0x57), ("I_3V3_FPGA", 0x58),
    ("3V3_FPGA", 0x59), ("I_1V2_FPGA", 0x5A), ("1V2_FPGA", 0x5B), ("24V_MOT_1", 0x5C),
    ("24V_MOT_2", 0x5D), ("U_3V3_PE", 0x5E), ("I_3V3_PE", 0x5F), ("U_8V5", 0x60),
    ("I_8V5", 0x61), ("U_N8V5", 0x62), ("I_N8V5", 0x63), ("U_25V", 0x64), ("I_25V", 0x65),
]

# Frame type -> (name, [(field name, length, tag)]) laid out contiguously from offset 0x0a.
_LAYOUT: dict[int, tuple[str, list[tuple[str, int, int | None]]]] = {
    0x00: (
        "temperature_1",
        [(n, 2, t) for n, t in _PT]
        + [("DMY1", 2, None)] + [(f"DMY{i}", 4, None) for i in range(2, 6)],
    ),
    0x01: (
        "temperature_2",
        [(n, 2, t) for n, t in _ZONES]
        + [("TSCP_ACTUAL_POS", 4, None), ("TSCP_TARGET_POS", 4, None),
           ("TSCP_ROT_STAT", 1, None), ("TSCP_ROT_SWHEALTH", 1, None),
           ("FPGA_COMM_STAT", 1, None), ("DMY1", 1, None), ("DMY2", 2, None),
           ("DMY3", 4, None), ("DMY4", 4, None)],
    ),
    0x02: (
        "currents_voltages",
        [(n, 2, t) for n, t in _POWER] + [("DMY1", 4, None), ("DMY2", 4, None)],
    ),
    0x03: (
        "pe_hk",
        [("PE_HK_STAT", 1, 0x70), ("PE_HK_LASTEVENT", 1, 0x71), ("PE_HK_ADDRRW", 2, 0x72),
         ("PE_HK_ADDRRW_CONT", 2, 0x73), ("PE_HK_TEMP_FPA1", 2, 0x74),
         ("PE_HK_TEMP_FPA2", 2, 0x75), ("PE_HK_TEMP_PE", 2, 0x76), ("PE_HK_TEMP_CH1", 2, 0x77),
         ("PE_HK_TEMP_CH2", 2, 0x78), ("PE_HK_33V", 2, 0x79), ("PE_HK_PROTFLAG", 2, 0x7A),
         ("PE_ROIC_FREQ", 2, 0x7B), ("DMY1", 2, None)]
        + [(f"DMY{i}", 4, None) for i in range(2, 9)],
    ),
    0x10: (
        "fsw_status_1",
        [("FSW_VERSION", 2, 0x01), ("FSW_LUPDATE", 8, 0x02), ("FSW_MODE", 1, 0x03),
         ("IMEM_USED", 2, 0x04), ("IMEM_FREE", 2, 0x05), ("IMEM_COMP", 2, 0x06),
         ("IMEM_OFLW_CNT", 2, 0x07), ("IMEM_STATE", 2, 0x08), ("SC_LSENT_ITAG", 8, 0x09),
         ("SC_LCOMP_ITAG", 8, 0x0A), ("FSW_UPTIME", 8, 0x0B), ("DMY1", 3, None),
         ("DMY2", 4, None)],
    ),
    0x11: (
        "fsw_status_2",
        [("FSW_LAST_ISSUE", 4, 0x10), ("FSW_LAST_EXEC", 4, 0x11), ("FSW_LAST_RCV", 4, 0x12),
         ("FSW_LAST_FAILED", 4, 0x13), ("FSW_LAST_ECODE", 1, 0x14), ("FSW_CMEM_FREE", 1, 0x15),
         ("FSW_STATUS_0", 8, 0x16), ("TSENS_H_STAT", 4, 0x17), ("HEATER_H_STAT", 1, 0x18),
         ("HEATER_STAT", 1, 0x19)]
        + [(f"DMY{i}", 4, None) for i in range(1, 6)],
    ),
    0x20: (
        "imaging",
        [(n, 2, t) for n, t in _POWER]
        + [("IMEM_FREE", 2, 0x05), ("IMEM_COMP", 2, 0x06), ("IMEM_OFLW_CNT", 2, 0x07),
           ("DMY1", 2, None)],
    ),
}


def _build(layout: list[tuple[str, int, int | None]]) -> tuple[HkField, ...]:
    out = []
    off = HK_FIELDS_OFFSET
    for name, length, tag in layout:
        out.append(HkField(name, off, length, UNITS.get(name, "raw"), tag))
        off += length
    if off != HK_CRC_OFFSET:
        raise AssertionError(f"HK layout ends at 0x{off:02x}, not at the CRC (0x3e)")
    return tuple(out)


#: Frame type -> field table (sync, type, time code and CRC excluded).
HK_FIELDS: dict[int, tuple[HkField, ...]] = {t: _build(lay) for t, (_, lay) in _LAYOUT.items()}
HK_NAMES: dict[int, str] = {t: name for t, (name, _) in _LAYOUT.items()}
# decoder fast path: (name, start, end, unit) per type, and tuple construction without the
# NamedTuple keyword machinery (about 5x faster per field)
_SLICES = {t: [(f.name, f.offset, f.offset + f.length, f.unit) for f in tab]
           for t, tab in HK_FIELDS.items()}
_new_value = tuple.__new__
#: what the stream scan checks before calling decode_hk: sync, known type byte, CRC.
HK_TABLE = MilTable(HK_SYNC, 1, dict.fromkeys(HK_FIELDS, HK_CRC_OFFSET))


@dataclass(slots=True)
class HkFrame:
    """One decoded HK frame; ``timestamp`` is the 8-byte CaSSIS time code as an integer."""

    type: int
    name: str
    timestamp: int
    fields: dict[str, HkValue] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """JSON-ready form: fields as {name: {"raw": int, "unit": str}}."""
        return {
            "kind": "hk",
            "type": self.type,
            "name": self.name,
            "timestamp": self.timestamp,
            "fields": {k: {"raw": v.raw, "unit": v.unit} for k, v in self.fields.items()},
        }


def encode_hk(frame_type: int, timestamp: int | bytes, values: dict[str, int]) -> bytes:
    """64-byte HK frame of ``frame_type``; fields not in ``values`` are 0 (for the simulator).

    Raises ValueError for an unknown type, unknown field names or values that do not fit.
    """
    table = HK_FIELDS.get(frame_type)
    if table is None:
        raise ValueError(f"unknown HK frame type 0x{frame_type:02x}")
    by_name = {f.name: f for f in table}
    unknown = set(values) - set(by_name)
    if unknown:
        raise ValueError(f"HK frame 0x{frame_type:02x} has no fields {sorted(unknown)}")
    if isinstance(timestamp, bytes | bytearray):
        if len(timestamp) != 8:
            raise ValueError("a CaSSIS time code is 8 bytes")
        timestamp = int.from_bytes(timestamp, "big")
    if not 0 <= timestamp < 1 << 64:
        raise ValueError("timestamp does not fit in 8 bytes")
    frame = bytearray(FRAME_LEN)
    frame[0] = HK_SYNC
    frame[1] = frame_type
    frame[2:10] = timestamp.to_bytes(8, "big")
    for name, value in values.items():
        f = by_name[name]
        if not isinstance(value, int) or not 0 <= value < 1 << (8 * f.length):
            raise ValueError(f"HK {name}={value!r} does not fit in {f.length} bytes")
        frame[f.offset : f.offset + f.length] = value.to_bytes(f.length, "big")
    put_crc(frame, HK_CRC_OFFSET)
    return bytes(frame)


def decode_hk(buf: bytes | bytearray | memoryview, offset: int = 0) -> HkFrame:
    """Decode the 64-byte HK frame at ``buf[offset:]``.

    Raises FrameError (absolute byte offset) for bad sync, truncation, unknown type, bad CRC.
    """
    frame = frame_slice(buf, offset, HK_SYNC)
    table = HK_FIELDS.get(frame[1])
    if table is None:
        raise FrameError("unknown type", offset + 1)
    check_crc(frame, HK_CRC_OFFSET, offset)
    values = {
        name: _new_value(HkValue, (int.from_bytes(frame[start:end], "big"), unit))
        for name, start, end, unit in _SLICES[frame[1]]
    }
    return HkFrame(frame[1], HK_NAMES[frame[1]], int.from_bytes(frame[2:10], "big"), values)


def read_hk_stream(data: bytes | bytearray | memoryview) -> StreamResult:
    """Every valid HK frame in a concatenation of 64-byte frames; never raises.

    ``frames`` are :class:`HkFrame`; every other byte is in one Reject span.
    """
    return read_mil_stream(data, HK_TABLE, decode_hk)
