"""Stream readers: split a downlink file into valid frames and reject spans.

Contract (see ``StreamResult``): every input byte lies in exactly one valid frame or one reject
span, and a reader never raises on bad input.
"""

from __future__ import annotations

import numpy as np

from cassis_pipe.telemetry.errors import FrameError, Reject, StreamResult
from cassis_pipe.telemetry.scan import FLAG_HEADER, ReadWork, next_science_candidate
from cassis_pipe.telemetry.science import (
    CONTAINER_TAG,
    TLV_HEADER,
    TRAILER_LENGTH,
    ScienceFrame,
    decode_science_frame,
    plausible_frame_at,
)

STREAM_KINDS = ("science", "tc", "hk")
#: A candidate frame start lying inside this many containers that were hashed and failed is
#: skipped (its bytes stay in the reject span): each byte is hashed for failed candidates at most
#: this often, which keeps the reader linear. 2 lets a valid frame hidden in the data of one
#: corrupt frame be recovered, and stops nested or overlapping near-miss containers.
MAX_FAILED_DEPTH = 2
#: Bytes hashed a second time (candidates inside one failed container) may total at most this
#: fraction of the file plus REHASH_FLOOR bytes; past it the depth limit drops to 1, so the worst
#: large input costs 1.25 MD5 passes over the file instead of 2.
REHASH_FRACTION = 0.25
REHASH_FLOOR = 1 << 20
SKIPPED_REASON = "not checked: inside a failed container"


class _FailedSpans:
    """Ends of containers that were MD5-hashed without giving a frame, still ahead of the scan,
    and the re-hash budget."""

    def __init__(self, budget: int) -> None:
        self.ends: list[int] = []
        self.limit = MAX_FAILED_DEPTH
        self.budget = budget

    def add(self, end: int) -> None:
        self.ends.append(end)

    def resume_at(self, pos: int) -> int:
        """``pos``, or the first byte past the spans if ``pos`` lies inside too many of them."""
        self.ends = sorted((e for e in self.ends if e > pos), reverse=True)
        if len(self.ends) < self.limit:
            return pos
        pos = self.ends[self.limit - 1]
        self.ends = self.ends[: self.limit - 1]
        return pos

    def admit(self, pos: int, end: int) -> bool:
        """May the container ``[pos, end)`` be hashed? False (and depth limit 1 from now on) if
        it lies inside a failed container and the re-hash budget cannot pay for it."""
        if not any(e > pos for e in self.ends):
            return True
        if end - pos <= self.budget:
            self.budget -= end - pos
            return True
        self.limit = 1
        return False


def _decode_at(mv: memoryview, pos: int, work: ReadWork, failed: _FailedSpans
               ) -> tuple[ScienceFrame | None, int, str]:
    """``(frame, consumed, "")`` for a valid frame at ``pos``, else ``(None, 0, reason)``.

    A plausible candidate costs an MD5 over its container (counted in ``work.hashed_bytes``); if
    it then gives no frame its span is remembered in ``failed``. One the re-hash budget cannot
    pay for is not decoded (reason SKIPPED_REASON, counted in ``work.skipped``).
    """
    hashed = plausible_frame_at(mv, pos)
    end = pos + TLV_HEADER + int.from_bytes(mv[pos + 1 : pos + TLV_HEADER], "big") if hashed else 0
    if hashed and not failed.admit(pos, end):
        work.skipped += 1
        return None, 0, SKIPPED_REASON
    work.decoded += 1
    try:
        frame, consumed = decode_science_frame(mv, pos)
    except FrameError as exc:
        reason = exc.reason
    except Exception as exc:  # a decoder bug must not escape: the contract is "never raises"
        reason = f"internal error: {type(exc).__name__}"
    else:
        work.hashed_bytes += consumed - TRAILER_LENGTH
        return frame, consumed, ""
    if hashed:
        work.hashed_bytes += end - pos
        failed.add(end)
    return None, 0, reason


def read_science_stream(data: bytes | bytearray | memoryview) -> StreamResult:
    """Valid science frames of a downlink file of concatenated frames, and reject spans.

    At each position a frame is decoded (MD5 verified). On failure the reader resynchronises on
    the next 0xfa container whose MD5 verifies; the skipped bytes become Rejects carrying the
    reason of the failure at their start ("garbage" where no frame can start). A skipped position
    whose frame header is readable (a bit-flipped or cut frame) starts a new Reject, so each
    corrupt frame has its own span even right after garbage or another corrupt frame.
    Candidates are found by a numba scan (:func:`~cassis_pipe.telemetry.scan.
    next_science_candidate`); one starting inside ``MAX_FAILED_DEPTH`` failed containers (1 once
    ``REHASH_FRACTION`` of the file has been hashed twice) is skipped, so the work is linear in
    the input: at most 1.25 MD5 passes for failed candidates (counted in ``StreamResult.work``).
    """
    buf = data if isinstance(data, bytes) else bytes(data)
    arr = np.frombuffer(buf, dtype=np.uint8)
    mv = memoryview(buf)
    n = len(buf)
    work = ReadWork()
    failed = _FailedSpans(int(REHASH_FRACTION * n) + REHASH_FLOOR)
    frames: list = []
    offsets: list[int] = []
    rejects: list[Reject] = []
    pos = 0
    while pos < n:
        frame, consumed, reason = _decode_at(mv, pos, work, failed)
        if frame is None:
            if buf[pos] != CONTAINER_TAG:
                reason = "garbage"
            start, cand = pos, pos + 1
            while frame is None:
                resume = failed.resume_at(cand)
                work.skipped += resume > cand
                cand, flags, examined = next_science_candidate(arr, resume)
                work.scanned += examined
                if cand < 0:
                    break
                frame, consumed, why = _decode_at(mv, cand, work, failed)
                if frame is None:
                    if flags & FLAG_HEADER:  # a corrupt frame: its own reject span
                        rejects.append(Reject(start, cand - start, reason))
                        start, reason = cand, why
                    cand += 1
            pos = n if cand < 0 else cand
            rejects.append(Reject(start, pos - start, reason))
            if frame is None:
                break
        frames.append(frame)
        offsets.append(pos)
        pos += consumed
    return StreamResult(frames=frames, offsets=offsets, rejects=rejects, work=work)


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
