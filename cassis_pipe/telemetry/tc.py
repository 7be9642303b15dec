"""CaSSIS MIL-bus telecommands: one declarative command table, encoder, decoder, stream reader.

Frame (64 bytes): 0xf0, len, then the command TLV (cid, clen, parameters), CRC-16 big-endian
right after the command, zero padding to 64 bytes. ``len`` counts the command bytes (cid through
the last parameter value), so the CRC sits at ``2 + len`` and ``clen = len - 2``. Each parameter is
a 2-byte prefix (tag, length) immediately followed by its value; the tag is the parameter's
1-based position in the command. The first value therefore starts at byte 6 and every later one
at previous value offset + previous length + 2; the CRC covers bytes 0 .. CRC offset - 1.
Integers are unsigned big-endian; "bytes" parameters are octet strings. See docs/icd.md section 3.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

from cassis_pipe.telemetry.errors import FrameError, StreamResult
from cassis_pipe.telemetry.mil import (
    FRAME_LEN,
    TC_SYNC,
    check_crc,
    frame_slice,
    put_crc,
    read_mil_stream,
)
from cassis_pipe.telemetry.paramtable import PACKED_LEN, ParameterTable
from cassis_pipe.telemetry.scan import MilTable

FIRST_VALUE_OFFSET = 6  # byte offset of the first parameter value in a TC frame
FSW_CHUNK = 46  # bytes of FSW image per "upload FSW image" frame
NORMAL_MODE = 0x5A00A500  # "enter operation mode" pattern for normal mode
SAFE_MODE = 0x0FA55A00  # "enter operation mode" pattern for safe mode


class Param(NamedTuple):
    """One command parameter: name, value length in bytes, kind ("uint" or "bytes")."""

    name: str
    length: int
    kind: str = "uint"


class CommandSpec(NamedTuple):
    """A command's id, name, parameters and the offsets derived from them."""

    cid: int
    name: str
    params: tuple[Param, ...]
    offsets: tuple[int, ...]  # value offset of each parameter from byte 0 of the frame
    crc_offset: int


_UID = Param("uid", 4)
_TS = Param("timestamp", 8)  # CaSSIS time code, 8 raw bytes as one big-endian integer

#: The command table (manual section 3): cid -> (name, parameters in frame order).
_TABLE: dict[int, tuple[str, tuple[Param, ...]]] = {
    0x01: ("move_motor_relative", (_UID, Param("direction", 1), Param("displacement", 4), _TS)),
    0x02: ("move_motor_absolute", (_UID, Param("position", 4), _TS)),
    0x03: ("take_image", (_UID, _TS, Param("table_ref", 1))),
    0x04: ("take_test_image", (_UID, _TS, Param("test_image", 1))),
    0x06: (
        "set_parameter_value",
        (_UID, Param("table_ref", 1), Param("source_ref", 1), Param("param_id", 1),
         Param("value", 8)),
    ),
    0x16: ("create_parameter_table", (_UID, Param("table_ref", 1), Param("source_ref", 1))),
    0x07: ("set_parameter_table", (Param("table_ref", 1), Param("table", PACKED_LEN, "bytes"))),
    0xFF: ("reboot", (_UID, _TS, Param("reset_type", 1), Param("boot_target", 1))),
    0xF0: (
        "initiate_fsw_update",
        (_UID, Param("n_frames", 2), Param("update_type", 1), Param("n_bytes", 4)),
    ),
    0xF1: ("upload_fsw_image", (_UID, Param("frame_count", 2), Param("data", FSW_CHUNK, "bytes"))),
    0xF2: ("perform_fsw_update", (_UID, Param("md5", 16, "bytes"))),
    0x09: (
        "set_temperatures",
        (_UID,)
        + tuple(
            p
            for z in range(1, 6)
            for p in (Param(f"zone{z}_enable", 1), Param(f"zone{z}_range", 4))
        ),
    ),
    0x0A: ("set_gpio", (_UID, Param("gpio_id", 1), Param("gpio_value", 1))),
    0x0B: (
        "dump",
        (_UID, Param("dump_type", 1), Param("target", 1), Param("offset", 4), Param("length", 4)),
    ),
    0x0C: ("set_tm_rate", (_UID, Param("rate", 1))),
    0xA3: ("enter_operation_mode", (_UID, Param("mode", 4))),
    0x0E: ("update_hk_parameter", (_UID, Param("param_id", 1), Param("value", 8))),
    0xE5: (
        "modify_configuration_parameter",
        (_UID, Param("param_id", 2), Param("value", FSW_CHUNK, "bytes")),
    ),
}


