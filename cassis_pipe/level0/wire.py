"""Byte positions inside SpW science frames: where each header TLV value sits, and a tolerant
look at the header of a frame that failed to decode (to say which framelet a reject hit)."""

from __future__ import annotations

import struct
from typing import Any

from cassis_pipe.telemetry.science import (
    CONTAINER_TAG,
    DATA_TAGS,
    HEADER_TAGS,
    TAG_COMPRESSION,
    TLV_HEADER,
    ScienceFrame,
)

_U32 = struct.Struct(">I")
_IDENT_FIELDS = ("uid", "window", "sequence", "offset")
_PEEK_FIELDS = (*_IDENT_FIELDS, "total_length", "type", "compression", "data_length")


def field_offsets(frame: ScienceFrame) -> dict[str, tuple[int, int]]:
    """Header field name -> (value offset from the frame's first byte, value length in bytes).

    Also gives ``data``. Uses the frame's wire order (``layout``, else the canonical order).
    """
    layout = frame.layout
    if layout is None:
        layout = (*HEADER_TAGS, *(t for t, _ in frame.extra), frame.data_tag)
    extras = iter(frame.extra)
    out: dict[str, tuple[int, int]] = {}
    pos = TLV_HEADER  # first TLV follows the container tag and length
    for tag in layout:
        if tag in HEADER_TAGS:
            name, lengths = HEADER_TAGS[tag]
            length = frame.compression_len if tag == TAG_COMPRESSION else lengths[0]
            out[name] = (pos + TLV_HEADER, length)
        elif tag == frame.data_tag:
            length = len(frame.data)
            out["data"] = (pos + TLV_HEADER, length)
        else:
            length = len(next(extras)[1])
        pos += TLV_HEADER + length
    return out


def field_offset(frame: ScienceFrame, name: str) -> int:
    """Offset of header field ``name``'s value from the frame's first byte."""
    return field_offsets(frame)[name][0]


def peek_header(buf: bytes | bytearray | memoryview, offset: int) -> dict[str, Any] | None:
    """Header fields of a (possibly corrupt or truncated) frame starting at ``buf[offset]``.

    Walks the TLVs after the container tag/length until the data TLV, requiring every header
    tag exactly once with its proper length; returns None if that fails. No MD5 or container
    length check, so it works on bit-flipped and cut frames as long as the header is intact.
    Returns uid, window, sequence, offset, total_length, type, compression, and
    ``data_length`` (as announced by the data TLV). A header cut short after at least uid,
    window, sequence and offset gives those (others None) with ``partial`` True.
    """
    mv = memoryview(buf).cast("B")
    n = len(mv)
    if offset < 0 or n - offset < TLV_HEADER or mv[offset] != CONTAINER_TAG:
        return None
    pos = offset + TLV_HEADER
    vals: dict[str, Any] = {}
    while pos + TLV_HEADER <= n:
        tag = mv[pos]
        length = _U32.unpack_from(mv, pos + 1)[0]
        if tag in DATA_TAGS:
            if len(vals) == len(HEADER_TAGS):
                vals["data_length"] = length
                return {k: vals[k] for k in _PEEK_FIELDS}
            break
        if tag not in HEADER_TAGS:
            break
        name, lengths = HEADER_TAGS[tag]
        if length not in lengths or name in vals or pos + TLV_HEADER + length > n:
            break
        raw = mv[pos + TLV_HEADER : pos + TLV_HEADER + length]
        vals[name] = int.from_bytes(raw, "big")
        pos += TLV_HEADER + length
    if all(k in vals for k in _IDENT_FIELDS):
        return {**{k: vals.get(k) for k in _PEEK_FIELDS}, "partial": True}
    return None


def container_end(buf: bytes | bytearray | memoryview, offset: int) -> int:
    """Offset just past the container announced at ``offset`` (may lie beyond the buffer)."""
    mv = memoryview(buf).cast("B")
    if len(mv) - offset < TLV_HEADER:
        return len(mv)
    return offset + TLV_HEADER + _U32.unpack_from(mv, offset + 1)[0]
