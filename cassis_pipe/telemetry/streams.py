"""Stream readers: split a downlink file into valid frames and reject spans.

Contract (see ``StreamResult``): every input byte lies in exactly one valid frame or one reject
span, and a reader never raises on bad input.
"""

from __future__ import annotations

from cassis_pipe.telemetry.errors import FrameError, Reject, StreamResult
from cassis_pipe.telemetry.science import (
    CONTAINER_TAG,
    decode_science_frame,
    plausible_frame_at,
)

STREAM_KINDS = ("science", "tc", "hk")
_SYNC = bytes((CONTAINER_TAG,))


def _next_valid_frame(
    data: bytes | bytearray, mv: memoryview, start: int
) -> tuple[int, object, int] | None:
    """First ``(offset, frame, consumed)`` at or after ``start`` whose MD5 verifies, or None.

    Candidates are the 0xfa bytes (found with ``find``); a cheap structural check rejects almost
    all of them before the MD5 is computed.
    """
    find = data.find
    pos = start
    while True:
        pos = find(_SYNC, pos)
        if pos < 0:
            return None
        if plausible_frame_at(mv, pos):
            try:
                frame, consumed = decode_science_frame(mv, pos)
            except Exception:  # FrameError, or a decoder bug: never escape
                pass
            else:
                return pos, frame, consumed
        pos += 1


def read_science_stream(data: bytes | bytearray | memoryview) -> StreamResult:
    """Valid science frames of a downlink file of concatenated frames, and reject spans.

    At each position a frame is decoded (MD5 verified). On failure the reader resynchronises on
    the next 0xfa container whose MD5 verifies; the skipped bytes become one Reject carrying the
    reason of the failure at the span start (a span with no possible frame start is "garbage").
    """
    if isinstance(data, memoryview):
        data = data.tobytes()
    mv = memoryview(data)
    n = len(mv)
    frames: list = []
    offsets: list[int] = []
    rejects: list[Reject] = []
    pos = 0
    while pos < n:
        try:
            frame, consumed = decode_science_frame(mv, pos)
        except FrameError as exc:
            reason = exc.reason
        except Exception as exc:  # a decoder bug must not escape: the contract is "never raises"
            reason = f"internal error: {type(exc).__name__}"
        else:
            frames.append(frame)
            offsets.append(pos)
            pos += consumed
            continue
        if mv[pos] != CONTAINER_TAG:
            reason = "garbage"
        found = _next_valid_frame(data, mv, pos + 1)
        stop = n if found is None else found[0]
        rejects.append(Reject(pos, stop - pos, reason))
        if found is None:
            break
        pos, frame, consumed = found
        frames.append(frame)
        offsets.append(pos)
        pos += consumed
    return StreamResult(frames=frames, offsets=offsets, rejects=rejects)


def read_stream(kind: str, data: bytes | bytearray | memoryview) -> StreamResult:
    """Dispatch to the reader for ``kind`` ('science', 'tc' or 'hk'); ValueError otherwise."""
    if kind == "science":
        return read_science_stream(data)
    if kind == "tc":
        from cassis_pipe.telemetry.tc import read_tc_stream

        return read_tc_stream(data)
    if kind == "hk":
        from cassis_pipe.telemetry.hk import read_hk_stream

        return read_hk_stream(data)
    raise ValueError(f"unknown stream kind {kind!r}; expected one of {STREAM_KINDS}")