def _derive(cid: int, name: str, params: tuple[Param, ...]) -> CommandSpec:
    offsets = []
    off = FIRST_VALUE_OFFSET
    for p in params:
        offsets.append(off)
        off += p.length + 2
    crc_offset = off - 2
    if crc_offset + 2 > FRAME_LEN:
        raise AssertionError(f"command 0x{cid:02x} does not fit in a MIL frame")
    return CommandSpec(cid, name, params, tuple(offsets), crc_offset)


COMMANDS: dict[int, CommandSpec] = {cid: _derive(cid, n, p) for cid, (n, p) in _TABLE.items()}
COMMAND_IDS: dict[str, int] = {spec.name: cid for cid, spec in COMMANDS.items()}


def _fixed_bytes(spec: CommandSpec) -> tuple[tuple[int, int], ...]:
    """(frame offset, value) of every byte decode_tc checks besides sync, cid and CRC."""
    fixed = [(1, spec.crc_offset - 2), (3, spec.crc_offset - 4)]
    for tag, (p, off) in enumerate(zip(spec.params, spec.offsets, strict=True), start=1):
        fixed += [(off - 2, tag), (off - 1, p.length)]
    return tuple(fixed)


#: what the stream scan checks before calling decode_tc (see scan.MilTable).
TC_TABLE = MilTable(TC_SYNC, 2, {cid: s.crc_offset for cid, s in COMMANDS.items()},
                    {cid: _fixed_bytes(s) for cid, s in COMMANDS.items()})


@dataclass(slots=True)
class Command:
    """A decoded or to-be-encoded telecommand.

    ``params`` maps parameter name -> int (unsigned) or bytes, excluding the unique id, which is
    ``uid`` (None for the one command without it, set_parameter_table).
    """

    cid: int
    name: str
    params: dict[str, int | bytes] = field(default_factory=dict)
    uid: int | None = None

    def as_dict(self) -> dict:
        """JSON-ready form (bytes as lower-case hex strings)."""
        return {
            "kind": "tc",
            "cid": self.cid,
            "name": self.name,
            "uid": self.uid,
            "params": {k: v.hex() if isinstance(v, bytes) else v for k, v in self.params.items()},
        }


def _spec_for(cmd: Command) -> CommandSpec:
    spec = COMMANDS.get(cmd.cid)
    if spec is None:
        raise ValueError(f"unknown command id 0x{cmd.cid:02x}")
    if cmd.name and cmd.name != spec.name:
        raise ValueError(f"command id 0x{cmd.cid:02x} is {spec.name}, not {cmd.name}")
    return spec


def encode_tc(cmd: Command) -> bytes:
    """The 64-byte MIL TC frame for ``cmd``.

    Missing integer parameters (and a None uid) encode as 0, as the manual's optional defaults;
    "bytes" parameters must be given, at most their length (shorter ones are zero padded).
    Raises ValueError for unknown commands/parameters or values that do not fit.
    """
    spec = _spec_for(cmd)
    names = {p.name for p in spec.params}
    unknown = set(cmd.params) - (names - {"uid"})
    if unknown:
        raise ValueError(f"{spec.name}: unknown parameters {sorted(unknown)}")
    if cmd.uid is not None and "uid" not in names:
        raise ValueError(f"{spec.name} has no unique id")
    frame = bytearray(FRAME_LEN)
    frame[0] = TC_SYNC
    frame[1] = spec.crc_offset - 2
    frame[2] = spec.cid
    frame[3] = spec.crc_offset - 4
    for tag, (p, off) in enumerate(zip(spec.params, spec.offsets, strict=True), start=1):
        frame[off - 2] = tag
        frame[off - 1] = p.length
        value = (cmd.uid or 0) if p.name == "uid" else cmd.params.get(p.name)
        if p.kind == "bytes":
            if not isinstance(value, bytes | bytearray) or len(value) > p.length:
                raise ValueError(f"{spec.name}.{p.name} needs up to {p.length} bytes")
            frame[off : off + len(value)] = value
        else:
            value = 0 if value is None else value
            if not isinstance(value, int) or not 0 <= value < (1 << (8 * p.length)):
                raise ValueError(f"{spec.name}.{p.name}={value!r} does not fit in {p.length} bytes")
            frame[off : off + p.length] = value.to_bytes(p.length, "big")
    put_crc(frame, spec.crc_offset)
    return bytes(frame)


