"""Delivery files from the data dissemination system: names and frame splitting (pure).

Name convention (docs/icd.md section 11): ``CAS_<KIND>_<YYYYMMDDThhmmss>_R<NN>.bin`` with KIND
``SCI`` (SpaceWire science frames), ``TC`` (telecommand history, 64-byte MIL frames) or ``HK``
(housekeeping, 64-byte MIL frames); the time is the UTC start of the 15-minute delivery slot
and ``NN`` the revision (01 first delivery, 02... re-deliveries of the same slot). A delivery's
identity is (kind, slot); revisions of one slot carry the same data, possibly more complete.

:func:`split_delivery` cuts a delivery's bytes into frames, reject spans and a pending tail:
a frame cut off by the end of the file (a truncated delivery) is not rejected at once but held
as *pending* until a re-delivery of the slot completes it or the configured wait passes.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from typing import Any

from cassis_pipe.telemetry.errors import Reject
from cassis_pipe.telemetry.hk import read_hk_stream
from cassis_pipe.telemetry.mil import FRAME_LEN, HK_SYNC, TC_SYNC
from cassis_pipe.telemetry.streams import read_science_stream
from cassis_pipe.telemetry.tc import read_tc_stream
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND, is_timecode, unpack_timecode

KINDS = ("SCI", "TC", "HK")
NAME_RE = re.compile(r"^CAS_(SCI|TC|HK)_(\d{8}T\d{6})_R(\d{2})\.bin$")
SCI_SYNC = 0xFA
#: science frame bytes outside the container value: tag + length (5) + MD5 TLV (21)
SCI_OVERHEAD = 26
_U32 = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class DeliveryName:
    """Parsed delivery file name."""

    kind: str
    slot: str        # YYYYMMDDThhmmss, UTC start of the delivery slot
    revision: int

    @property
    def identity(self) -> str:
        """Kind and slot: the same for every revision of one delivery."""
        return f"{self.kind}_{self.slot}"

    def filename(self) -> str:
        return format_name(self.kind, self.slot, self.revision)


def format_name(kind: str, slot: str, revision: int = 1) -> str:
    """File name of a delivery; ValueError for a kind, slot or revision out of convention."""
    name = f"CAS_{kind}_{slot}_R{revision:02d}.bin"
    if NAME_RE.match(name) is None or not 1 <= revision <= 99:
        raise ValueError(f"not a delivery name: {name!r}")
    return name


def parse_name(name: str) -> DeliveryName | None:
    """The fields of a delivery file name, or None if it does not follow the convention."""
    m = NAME_RE.match(name)
    if m is None or int(m.group(3)) == 0:
        return None
    return DeliveryName(m.group(1), m.group(2), int(m.group(3)))


@dataclass(frozen=True, slots=True)
class Frame:
    """One valid frame of a delivery. ``key`` orders and identifies it within its stream (see
    :func:`science_key`, :func:`hk_key`; TC frames get their key from the history position)."""

    offset: int
    data: bytes
    key: tuple
    uid: int | None = None       # science: UID of the take-image


@dataclass(slots=True)
class SplitDelivery:
    """Frames, rejects and the pending tail of one delivery (offsets in the file)."""

    frames: list[Frame] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    pending: tuple[int, int] | None = None   # (offset, length) of a frame cut by end of file

    def as_dict(self) -> dict[str, Any]:
        return {"frames": len(self.frames), "rejects": [r.as_dict() for r in self.rejects],
                "pending": list(self.pending) if self.pending else None}


def ticks(tc: bytes) -> int:
    """A time code as 2^-24 s ticks (-1 when it is not a CaSSIS time code)."""
    if not is_timecode(tc):
        return -1
    coarse, fine = unpack_timecode(tc)
    return coarse * FINE_PER_SECOND + fine


def science_key(uid: int, sequence: int, window: int, offset: int, md5: bytes) -> tuple:
    """Order of science frames in an observation's science.bin: the downlink order (exposure,
    window, data offset), then the MD5 so that differing repeats of one part sort stably."""
    return (uid, sequence, window, offset, md5)


def hk_key(frame: bytes) -> tuple:
    """Order of HK frames: time code ticks, frame type, then the bytes."""
    return (ticks(frame[2:10]), frame[1], frame)


def _cut_tail(kind: str, data: bytes, start: int) -> int | None:
    """First position >= ``start`` where a frame begins that the end of file cuts off."""
    n = len(data)
    sync = {"SCI": SCI_SYNC, "TC": TC_SYNC, "HK": HK_SYNC}[kind]
    pos = data.find(bytes((sync,)), start)
    while pos >= 0:
        if kind == "SCI":
            if n - pos < 5 or pos + SCI_OVERHEAD + _U32.unpack_from(data, pos + 1)[0] > n:
                return pos
        elif n - pos < FRAME_LEN:
            return pos
        pos = data.find(bytes((sync,)), pos + 1)
    return None


def split_delivery(kind: str, data: bytes, base: int = 0) -> SplitDelivery:
    """Frames, rejects and pending tail of ``data`` (a delivery's bytes from offset ``base``).

    Every byte is in exactly one frame, reject or the pending tail; never raises on bad input.
    The tail is pending when the last reject runs to the end of the file and contains a sync
    byte whose frame would end past it.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown delivery kind {kind!r}; expected one of {KINDS}")
    reader = {"SCI": read_science_stream, "TC": read_tc_stream, "HK": read_hk_stream}[kind]
    res = reader(data)
    out = SplitDelivery()
    for f, off in zip(res.frames, res.offsets, strict=True):
        if kind == "SCI":
            raw = data[off:off + f.wire_length]
            md5 = raw[-16:]
            out.frames.append(Frame(base + off, raw, science_key(f.uid, f.sequence, f.window,
                                                                 f.offset, md5), f.uid))
        else:
            raw = data[off:off + FRAME_LEN]
            key = hk_key(raw) if kind == "HK" else ()
            out.frames.append(Frame(base + off, raw, key))
    rejects = list(res.rejects)
    if rejects and rejects[-1].offset + rejects[-1].length == len(data):
        last = rejects.pop()
        cut = _cut_tail(kind, data, last.offset)
        if cut is not None and cut > last.offset:
            rejects.append(Reject(last.offset, cut - last.offset, last.reason))
        if cut is None:
            rejects.append(last)
        else:
            out.pending = (base + cut, len(data) - cut)
    out.rejects = [Reject(base + r.offset, r.length, r.reason) for r in rejects]
    return out
