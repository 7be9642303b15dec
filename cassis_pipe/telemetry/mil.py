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

from cassis_pipe.telemetry.crc import crc16
from cassis_pipe.telemetry.errors import FrameError, Reject, StreamResult

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
    sync: int,
    decode: Callable[[bytes, int], T],
) -> StreamResult:
    """Resynchronising reader for concatenated 64-byte MIL frames.

    Scans for ``sync``; at every sync byte with 64 bytes available it calls ``decode(buf, pos)``,
    which must return a frame object or raise FrameError. A valid frame consumes 64 bytes; a
    failed candidate makes the scan resume at the next byte. Bytes that are not in a valid frame
    are gathered into reject spans that end where the next valid frame (or a truncated tail)
    begins; a span's reason is that of its first byte ("garbage" for a non-sync byte, else the
    decoder's reason, e.g. "bad CRC", "unknown cid"). A sync byte with fewer than 64 bytes left
    starts a final "truncated frame" span. Every input byte ends up in exactly one valid frame or
    one reject span; only FrameError is caught, and the decoders raise nothing else.
    """
    buf = bytes(data)
    n = len(buf)
    sync_byte = bytes((sync,))
    frames: list = []
    offsets: list[int] = []
    rejects: list[Reject] = []
    pend_start = -1
    pend_reason = ""
    pos = 0
    while pos < n:
        if buf[pos] != sync:
            nxt = buf.find(sync_byte, pos)
            if nxt < 0:
                nxt = n
            if pend_start < 0:
                pend_start, pend_reason = pos, REASON_GARBAGE
            pos = nxt
            continue
        if n - pos < FRAME_LEN:
            if pend_start >= 0:
                rejects.append(Reject(pend_start, pos - pend_start, pend_reason))
                pend_start = -1
            rejects.append(Reject(pos, n - pos, REASON_TRUNCATED))
            pos = n
            break
        try:
            frame = decode(buf, pos)
        except FrameError as err:
            if pend_start < 0:
                pend_start, pend_reason = pos, err.reason
            pos += 1
            continue
        if pend_start >= 0:
            rejects.append(Reject(pend_start, pos - pend_start, pend_reason))
            pend_start = -1
        frames.append(frame)
        offsets.append(pos)
        pos += FRAME_LEN
    if pend_start >= 0:
        rejects.append(Reject(pend_start, n - pend_start, pend_reason))
    return StreamResult(frames=frames, offsets=offsets, rejects=rejects)


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