def decode_tc(buf: bytes | bytearray | memoryview, offset: int = 0) -> Command:
    """Decode the 64-byte TC frame at ``buf[offset:]``.

    Raises FrameError (with the absolute byte offset) for bad sync, truncation, unknown cid, bad
    length/clen byte, bad CRC or a parameter prefix that does not match the table. The zero
    padding after the CRC is not checked (it is not covered by the CRC).
    """
    frame = frame_slice(buf, offset, TC_SYNC)
    spec = COMMANDS.get(frame[2])
    if spec is None:
        raise FrameError("unknown cid", offset + 2)
    if frame[1] != spec.crc_offset - 2:
        raise FrameError("bad length", offset + 1)
    if frame[3] != spec.crc_offset - 4:
        raise FrameError("bad command length", offset + 3)
    check_crc(frame, spec.crc_offset, offset)
    params: dict[str, int | bytes] = {}
    uid = None
    for tag, (p, off) in enumerate(zip(spec.params, spec.offsets, strict=True), start=1):
        if frame[off - 2] != tag or frame[off - 1] != p.length:
            raise FrameError("bad parameter prefix", offset + off - 2)
        raw = frame[off : off + p.length]
        value: int | bytes = raw if p.kind == "bytes" else int.from_bytes(raw, "big")
        if p.name == "uid":
            uid = value
        else:
            params[p.name] = value
    return Command(spec.cid, spec.name, params, uid)  # type: ignore[arg-type]


def read_tc_stream(data: bytes | bytearray | memoryview) -> StreamResult:
    """Every valid TC frame in a concatenation of 64-byte frames; never raises.

    ``frames`` are :class:`Command`; every other byte is in one Reject span.
    """
    return read_mil_stream(data, TC_TABLE, decode_tc)


# ---- convenience constructors (timestamps: 8-byte CaSSIS time code as int or 8 raw bytes) ----


def _ts(timestamp: int | bytes) -> int:
    if isinstance(timestamp, bytes | bytearray):
        if len(timestamp) != 8:
            raise ValueError("a CaSSIS time code is 8 bytes")
        return int.from_bytes(timestamp, "big")
    return int(timestamp)


def _cmd(name: str, uid: int | None, **params: int | bytes) -> Command:
    return Command(COMMAND_IDS[name], name, dict(params), uid)


def move_motor_relative(uid: int, direction: int, steps: int, timestamp: int | bytes) -> Command:
    """Rotate by ``steps`` motor steps; direction 0 clockwise, 1 anti-clockwise."""
    return _cmd("move_motor_relative", uid, direction=direction, displacement=steps,
                timestamp=_ts(timestamp))


def move_motor_absolute(uid: int, position: int, timestamp: int | bytes) -> Command:
    """Rotate to absolute ``position`` (motor steps)."""
    return _cmd("move_motor_absolute", uid, position=position, timestamp=_ts(timestamp))


def take_image(uid: int, timestamp: int | bytes, table_ref: int = 0) -> Command:
    """Take an image with parameter table ``table_ref``; first exposure at ``timestamp``."""
    return _cmd("take_image", uid, timestamp=_ts(timestamp), table_ref=table_ref)


def take_test_image(uid: int, timestamp: int | bytes, test_image: int = 1) -> Command:
    """Take a test image of type ``test_image`` (non-zero)."""
    return _cmd("take_test_image", uid, timestamp=_ts(timestamp), test_image=test_image)


def set_parameter_value(
    uid: int, table_ref: int, param_id: int, value: int, source_ref: int = 0
) -> Command:
    """Set imaging parameter ``param_id`` (0x00-0x1e) of table ``table_ref`` to ``value``."""
    if not 0 <= param_id <= 0x1E:
        raise ValueError(f"imaging parameter id 0x{param_id:02x} not in 0x00..0x1e")
    return _cmd("set_parameter_value", uid, table_ref=table_ref, source_ref=source_ref,
                param_id=param_id, value=value)


def create_parameter_table(uid: int, table_ref: int, source_ref: int = 0) -> Command:
    """Create (or overwrite) table ``table_ref`` from ``source_ref``."""
    return _cmd("create_parameter_table", uid, table_ref=table_ref, source_ref=source_ref)


