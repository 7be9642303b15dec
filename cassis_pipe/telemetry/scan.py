"""Linear-time candidate scans for the stream readers (numba kernels, no Python objects).

The stream readers only call the Python decoders where a frame can actually start; these kernels
find those places in one forward pass over the file bytes (a ``uint8`` view, no copy):

* :func:`next_science_candidate` — the next 0xfa container whose announced length fits the
  buffer and is followed by a well-formed MD5 TLV header (what ``plausible_frame_at`` checks);
* :func:`next_mil_stop` — the next position where a 64-byte MIL frame decodes (sync byte, known
  type/command byte, fixed header bytes, CRC-16) or where a sync byte has fewer than 64 bytes
  left. The fixed bytes and CRC position of each type byte come from :class:`MilTable`.

Each kernel also returns how many byte positions it examined, so tests can count the readers'
work instead of timing them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numba as nb
import numpy as np

from cassis_pipe.telemetry.crc import _TABLE as _CRC_TABLE
from cassis_pipe.telemetry.science import (
    CONTAINER_TAG,
    DATA_TAGS,
    HEADER_TAGS,
    MD5_LENGTH,
    MD5_TAG,
    MIN_CONTAINER_LENGTH,
    TLV_HEADER,
    TRAILER_LENGTH,
)

MIL_FRAME = 64  # bytes in a MIL frame (mil.FRAME_LEN; not imported to avoid a cycle)
MIL_NONE, MIL_VALID, MIL_TRUNCATED = 0, 1, 2  # kinds of stop returned by next_mil_stop


@dataclass(slots=True)
class ReadWork:
    """Work a stream reader did, counted (not timed): positions scanned by the kernels, candidates
    handed to the Python decoder, bytes hashed by MD5 (science) and candidates skipped because
    their start lay inside ``MAX_FAILED_DEPTH`` failed containers (science)."""

    scanned: int = 0
    decoded: int = 0
    hashed_bytes: int = 0
    skipped: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"scanned": self.scanned, "decoded": self.decoded,
                "hashed_bytes": self.hashed_bytes, "skipped": self.skipped}


@nb.njit(cache=True, nogil=True, inline="always")
def _u32(buf: np.ndarray, p: int) -> int:
    return (int(buf[p]) << 24) | (int(buf[p + 1]) << 16) | (int(buf[p + 2]) << 8) | int(buf[p + 3])


def _header_arrays() -> tuple[np.ndarray, np.ndarray]:
    bit = np.full(256, -1, dtype=np.int64)
    allowed = np.zeros((256, 2), dtype=np.int64)
    for k, (tag, (_, lengths)) in enumerate(HEADER_TAGS.items()):
        bit[tag] = k
        allowed[tag, :] = lengths[0]
        allowed[tag, 1] = lengths[-1]
    for tag in DATA_TAGS:
        bit[tag] = len(HEADER_TAGS)
    return bit, allowed


_HEADER_BIT, _HEADER_LENGTHS = _header_arrays()
FLAG_PLAUSIBLE, FLAG_HEADER = 1, 2  # candidate kinds returned by next_science_candidate


_DATA_BIT = len(HEADER_TAGS)  # bit index _header_arrays gives the data tags
#: header bits of uid, window, sequence and offset: enough to name the framelet a frame hit
_IDENT = sum(1 << k for k, tag in enumerate(HEADER_TAGS)
             if HEADER_TAGS[tag][0] in ("uid", "window", "sequence", "offset"))


@nb.njit(cache=True, nogil=True)
def _science_scan(buf: np.ndarray, start: int, stop: int, want: int, bit: np.ndarray,
                  allowed: np.ndarray) -> tuple[int, int, int]:
    # The header walk is written out here: as a separate (even inlined) njit function it cost
    # ~100 ns per 0xfa byte, 10x the rest of the scan.
    n = buf.shape[0]
    p = max(start, 0)
    while p + TLV_HEADER < n and p < stop:
        if buf[p] == CONTAINER_TAG:
            flags = 0
            length = _u32(buf, p + 1)
            end = p + TLV_HEADER + length
            if (length >= MIN_CONTAINER_LENGTH and end + TRAILER_LENGTH <= n
                    and buf[end] == MD5_TAG and _u32(buf, end + 1) == MD5_LENGTH):
                flags = FLAG_PLAUSIBLE
            # header walk (peek_header's rule): uid, window, sequence and offset read, each
            # header tag at most once with an allowed length, stopping at anything else
            seen = 0
            q = p + TLV_HEADER
            for _ in range(_DATA_BIT):
                if q + TLV_HEADER > n:
                    break
                tag = buf[q]
                k = bit[tag]
                if k < 0 or k == _DATA_BIT or (seen >> k) & 1:
                    break
                tlen = _u32(buf, q + 1)
                if (tlen != allowed[tag, 0] and tlen != allowed[tag, 1]) \
                        or q + TLV_HEADER + tlen > n:
                    break
                seen |= 1 << k
                q += TLV_HEADER + tlen
            if (seen & _IDENT) == _IDENT:
                flags |= FLAG_HEADER
            if flags & want:
                return p, flags, p - start + 1
        p += 1
    return -1, 0, max(min(n, stop) - start, 0)


def next_science_candidate(buf: np.ndarray, start: int, stop: int = -1,
                           want: int = FLAG_PLAUSIBLE | FLAG_HEADER) -> tuple[int, int, int]:
    """``(offset, flags, positions examined)`` of the first 0xfa in ``buf[start:stop]`` (uint8
    array; ``stop`` -1: the end) where a frame is plausible (FLAG_PLAUSIBLE: length fits, MD5 TLV
    header after the container) and/or whose header TLVs name a framelet (FLAG_HEADER), counting
    only the kinds in ``want``; offset -1 if none."""
    stop = buf.shape[0] if stop < 0 else stop
    pos, flags, examined = _science_scan(buf, start, stop, want, _HEADER_BIT, _HEADER_LENGTHS)
    return int(pos), int(flags), int(examined)


@dataclass(frozen=True)
class MilTable:
    """What makes a 64-byte MIL frame decodable, per value of its type byte.

    ``type_at`` is the frame offset of the type (HK) or command id (TC) byte; ``crc_at[t]`` the
    CRC offset for type ``t`` (0: unknown type); ``fixed[t]`` the (frame offset, byte value)
    pairs that must match (TC length bytes and parameter prefixes).
    """

    sync: int
    type_at: int
    crc_at: dict[int, int]
    fixed: dict[int, tuple[tuple[int, int], ...]] = field(default_factory=dict)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Kernel form: crc offset per type (256,), fixed offsets and values (256, m) (-1 pad)."""
        m = max((len(v) for v in self.fixed.values()), default=0) or 1
        crc = np.zeros(256, dtype=np.int64)
        off = np.full((256, m), -1, dtype=np.int64)
        val = np.zeros((256, m), dtype=np.int64)
        for t, c in self.crc_at.items():
            crc[t] = c
            for j, (o, v) in enumerate(self.fixed.get(t, ())):
                off[t, j], val[t, j] = o, v
        return crc, off, val


