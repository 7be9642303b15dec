"""Reassembly of window data split over several SpW science frames.

Parts of one framelet (same UID, window counter, sequence counter) are placed by their
``offset`` into a buffer of ``total_length`` bytes. Bytes received twice must agree: identical
duplicates are merged (and listed), differing ones make the framelet a ``conflict``. Bytes never
received make it ``incomplete`` with the missing ranges. Only ``complete`` framelets carry data;
nothing is ever patched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cassis_pipe.telemetry.science import ScienceFrame

Key = tuple[int, int, int]  # (uid, window counter, sequence counter)

COMPLETE, INCOMPLETE, CONFLICT = "complete", "incomplete", "conflict"


@dataclass(frozen=True, slots=True)
class Part:
    """Where one part came from: file byte offset of its frame, data offset and length."""

    file_offset: int
    data_offset: int
    length: int

    def as_dict(self) -> dict[str, int]:
        return {"file_offset": self.file_offset, "data_offset": self.data_offset,
                "length": self.length}


@dataclass(slots=True)
class ReassembledFramelet:
    """One reassembled window of one exposure. ``data`` is set only when ``status`` is complete.

    ``missing`` lists [start, end) byte ranges of the window data never received; ``conflicts``
    describes bytes received twice with different values (or inconsistent lengths).
    ``header`` is the first-received part's frame (its ``data`` is that part only).
    """

    uid: int
    window: int
    sequence: int
    status: str
    total_length: int | None
    data: bytes | None
    header: ScienceFrame
    parts: list[Part] = field(default_factory=list)
    duplicates: list[Part] = field(default_factory=list)
    missing: list[tuple[int, int]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> Key:
        return (self.uid, self.window, self.sequence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "window": self.window,
            "sequence": self.sequence,
            "status": self.status,
            "total_length": self.total_length,
            "received_bytes": None if self.data is None else len(self.data),
            "parts": [p.as_dict() for p in self.parts],
            "duplicates": [p.as_dict() for p in self.duplicates],
            "missing": [list(r) for r in self.missing],
            "conflicts": self.conflicts,
        }


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True in a 1-D bool array."""
    if mask.size == 0:
        return []
    d = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends, strict=True)]


def _intersect(cov: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Parts of [lo, hi) inside the sorted disjoint intervals ``cov``."""
    return [(max(a, lo), min(b, hi)) for a, b in cov if a < hi and b > lo]


def _gaps(cov: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """Parts of [lo, hi) outside the sorted disjoint intervals ``cov``."""
    out, pos = [], lo
    for a, b in _intersect(cov, lo, hi):
        if a > pos:
            out.append((pos, a))
        pos = b
    if pos < hi:
        out.append((pos, hi))
    return out


def _add(cov: list[tuple[int, int]], lo: int, hi: int) -> list[tuple[int, int]]:
    """``cov`` with [lo, hi) added, kept sorted, disjoint and merged."""
    merged: list[tuple[int, int]] = []
    for a, b in sorted([*cov, (lo, hi)]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def assemble_one(frames: Sequence[ScienceFrame], file_offsets: Sequence[int]
                 ) -> ReassembledFramelet:
    """Reassemble the parts of one framelet (``frames`` share uid/window/sequence)."""
    first = frames[0]
    conflicts: list[dict[str, Any]] = []
    totals = sorted({f.total_length for f in frames})
    total = max(totals)
    if len(totals) > 1:
        conflicts.append({"kind": "total_length differs between parts",
                          "values": totals, "file_offsets": list(file_offsets)})
    buf = bytearray(total)
    cov: list[tuple[int, int]] = []
    order = sorted(range(len(frames)), key=lambda i: (frames[i].offset, file_offsets[i]))
    parts: list[Part] = []
    dups: list[Part] = []
    seen: set[tuple[int, bytes]] = set()
    for i in order:
        f, fo = frames[i], file_offsets[i]
        part = Part(fo, f.offset, len(f.data))
        if (f.offset, f.data) in seen:
            dups.append(part)
            continue
        seen.add((f.offset, f.data))
        parts.append(part)
        end = f.offset + len(f.data)
        if end > total:
            conflicts.append({"kind": "part runs past total_length", "file_offset": fo,
                              "data_offset": f.offset, "end": end, "total_length": total})
        lo, hi = min(f.offset, total), min(end, total)
        if hi <= lo:
            continue
        bad: list[list[int]] = []
        for a, b in _intersect(cov, lo, hi):
            old, new = buf[a:b], f.data[a - lo : b - lo]
            if old != new:
                diff = np.frombuffer(old, np.uint8) != np.frombuffer(new, np.uint8)
                bad += [[a + x, a + y] for x, y in _runs(diff)]
        if bad:
            conflicts.append({"kind": "overlapping bytes differ", "file_offset": fo,
                              "ranges": bad})
        for a, b in _gaps(cov, lo, hi):
            buf[a:b] = f.data[a - lo : b - lo]
        cov = _add(cov, lo, hi)
    missing = _gaps(cov, 0, total)
    if conflicts:
        status = CONFLICT
    elif missing:
        status = INCOMPLETE
    else:
        status = COMPLETE
    data = bytes(buf) if status == COMPLETE else None
    return ReassembledFramelet(first.uid, first.window, first.sequence, status, total, data, first,
                    parts, dups, missing, conflicts)


def group_frames(
    frames: Sequence[ScienceFrame], offsets: Sequence[int], science_only: bool = True
) -> dict[Key, tuple[list[ScienceFrame], list[int]]]:
    """Frames (and their file offsets) by (uid, window, sequence), in order of first arrival.

    With ``science_only`` frames of a type other than 0 are left out.
    """
    groups: dict[Key, tuple[list[ScienceFrame], list[int]]] = {}
    for f, off in zip(frames, offsets, strict=True):
        if science_only and f.type != 0:
            continue
        g = groups.setdefault((f.uid, f.window, f.sequence), ([], []))
        g[0].append(f)
        g[1].append(off)
    return groups


def reassemble(
    frames: Sequence[ScienceFrame], offsets: Sequence[int], science_only: bool = True
) -> dict[Key, ReassembledFramelet]:
    """Every framelet found in ``frames`` (``offsets`` = file byte offsets), sorted by key."""
    groups = group_frames(frames, offsets, science_only)
    return {k: assemble_one(*groups[k]) for k in sorted(groups)}
