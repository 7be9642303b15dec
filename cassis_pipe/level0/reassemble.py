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
class Framelet:
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


def assemble_one(frames: Sequence[ScienceFrame], file_offsets: Sequence[int]) -> Framelet:
    """Reassemble the parts of one framelet (``frames`` share uid/window/sequence)."""
    first = frames[0]
    conflicts: list[dict[str, Any]] = []
    totals = sorted({f.total_length for f in frames})
    total = max(totals)
    if len(totals) > 1:
        conflicts.append({"kind": "total_length differs between parts",
                          "values": totals, "file_offsets": list(file_offsets)})
    buf = np.zeros(total, dtype=np.uint8)
    have = np.zeros(total, dtype=bool)
    order = sorted(range(len(frames)), key=lambda i: (frames[i].offset, file_offsets[i]))
    parts: list[Part] = []
    dups: list[Part] = []
    seen: dict[tuple[int, bytes], int] = {}
    for i in order:
        f, fo = frames[i], file_offsets[i]
        part = Part(fo, f.offset, len(f.data))
        sig = (f.offset, f.data)
        if sig in seen:
            dups.append(part)
            continue
        seen[sig] = fo
        parts.append(part)
        end = f.offset + len(f.data)
        if end > total:
            conflicts.append({"kind": "part runs past total_length", "file_offset": fo,
                              "data_offset": f.offset, "end": end, "total_length": total})
        lo, hi = min(f.offset, total), min(end, total)
        if hi <= lo:
            continue
        new = np.frombuffer(f.data, dtype=np.uint8)[: hi - lo]
        old_have = have[lo:hi]
        differs = old_have & (buf[lo:hi] != new)
        if differs.any():
            bad = _runs(differs)
            conflicts.append({"kind": "overlapping bytes differ", "file_offset": fo,
                              "ranges": [[lo + a, lo + b] for a, b in bad]})
        fill = ~old_have
        buf[lo:hi][fill] = new[fill]
        have[lo:hi] = True
    missing = _runs(~have)
    if conflicts:
        status = CONFLICT
    elif missing:
        status = INCOMPLETE
    else:
        status = COMPLETE
    data = buf.tobytes() if status == COMPLETE else None
    return Framelet(first.uid, first.window, first.sequence, status, total, data, first,
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
) -> dict[Key, Framelet]:
    """Every framelet found in ``frames`` (``offsets`` = file byte offsets), sorted by key."""
    groups = group_frames(frames, offsets, science_only)
    return {k: assemble_one(*groups[k]) for k in sorted(groups)}