@nb.njit(cache=True, nogil=True)
def _mil_scan(buf: np.ndarray, start: int, sync: int, type_at: int, crc_at: np.ndarray,
              fix_off: np.ndarray, fix_val: np.ndarray, table: np.ndarray
              ) -> tuple[int, int, int]:
    n = buf.shape[0]
    p = max(start, 0)
    while p < n:
        if buf[p] == sync:
            if n - p < MIL_FRAME:
                return p, MIL_TRUNCATED, p - start + 1
            t = buf[p + type_at]
            c = crc_at[t]
            ok = c > 0
            j = 0
            while ok and j < fix_off.shape[1] and fix_off[t, j] >= 0:
                ok = buf[p + fix_off[t, j]] == fix_val[t, j]
                j += 1
            if ok:
                crc = 0xFFFF
                for i in range(p, p + c):
                    crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ buf[i]) & 0xFF]
                if crc == (int(buf[p + c]) << 8) | int(buf[p + c + 1]):
                    return p, MIL_VALID, p - start + 1
        p += 1
    return -1, MIL_NONE, max(n - start, 0)


def next_mil_stop(buf: np.ndarray, start: int, spec: MilTable,
                  arrays: tuple[np.ndarray, np.ndarray, np.ndarray]) -> tuple[int, int, int]:
    """``(offset, kind, positions examined)``: the first decodable frame (kind MIL_VALID) or
    truncated sync byte (MIL_TRUNCATED) at or after ``start``; ``(-1, MIL_NONE, ...)`` if none."""
    crc, off, val = arrays
    pos, kind, examined = _mil_scan(buf, start, spec.sync, spec.type_at, crc, off, val,
                                    _CRC_TABLE)
    return int(pos), int(kind), int(examined)