def set_parameter_table(table_ref: int, table: ParameterTable | bytes) -> Command:
    """Upload a whole parameter table (53 packed bytes) as table ``table_ref``."""
    packed = table.pack() if isinstance(table, ParameterTable) else bytes(table)
    if len(packed) != PACKED_LEN:
        raise ValueError(f"packed parameter table must be {PACKED_LEN} bytes")
    return _cmd("set_parameter_table", None, table_ref=table_ref, table=packed)


def reboot(uid: int, timestamp: int | bytes = 0, reset_type: int = 0,
           boot_target: int = 0) -> Command:
    """Reboot (reset_type 0 warm, 1 hard; boot_target 0 MRAM0, 1 MRAM1)."""
    return _cmd("reboot", uid, timestamp=_ts(timestamp), reset_type=reset_type,
                boot_target=boot_target)


def initiate_fsw_update(uid: int, n_frames: int, update_type: int, n_bytes: int) -> Command:
    """Start an FSW update of ``n_frames`` upload frames carrying ``n_bytes`` bytes."""
    return _cmd("initiate_fsw_update", uid, n_frames=n_frames, update_type=update_type,
                n_bytes=n_bytes)


def upload_fsw_image(uid: int, frame_count: int, data: bytes) -> Command:
    """One FSW image chunk (up to 46 bytes, zero padded) at index ``frame_count``."""
    return _cmd("upload_fsw_image", uid, frame_count=frame_count, data=bytes(data))


def perform_fsw_update(uid: int, md5: bytes) -> Command:
    """Finish the FSW update; ``md5`` is the 16-byte MD5 digest of the whole image."""
    if len(md5) != 16:
        raise ValueError("MD5 digest must be 16 bytes")
    return _cmd("perform_fsw_update", uid, md5=bytes(md5))


def fsw_update_commands(uid: int, image: bytes, update_type: int = 0) -> list[Command]:
    """The full initiate / upload x N / perform sequence for ``image`` (MD5 computed here)."""
    chunks = [image[i : i + FSW_CHUNK] for i in range(0, len(image), FSW_CHUNK)]
    cmds = [initiate_fsw_update(uid, len(chunks), update_type, len(image))]
    cmds += [upload_fsw_image(uid, k, c) for k, c in enumerate(chunks)]
    cmds.append(perform_fsw_update(uid, hashlib.md5(image).digest()))
    return cmds


def set_temperatures(uid: int, zones: dict[int, tuple[int, int]]) -> Command:
    """Set target ranges for zones 1-5: ``{zone: (min_raw, max_raw)}`` (16-bit raw each).

    Zones not listed are sent with enable 0 and range 0.
    """
    params: dict[str, int | bytes] = {}
    for z in range(1, 6):
        if z in zones:
            lo, hi = zones[z]
            if not (0 <= lo < 65536 and 0 <= hi < 65536):
                raise ValueError(f"zone {z} range must be two 16-bit raw values")
            params[f"zone{z}_enable"] = 1
            params[f"zone{z}_range"] = (lo << 16) | hi
    if set(zones) - set(range(1, 6)):
        raise ValueError("zones are 1..5")
    return _cmd("set_temperatures", uid, **params)


def set_gpio(uid: int, gpio_id: int, gpio_value: int) -> Command:
    """Drive GPIO ``gpio_id`` low (0) or high (1)."""
    return _cmd("set_gpio", uid, gpio_id=gpio_id, gpio_value=gpio_value)


def dump(uid: int, dump_type: int, target: int, offset: int, length: int) -> Command:
    """Dump ``length`` bytes from ``offset`` (type 0 RAM, 1 MRAM, 2 parameter table)."""
    return _cmd("dump", uid, dump_type=dump_type, target=target, offset=offset, length=length)


def set_tm_rate(uid: int, rate: int) -> Command:
    """TM rate id: 0 slow, 1 normal, 2 debug."""
    return _cmd("set_tm_rate", uid, rate=rate)


def enter_operation_mode(uid: int, mode: int) -> Command:
    """Enter a mode by its pattern (:data:`NORMAL_MODE` or :data:`SAFE_MODE`)."""
    return _cmd("enter_operation_mode", uid, mode=mode)


def update_hk_parameter(uid: int, param_id: int, value: int) -> Command:
    """Write a writeable HK parameter (8-byte value)."""
    return _cmd("update_hk_parameter", uid, param_id=param_id, value=value)


def modify_configuration_parameter(uid: int, param_id: int, value: bytes) -> Command:
    """Write up to 46 bytes of configuration parameter ``param_id`` (low byte = frame seq.)."""
    return _cmd("modify_configuration_parameter", uid, param_id=param_id, value=bytes(value))
