"""Shared 64-byte MIL-bus framing: CRC placement and a resynchronising stream reader.

Both MIL telecommand frames (sync byte 0xf0) and MIL housekeeping frames (sync byte 0xf5) are
exactly 64 bytes long, start with their sync byte and carry a big-endian CRC-16/CCITT-FALSE of
every byte before the CRC position. The frame-specific checks (length/type byte, parameter
prefixes, field layout) live in ``tc.py`` and ``hk.py``; this module only knows how to find
64-byte candidates in a byte string and how to account for every byte that is not in a valid frame.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np

from cassis_pipe.telemetry.crc import crc16
from cassis_pipe.telemetry.errors import FrameError, Reject, StreamResult
from cassis_pipe.telemetry.scan import MIL_TRUNCATED, MIL_VALID, MilTable, ReadWork, next_mil_stop

FRAME_LEN = 64  # bytes in every MIL TC and HK frame
TC_SYNC = 0xF0  # command container tag = first byte of a TC frame
HK_SYNC = 0xF5  # telemetry container tag = first byte of an HK frame

REASON_GARBAGE = "garbage"
REASON_TRUNCATED = "truncated frame"

T = TypeVar("T")


def frame_slice(buf: bytes | bytearray | memoryview, offset: int, sync: int) -> bytes:
    """Return the 64 bytes at ``offset`` after checking the sync byte and that they are all there.

    Raises FrameError("bad sync") / FrameError("truncated frame") with the byte offset.
    """
    if offset < 0 or offset >= len(buf):
        raise FrameError(REASON_TRUNCATED, offset)
    if buf[offset] != sync:
        raise FrameError("bad sync", offset)
    if len(buf) - offset < FRAME_LEN:
        raise FrameError(REASON_TRUNCATED, offset)
    return bytes(buf[offset : offset + FRAME_LEN])


def check_crc(frame: bytes, crc_offset: int, offset: int = 0) -> None:
    """Raise FrameError("bad CRC", offset + crc_offset) unless the stored CRC matches."""
    stored = (frame[crc_offset] << 8) | frame[crc_offset + 1]
    if crc16(frame[:crc_offset]) != stored:
        raise FrameError("bad CRC", offset + crc_offset)


def put_crc(frame: bytearray, crc_offset: int) -> None:
    """Write the CRC of ``frame[:crc_offset]`` big-endian at ``crc_offset`` (in place)."""
    crc = crc16(bytes(frame[:crc_offset]))
    frame[crc_offset] = crc >> 8
    frame[crc_offset + 1] = crc & 0xFF


def read_mil_stream(
    data: bytes | bytearray | memoryview,
    spec: MilTable,
    decode: Callable[[bytes, int], T],
    work: ReadWork | None = None,
) -> StreamResult:
    """Resynchronising reader for concatenated 64-byte MIL frames, linear in the input length.

    A frame is taken at the first position (scanning forward) where ``decode(buf, pos)`` succeeds;
    such positions are found by the :func:`~cassis_pipe.telemetry.scan.next_mil_stop` kernel from
    ``spec`` (sync byte, type byte, fixed bytes, CRC), so the Python decoder only runs on frames it
    will accept plus once per reject span (for the span's reason). A valid frame consumes 64
    bytes. Bytes that are not in a valid frame are gathered into reject spans that end where the
    next valid frame (or a truncated tail) begins; a span's reason is that of its first byte
    ("garbage" for a non-sync byte, else the decoder's reason, e.g. "bad CRC", "unknown cid"). A
    sync byte with fewer than 64 bytes left starts a final "truncated frame" span. Every input
    byte ends up in exactly one valid frame or one reject span; only FrameError is caught, and
    the decoders raise nothing else. ``work`` (optional) receives the counted work.
    """
    buf = bytes(data)
    arr = np.frombuffer(buf, dtype=np.uint8)
    tables = spec.arrays()
    work = work if work is not None else ReadWork()
    n = len(buf)
    frames: list = []
    offsets: list[int] = []
    rejects: list[Reject] = []
    pos = 0
    while pos < n:
        stop, kind, examined = next_mil_stop(arr, pos, spec, tables)
        work.scanned += examined
        if stop < 0:
            stop = n
        if stop > pos:
            rejects.append(Reject(pos, stop - pos, _reason_at(buf, pos, spec.sync, decode, work)))
        if kind == MIL_TRUNCATED:
            rejects.append(Reject(stop, n - stop, REASON_TRUNCATED))
            break
        if kind != MIL_VALID:
            break
        work.decoded += 1
        try:
            frame = decode(buf, stop)
        except FrameError:  # kernel and decoder disagree (a bug): keep the byte, scan on
            rejects.append(Reject(stop, 1, "internal error: scan/decoder mismatch"))
            pos = stop + 1
            continue
        frames.append(frame)
        offsets.append(stop)
        pos = stop + FRAME_LEN
    return StreamResult(frames=frames, offsets=offsets, rejects=_merge(rejects), work=work)


def _reason_at(buf: bytes, pos: int, sync: int, decode: Callable[[bytes, int], T],
               work: ReadWork) -> str:
    """Why no frame starts at ``pos``: "garbage" for a non-sync byte, else the decoder's reason."""
    if buf[pos] != sync:
        return REASON_GARBAGE
    work.decoded += 1
    try:
        decode(buf, pos)
    except FrameError as err:
        return err.reason
    return "internal error: scan/decoder mismatch"


def _merge(rejects: list[Reject]) -> list[Reject]:
    """Join touching reject spans (only produced after a scan/decoder mismatch), first reason."""
    out: list[Reject] = []
    for r in rejects:
        if out and out[-1].offset + out[-1].length == r.offset and r.reason != REASON_TRUNCATED:
            last = out.pop()
            r = Reject(last.offset, last.length + r.length, last.reason)
        out.append(r)
    return out


def coverage_ok(result: StreamResult, total: int) -> bool:
    """True if frames (64 bytes each) and reject spans tile ``[0, total)`` exactly once."""
    spans = [(o, FRAME_LEN) for o in result.offsets]
    spans += [(r.offset, r.length) for r in result.rejects]
    spans.sort()
    pos = 0
    for start, length in spans:
        if start != pos or length <= 0:
            return False
        pos = start + length
    return pos == total
