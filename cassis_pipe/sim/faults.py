"""Deterministic downlink faults on the science frame sequence, with a full report.

Faults (counts from :class:`config.FaultConfig`): ``missing_framelet`` (every frame of one
window of one exposure removed), ``dropped`` (one frame removed), ``reordered`` (two adjacent
frames swapped), ``duplicated`` (a frame repeated right after itself), ``bitflipped`` (one bit of
a frame's data area inverted: its MD5 no longer verifies), ``truncated`` (a frame cut short, the
next frame follows at once), ``garbage`` (random bytes inserted between two frames). Each
fault touches a different original frame (random ones, or with ``adjacent`` consecutive ones in
:data:`ADJACENT_ORDER`, so every fault kind sits next to another). The report gives the frame
identities and the byte offsets of the affected spans in the written file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from cassis_pipe.sim.config import FaultConfig
from cassis_pipe.sim.telemetry import FrameId

#: Kinds in the order ``adjacent`` places them on consecutive frames, one of each per round;
#: duplicated and garbage follow their frame, so garbage directly precedes a bit-flipped frame.
ADJACENT_ORDER = ("missing_framelet", "dropped", "reordered", "duplicated", "garbage",
                  "bitflipped", "truncated")


def _key(f: FrameId) -> tuple[int, int, int]:
    return (f.uid, f.sequence, f.window)


def _adjacent_slots(frames: list[FrameId], fc: FaultConfig) -> dict[str, list[int]]:
    """Frame index of each fault per kind, consecutive in ADJACENT_ORDER (round robin).

    A frame is passed over when its framelet already carries a fault (two faults in one
    framelet merge into one finding) or, for ``dropped``, when it is its framelet's only frame
    (that would be a missing framelet)."""
    left = {k: getattr(fc, k) for k in ADJACENT_ORDER}
    slots: dict[str, list[int]] = {k: [] for k in ADJACENT_ORDER}
    sizes: dict[tuple[int, int, int], int] = {}
    for f in frames:
        sizes[_key(f)] = sizes.get(_key(f), 0) + 1
    hit: set[tuple[int, int, int]] = set()
    i = 0
    while any(left.values()):
        for kind in ADJACENT_ORDER:
            if not left[kind]:
                continue
            group = [i, i + 1] if kind == "reordered" else [i]
            while group[-1] < len(frames) and (
                    any(_key(frames[j]) in hit for j in group)
                    or (kind == "dropped" and sizes[_key(frames[i])] == 1)):
                i += 1
                group = [j + 1 for j in group]
            if group[-1] >= len(frames):
                raise ValueError("not enough frames to inject the requested faults")
            hit.update(_key(frames[j]) for j in group)
            slots[kind].append(i)
            left[kind] -= 1
            i = group[-1] + 1
    return slots


@dataclass
class Segment:
    """One piece of the output file: a frame (possibly damaged) or garbage."""

    data: bytes
    frame: FrameId | None
    note: str = "ok"


def apply_faults(frames: list[tuple[FrameId, bytes]], fc: FaultConfig, seed: int
                 ) -> tuple[bytes, list[dict], list[dict]]:
    """(file bytes, fault records, frame index) for the frame list with faults applied.

    The frame index lists every segment written: kind, byte offset, length and frame identity.
    """
    rng = np.random.Generator(np.random.PCG64([seed, 404]))
    segs = [Segment(b, fid) for fid, b in frames]
    faults: list[dict] = []
    used: set[int] = set()

    slots = _adjacent_slots([f for f, _ in frames], fc) if fc.adjacent else {}

    def pick(cands: list[int], kind: str) -> int:
        if fc.adjacent:
            i = slots[kind].pop(0)
            used.add(i)
            return i
        free = [i for i in cands if i not in used]
        if not free:
            raise ValueError("not enough frames to inject the requested faults")
        i = int(free[int(rng.integers(len(free)))])
        used.add(i)
        return i

    all_idx = list(range(len(segs)))
    # missing framelet: all frames of one (uid, sequence, window)
    for _ in range(fc.missing_framelet):
        i = pick(all_idx, "missing_framelet")
        f = segs[i].frame
        group = [j for j, s in enumerate(segs) if s.frame is not None and (
            s.frame.uid, s.frame.sequence, s.frame.window) == (f.uid, f.sequence, f.window)]
        used.update(group)
        for j in group:
            segs[j].note = "removed"
        faults.append({"kind": "missing_framelet", "uid": f.uid, "sequence": f.sequence,
                       "window": f.window, "frames": len(group)})
    for _ in range(fc.dropped):
        i = pick(all_idx, "dropped")
        segs[i].note = "removed"
        faults.append({"kind": "dropped", **asdict(segs[i].frame)})
    for _ in range(fc.reordered):
        i = pick([j for j in all_idx[:-1] if j + 1 not in used], "reordered")
        used.add(i + 1)
        segs[i], segs[i + 1] = segs[i + 1], segs[i]
        segs[i].note = segs[i + 1].note = "swapped"
        faults.append({"kind": "reordered", "first": asdict(segs[i + 1].frame),
                       "second": asdict(segs[i].frame)})
    for _ in range(fc.bitflipped):
        i = pick(all_idx, "bitflipped")
        b = bytearray(segs[i].data)
        pos = int(rng.integers(len(b) - 300, len(b) - 21)) if len(b) > 330 else len(b) // 2
        bit = int(rng.integers(8))
        b[pos] ^= 1 << bit
        segs[i].data, segs[i].note = bytes(b), f"bitflip:{pos}:{bit}"
    for _ in range(fc.truncated):
        i = pick(all_idx, "truncated")
        keep = int(rng.integers(8, max(9, len(segs[i].data) - 1)))
        segs[i].data, segs[i].note = segs[i].data[:keep], f"truncated:{keep}"
    dup_after = [pick(all_idx, "duplicated") for _ in range(fc.duplicated)]
    garbage_after = [pick(all_idx, "garbage") for _ in range(fc.garbage)]
    out: list[Segment] = []
    for i, s in enumerate(segs):
        if s.note == "removed":
            continue
        out.append(s)
        if i in dup_after:
            out.append(Segment(s.data, s.frame, "duplicate"))
        if i in garbage_after:
            n = int(rng.integers(20, 400))
            junk = rng.integers(0, 256, n, dtype=np.uint8)
            junk[junk == 0xFA] = 0x5A       # no container tag inside the junk
            out.append(Segment(junk.tobytes(), None, "garbage"))
    index: list[dict] = []
    off = 0
    for s in out:
        rec = {"offset": off, "length": len(s.data), "kind": s.note.split(":")[0]}
        if s.frame is not None:
            rec.update({"uid": s.frame.uid, "sequence": s.frame.sequence,
                        "window": s.frame.window, "data_offset": s.frame.offset})
        if s.note.startswith("bitflip"):
            _, pos, bit = s.note.split(":")
            faults.append({"kind": "bitflipped", "byte_offset": off + int(pos), "bit": int(bit),
                           "frame_offset": off, **asdict(s.frame)})
        elif s.note.startswith("truncated"):
            faults.append({"kind": "truncated", "frame_offset": off, "kept_bytes": len(s.data),
                           **asdict(s.frame)})
        elif s.note == "duplicate":
            faults.append({"kind": "duplicated", "frame_offset": off, **asdict(s.frame)})
        elif s.note == "garbage":
            faults.append({"kind": "garbage", "byte_offset": off, "length": len(s.data)})
        elif s.note == "swapped":
            rec["kind"] = "reordered"
        index.append(rec)
        off += len(s.data)
    return b"".join(s.data for s in out), faults, index
