"""SpaceWire science telemetry frames: the 0xfa TLV container and its MD5 trailer.

Wire layout of one frame (all integers unsigned big-endian; see docs/icd.md section 5)::

    0xfa | L (4 bytes) | L bytes of TLVs (tag 1 byte | length 4 bytes | value) |
    0xfb | 16 (4 bytes) | MD5 (16 bytes) of the 5 + L container bytes (tag and length included)

``L`` is what the Bern labels call ``ScienceTM_Length``. A frame holds exactly one TLV of each
header tag below plus one data TLV (tag 160 as flown, 0x10 as in the manual); TLVs with other
tags are kept verbatim, and the order found on the wire is remembered, so decode/encode
round-trips byte for byte.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Any

from cassis_pipe.telemetry.errors import FrameError

CONTAINER_TAG = 0xFA
MD5_TAG = 0xFB
MD5_LENGTH = 16
TLV_HEADER = 5  # tag byte + 4-byte length
TRAILER_LENGTH = TLV_HEADER + MD5_LENGTH
DATA_TAG_FLOWN = 0xA0  # 160, as in every flown file
DATA_TAG_MANUAL = 0x10  # as in the manual's table
DATA_TAGS = (DATA_TAG_FLOWN, DATA_TAG_MANUAL)

TAG_TIMESTAMP, TAG_UID, TAG_WINDOW, TAG_SEQUENCE, TAG_COMPRESSION = 1, 2, 3, 4, 5
TAG_TOTAL_LENGTH, TAG_OFFSET, TAG_TYPE, TAG_ERROR, TAG_POSITION = 6, 7, 8, 9, 10
TAG_EXPOSURE_TIMESTAMP, TAG_PEHK = 11, 0x50

#: header tag -> (field name, allowed value lengths in bytes); the order is the canonical order.
HEADER_TAGS: dict[int, tuple[str, tuple[int, ...]]] = {
    TAG_TIMESTAMP: ("timestamp", (8,)),
    TAG_UID: ("uid", (4,)),
    TAG_WINDOW: ("window", (1,)),
    TAG_SEQUENCE: ("sequence", (1,)),
    TAG_COMPRESSION: ("compression", (1, 2)),
    TAG_TOTAL_LENGTH: ("total_length", (4,)),
    TAG_OFFSET: ("offset", (4,)),
    TAG_TYPE: ("type", (1,)),
    TAG_ERROR: ("error", (4,)),
    TAG_POSITION: ("position_mdeg", (4,)),
    TAG_EXPOSURE_TIMESTAMP: ("exposure_timestamp", (8,)),
    TAG_PEHK: ("pehk", (64,)),
}
_BYTES_FIELDS = frozenset({TAG_TIMESTAMP, TAG_EXPOSURE_TIMESTAMP, TAG_PEHK})
#: container length of a frame with the 13 flown TLVs, a 1-byte ratio and no data bytes (169).
MIN_CONTAINER_LENGTH = (len(HEADER_TAGS) + 1) * TLV_HEADER + sum(
    v[1][0] for v in HEADER_TAGS.values()
)
_U32 = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class ScienceFrame:
    """One decoded SpaceWire science frame.

    Time stamps are the raw 8-byte CaSSIS time codes (kept raw because flown dump frames carry
    all-zero exposure time stamps that are not valid time codes). ``position_mdeg`` is the
    rotation mechanism position in millidegrees; ``total_length``/``offset`` are in bytes of the
    window data. ``layout`` is the wire order of tags when it differs from the canonical one
    (header tags ascending, extras, data last), else None. ``md5_ok`` reports the check made by
    the decoder (not part of equality).
    """

    timestamp: bytes
    uid: int
    window: int
    sequence: int
    compression: int
    total_length: int
    offset: int
    type: int
    error: int
    position_mdeg: int
    exposure_timestamp: bytes
    pehk: bytes
    data: bytes
    compression_len: int = 1
    data_tag: int = DATA_TAG_FLOWN
    extra: tuple[tuple[int, bytes], ...] = ()
    layout: tuple[int, ...] | None = None
    md5_ok: bool = field(default=True, compare=False)

    @property
    def science_tm_length(self) -> int:
        """Container length L in bytes (the labels' ScienceTM_Length)."""
        extra = sum(TLV_HEADER + len(v) for _, v in self.extra)
        return MIN_CONTAINER_LENGTH + (self.compression_len - 1) + extra + len(self.data)

    @property
    def wire_length(self) -> int:
        """Bytes the whole frame occupies on the wire (container + MD5 TLV)."""
        return TLV_HEADER + self.science_tm_length + TRAILER_LENGTH

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly summary: every header field, data summarised by its length."""
        return {
            "timestamp": self.timestamp.hex(),
            "uid": self.uid,
            "window": self.window,
            "sequence": self.sequence,
            "compression": self.compression,
            "compression_len": self.compression_len,
            "total_length": self.total_length,
            "offset": self.offset,
            "type": self.type,
            "error": self.error,
            "position_mdeg": self.position_mdeg,
            "exposure_timestamp": self.exposure_timestamp.hex(),
            "pehk": self.pehk.hex(),
            "data_tag": self.data_tag,
            "data_length": len(self.data),
            "science_tm_length": self.science_tm_length,
            "extra": [{"tag": t, "length": len(v)} for t, v in self.extra],
            "md5_ok": self.md5_ok,
        }


def _canonical_layout(frame: ScienceFrame) -> tuple[int, ...]:
    return (*HEADER_TAGS, *(t for t, _ in frame.extra), frame.data_tag)


def _field_value(frame: ScienceFrame, tag: int) -> bytes:
    """Wire value bytes of header tag ``tag`` (ValueError if the field does not fit)."""
    name, lengths = HEADER_TAGS[tag]
    value = getattr(frame, name)
    if tag in _BYTES_FIELDS:
        if not isinstance(value, bytes | bytearray) or len(value) != lengths[0]:
            raise ValueError(f"{name} must be {lengths[0]} bytes")
        return bytes(value)
    size = frame.compression_len if tag == TAG_COMPRESSION else lengths[0]
    if size not in lengths:
        raise ValueError(f"{name} length must be one of {lengths}, got {size}")
    if not 0 <= int(value) < 1 << (8 * size):
        raise ValueError(f"{name}={value} does not fit in {size} unsigned bytes")
    return int(value).to_bytes(size, "big")


def encode_science_frame(frame: ScienceFrame) -> bytes:
    """Wire bytes of ``frame``: 0xfa container (TLVs in ``layout`` order) + MD5 TLV.

    Raises ValueError if a field does not fit its TLV or ``layout`` is inconsistent.
    """
    if frame.data_tag not in DATA_TAGS:
        raise ValueError(f"data tag must be one of {DATA_TAGS}, got {frame.data_tag}")
    for tag, value in frame.extra:
        if not 0 <= tag <= 0xFF or tag in HEADER_TAGS or tag in DATA_TAGS:
            raise ValueError(f"extra TLV tag {tag} is reserved or out of range")
        if len(value) >= 1 << 32:
            raise ValueError("extra TLV value too long")
    layout = frame.layout if frame.layout is not None else _canonical_layout(frame)
    if sorted(layout) != sorted(_canonical_layout(frame)):
        raise ValueError("layout does not list each frame TLV exactly once")
    if len(frame.data) >= 1 << 32:
        raise ValueError("data too long for a 4-byte length")
    extras = iter(frame.extra)
    parts: list[bytes] = []
    for tag in layout:
        if tag in HEADER_TAGS:
            value = _field_value(frame, tag)
        elif tag == frame.data_tag:
            value = frame.data
        else:
            etag, value = next(extras)
            if etag != tag:
                raise ValueError("layout order of extra TLVs differs from extra")
        parts.append(bytes((tag,)) + _U32.pack(len(value)))
        parts.append(value)
    length = sum(len(p) for p in parts)
    if length >= 1 << 32:
        raise ValueError("container too long for a 4-byte length")
    head = bytes((CONTAINER_TAG,)) + _U32.pack(length)
    md5 = hashlib.md5(head)
    for p in parts:
        md5.update(p)
    trailer = bytes((MD5_TAG,)) + _U32.pack(MD5_LENGTH) + md5.digest()
    return b"".join((head, *parts, trailer))


def _container_bounds(mv: memoryview, offset: int) -> int:
    """End offset of the container starting at ``offset`` (structural checks only)."""
    n = len(mv)
    if offset < 0 or n - offset < TLV_HEADER:
        raise FrameError("truncated container header", offset)
    if mv[offset] != CONTAINER_TAG:
        raise FrameError(f"bad container tag 0x{mv[offset]:02x}", offset)
    length = _U32.unpack_from(mv, offset + 1)[0]
    if length < MIN_CONTAINER_LENGTH:
        raise FrameError(f"container length {length} below {MIN_CONTAINER_LENGTH}", offset + 1)
    end = offset + TLV_HEADER + length
    if end > n:
        raise FrameError(f"truncated container ({length} bytes announced)", offset)
    return end


def _md5_trailer_ok(mv: memoryview, end: int) -> bool:
    """True if a well-formed MD5 TLV header starts at ``end``."""
    return (
        len(mv) - end >= TRAILER_LENGTH
        and mv[end] == MD5_TAG
        and _U32.unpack_from(mv, end + 1)[0] == MD5_LENGTH
    )


def decode_science_frame(
    buf: bytes | bytearray | memoryview, offset: int = 0, verify: bool = True
) -> tuple[ScienceFrame, int]:
    """Decode the frame starting at ``buf[offset]``; returns ``(frame, bytes consumed)``.

    Every problem raises FrameError with the absolute byte offset in ``buf``. With
    ``verify=False`` a missing/bad MD5 TLV or an MD5 mismatch does not raise; the frame comes back
    with ``md5_ok=False`` (and the consumed count excludes a missing MD5 TLV), so a corrupt
    frame's header can still be inspected.
    """
    mv = memoryview(buf).cast("B")
    end = _container_bounds(mv, offset)
    if _md5_trailer_ok(mv, end):
        digest = hashlib.md5(mv[offset:end]).digest()
        md5_ok = digest == mv[end + TLV_HEADER : end + TRAILER_LENGTH]
        consumed = end + TRAILER_LENGTH - offset
        if verify and not md5_ok:
            raise FrameError("md5 mismatch", end + TLV_HEADER)
    else:
        if verify:
            reason = "truncated md5 tlv" if len(mv) - end < TRAILER_LENGTH else "bad md5 tlv"
            raise FrameError(reason, end)
        md5_ok, consumed = False, end - offset
    return _parse_tlvs(mv, offset, end, md5_ok), consumed


def _parse_tlvs(mv: memoryview, offset: int, end: int, md5_ok: bool) -> ScienceFrame:
    values: dict[str, Any] = {}
    extra: list[tuple[int, bytes]] = []
    order: list[int] = []
    data: bytes | None = None
    data_tag = DATA_TAG_FLOWN
    p = offset + TLV_HEADER
    while p < end:
        if end - p < TLV_HEADER:
            raise FrameError("truncated tlv header", p)
        tag = mv[p]
        length = _U32.unpack_from(mv, p + 1)[0]
        start = p + TLV_HEADER
        if length > end - start:
            raise FrameError(f"tlv {tag} overruns container", p)
        if tag in HEADER_TAGS:
            name, lengths = HEADER_TAGS[tag]
            if length not in lengths:
                raise FrameError(f"tlv {tag} has length {length}, expected {lengths}", p)
            if name in values:
                raise FrameError(f"duplicate tlv {tag}", p)
            raw = mv[start : start + length]
            if tag in _BYTES_FIELDS:
                values[name] = bytes(raw)
            else:
                values[name] = int.from_bytes(raw, "big")
                if tag == TAG_COMPRESSION:
                    values["compression_len"] = length
        elif tag in DATA_TAGS:
            if data is not None:
                raise FrameError(f"duplicate data tlv {tag}", p)
            data, data_tag = bytes(mv[start : start + length]), tag
        else:
            extra.append((tag, bytes(mv[start : start + length])))
        order.append(tag)
        p = start + length
    for tag, (name, _) in HEADER_TAGS.items():
        if name not in values:
            raise FrameError(f"missing tlv {tag} ({name})", offset)
    if data is None:
        raise FrameError("missing data tlv", offset)
    frame = ScienceFrame(**values, data=data, data_tag=data_tag, extra=tuple(extra), md5_ok=md5_ok)
    layout = tuple(order)
    if layout != _canonical_layout(frame):
        object.__setattr__(frame, "layout", layout)
    return frame


def plausible_frame_at(mv: memoryview, offset: int) -> bool:
    """Cheap test (no MD5) that a frame could start at ``offset``: container tag, a length that
    fits the buffer, and a well-formed MD5 TLV header right after the container."""
    try:
        end = _container_bounds(mv, offset)
    except FrameError:
        return False
    return _md5_trailer_ok(mv, end)
