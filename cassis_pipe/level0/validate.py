"""Packet validation: received science frames against the pseudo packets, byte by byte.

Every frame the stream reader accepted is matched to its pseudo packet by (UID, window counter,
sequence counter); its predictable header values are compared byte by byte (each mismatching
field is listed with expected and actual value and the file offsets of the differing bytes);
parts are reassembled to find missing byte ranges and conflicts; reader rejects are listed as
corrupt, with the framelet they belonged to when its header is still readable. Findings:
missing framelets, incomplete/conflicting framelets, duplicate, out-of-order, unexpected and
non-science frames, length errors and PE-HK blocks that differ within one exposure.
All lists are in file order (or key order), so the report is deterministic.
"""

from __future__ import annotations

import bisect
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.level0.plan import CommandPlan
from cassis_pipe.level0.pseudo import (
    DEFAULT_RAW_RATIO_IDS,
    Key,
    PseudoPacket,
    packet_index,
    predict_packets,
)
from cassis_pipe.level0.reassemble import COMPLETE, ReassembledFramelet, reassemble
from cassis_pipe.level0.wire import container_end, field_offsets, peek_header
from cassis_pipe.telemetry.errors import StreamResult
from cassis_pipe.telemetry.scan import FLAG_HEADER, next_science_candidate
from cassis_pipe.telemetry.science import ScienceFrame
from cassis_pipe.telemetry.streams import read_science_stream
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND, is_timecode, unpack_timecode

LIST_NAMES = ("corrupt", "missing_framelets", "incomplete_framelets", "conflicting_framelets",
              "duplicates", "out_of_order", "unexpected", "non_science", "header_mismatches",
              "length_errors", "pehk_inconsistent", "frame_count_mismatches")


@dataclass(slots=True)
class ValidationReport:
    """Outcome of :func:`validate`. ``framelets`` holds the reassembled framelets by key."""

    expected_framelets: int
    frames: int
    reject_bytes: int
    framelets: dict[Key, ReassembledFramelet]
    lists: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {n: [] for n in LIST_NAMES})

    @property
    def ok(self) -> bool:
        """True when nothing at all was found."""
        return not any(self.lists.values())

    def counts(self) -> dict[str, int]:
        c = {"expected_framelets": self.expected_framelets, "frames": self.frames,
             "reject_bytes": self.reject_bytes,
             "received_framelets": len(self.framelets),
             "complete_framelets": sum(f.status == COMPLETE for f in self.framelets.values())}
        c.update({n: len(v) for n, v in self.lists.items()})
        return c

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready: counts, every finding list, and the status of every framelet."""
        return {"ok": self.ok, "counts": self.counts(), **self.lists,
                "framelets": [f.as_dict() for f in self.framelets.values()]}

    def summary(self, max_items: int = 5) -> str:
        """Short human-readable text: counts, then the first few items of each finding."""
        c = self.counts()
        lines = [f"level-0 validation: {'OK' if self.ok else 'PROBLEMS FOUND'}",
                 f"  frames {c['frames']}, reject bytes {c['reject_bytes']}, framelets "
                 f"{c['complete_framelets']} complete / {c['received_framelets']} received / "
                 f"{c['expected_framelets']} expected"]
        for name in LIST_NAMES:
            items = self.lists[name]
            if not items:
                continue
            lines.append(f"  {name}: {len(items)}")
            for it in items[:max_items]:
                lines.append("    " + ", ".join(f"{k}={_short(v)}" for k, v in it.items()))
            if len(items) > max_items:
                lines.append(f"    ... {len(items) - max_items} more")
        return "\n".join(lines)


def _short(v: Any) -> str:
    s = str(v)
    return s if len(s) <= 60 else s[:57] + "..."


def _ident(f: ScienceFrame) -> dict[str, int]:
    return {"uid": f.uid, "window": f.window, "sequence": f.sequence, "offset": f.offset}


def _ticks(tc: bytes) -> int | None:
    if not is_timecode(tc):
        return None
    coarse, fine = unpack_timecode(tc)
    return coarse * FINE_PER_SECOND + fine


def _cmp_bytes(name: str, expected: bytes, actual: bytes, start: int, base: dict[str, Any],
               exp_val: Any, act_val: Any) -> dict[str, Any] | None:
    if expected == actual:
        return None
    diff = [start + i for i, (a, b) in enumerate(zip(expected, actual, strict=False)) if a != b]
    diff += [start + i for i in range(min(len(expected), len(actual)),
                                      max(len(expected), len(actual)))]
    return {**base, "field": name, "expected": exp_val, "actual": act_val,
            "file_offset": start, "byte_offsets": diff}


def header_mismatches(frame: ScienceFrame, file_offset: int, p: PseudoPacket,
                      time_tolerance_s: float) -> list[dict[str, Any]]:
    """Every predictable header field of ``frame`` that differs from pseudo packet ``p``."""
    offs = field_offsets(frame)
    base = {"frame_file_offset": file_offset, **_ident(frame)}
    out: list[dict[str, Any]] = []
    ints: list[tuple[str, int | None]] = [("type", p.type), ("error", p.error),
                                          ("compression", p.compression),
                                          ("position_mdeg", p.position_mdeg),
                                          ("total_length", p.total_length)]
    for name, exp in ints:
        if exp is None:
            continue
        start, length = offs[name]
        act = int(getattr(frame, name))
        exp_b = exp.to_bytes(length, "big") if 0 <= exp < 1 << (8 * length) else b"\xff" * 9
        m = _cmp_bytes(name, exp_b, act.to_bytes(length, "big"), file_offset + start, base,
                       exp, act)
        if m is not None:
            out.append(m)
    act_t = _ticks(frame.exposure_timestamp)
    if p.exposure_timestamp is not None:
        start, _ = offs["exposure_timestamp"]
        exp_t = _ticks(p.exposure_timestamp)
        tol = int(round(time_tolerance_s * FINE_PER_SECOND))
        if exp_t is None or act_t is None or abs(act_t - exp_t) > tol:
            m = _cmp_bytes("exposure_timestamp", p.exposure_timestamp, frame.exposure_timestamp,
                           file_offset + start, base, p.exposure_timestamp.hex(),
                           frame.exposure_timestamp.hex())
            if m is not None:
                if exp_t is not None and act_t is not None:
                    m["delta_s"] = (act_t - exp_t) / FINE_PER_SECOND
                out.append(m)
    read_t = _ticks(frame.timestamp)
    if read_t is None or (act_t is not None and read_t < act_t):
        start, _ = offs["timestamp"]
        out.append({**base, "field": "timestamp", "expected": "time code >= exposure time",
                    "actual": frame.timestamp.hex(), "file_offset": file_offset + start,
                    "byte_offsets": list(range(file_offset + start, file_offset + start + 8))})
    return out


def _corrupt_entries(data: bytes | None, stream: StreamResult) -> list[dict[str, Any]]:
    """Reader rejects, each with the headers of any frames still readable inside it."""
    out = []
    arr = np.frombuffer(data, dtype=np.uint8) if data is not None else None
    for r in stream.rejects:
        entry: dict[str, Any] = {"file_offset": r.offset, "length": r.length, "reason": r.reason,
                                 "frames": []}
        if data is not None:
            end = r.offset + r.length
            pos = next_science_candidate(arr, r.offset, end, FLAG_HEADER)[0]
            while 0 <= pos < end:  # only where peek_header succeeds (numba scan, linear)
                hdr = peek_header(data, pos)
                if hdr is not None:
                    entry["frames"].append({"file_offset": pos, **hdr})
                    pos = max(min(container_end(data, pos), end), pos + 1)
                else:
                    pos += 1
                pos = next_science_candidate(arr, pos, end, FLAG_HEADER)[0]
        out.append(entry)
    return out


def _out_of_order(order_keys: list[tuple[Any, ...]]) -> set[int]:
    """Indices not in one longest strictly increasing subsequence (the fewest frames to blame)."""
    tails: list[tuple[Any, ...]] = []
    tail_idx: list[int] = []
    prev = [-1] * len(order_keys)
    for i, k in enumerate(order_keys):
        j = bisect.bisect_left(tails, k)
        if j == len(tails):
            tails.append(k)
            tail_idx.append(i)
        else:
            tails[j] = k
            tail_idx[j] = i
        prev[i] = tail_idx[j - 1] if j > 0 else -1
    keep = set()
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return set(range(len(order_keys))) - keep


def _unexpected_reason(f: ScienceFrame, packets: dict[Key, Any]) -> str:
    uids = {k[0] for k in packets}
    if f.uid not in uids:
        return "unknown UID"
    wins = {k[1] for k in packets if k[0] == f.uid}
    if f.window not in wins:
        return f"window counter {f.window} not commanded"
    return f"sequence counter {f.sequence} not commanded"


def validate(
    stream: StreamResult,
    packets: Sequence[PseudoPacket],
    data: bytes | None = None,
    plan: CommandPlan | None = None,
    time_tolerance_s: float = 1e-4,
) -> ValidationReport:
    """Validate a science stream (``read_science_stream`` result) against pseudo packets.

    ``data`` (the file bytes) lets corrupt spans name the framelet they hit; ``plan`` lets
    frames of test-image/dump UIDs count as non-science instead of unexpected. Exposure time
    codes may differ from the prediction by ``time_tolerance_s`` seconds.
    """
    index = packet_index(packets)
    other_uids = {o["uid"] for o in plan.other} if plan is not None else set()
    framelets = reassemble(stream.frames, stream.offsets)
    rep = ValidationReport(len(index), len(stream.frames), sum(r.length for r in stream.rejects),
                           framelets)
    L = rep.lists
    L["corrupt"] = _corrupt_entries(data, stream)
    seen: dict[tuple[int, int, int, int], tuple[ScienceFrame, int]] = {}
    pehk_first: dict[tuple[int, int], tuple[bytes, int]] = {}
    ordered: list[tuple[tuple[Any, ...], ScienceFrame, int]] = []
    for f, off in zip(stream.frames, stream.offsets, strict=True):
        ident = {"file_offset": off, **_ident(f)}
        if f.type != 0 or f.uid in other_uids:
            L["non_science"].append({**ident, "type": f.type})
            continue
        p = index.get((f.uid, f.window, f.sequence))
        if p is None:
            L["unexpected"].append({**ident, "reason": _unexpected_reason(f, index)})
            continue
        fkey = (f.uid, f.window, f.sequence, f.offset)
        if fkey in seen:
            first, first_off = seen[fkey]
            L["duplicates"].append({**ident, "first_file_offset": first_off,
                                    "identical": f == first})
            if f != first:  # a differing repeat gets its own header check
                L["header_mismatches"] += header_mismatches(f, off, p, time_tolerance_s)
            continue
        seen[fkey] = (f, off)
        ordered.append(((*p.order, f.offset), f, off))
        L["header_mismatches"] += header_mismatches(f, off, p, time_tolerance_s)
        if f.offset + len(f.data) > f.total_length:
            L["length_errors"].append({**ident, "data_length": len(f.data),
                                       "total_length": f.total_length})
        ek = (f.uid, f.sequence)
        if ek not in pehk_first:
            pehk_first[ek] = (f.pehk, off)
        elif f.pehk != pehk_first[ek][0]:
            start = off + field_offsets(f)["pehk"][0]
            ref = pehk_first[ek][0]
            L["pehk_inconsistent"].append({
                **ident, "reference_file_offset": pehk_first[ek][1],
                "byte_offsets": [start + i for i in range(64) if f.pehk[i] != ref[i]]})
    for i in sorted(_out_of_order([o[0] for o in ordered])):
        _, f, off = ordered[i]
        L["out_of_order"].append({"file_offset": off, **_ident(f)})
    attributed: dict[Key, list[int]] = {}
    for c in L["corrupt"]:
        for h in c["frames"]:
            attributed.setdefault((h["uid"], h["window"], h["sequence"]), []).append(
                h["file_offset"])
    for k in sorted(index, key=lambda k: index[k].order):
        p = index[k]
        fl = framelets.get(k)
        ident2 = {"uid": p.uid, "window": p.window, "sequence": p.sequence, "filter": p.filter}
        if k in attributed:
            ident2["corrupt_file_offsets"] = attributed[k]
        if fl is None:
            L["missing_framelets"].append(ident2)
            continue
        if fl.status == "incomplete":
            L["incomplete_framelets"].append({**ident2, "total_length": fl.total_length,
                                              "missing": [list(r) for r in fl.missing]})
        elif fl.status == "conflict":
            L["conflicting_framelets"].append({**ident2, "conflicts": fl.conflicts})
        if p.n_frames is not None and len(fl.parts) != p.n_frames:
            L["frame_count_mismatches"].append({**ident2, "expected": p.n_frames,
                                                "actual": len(fl.parts)})
    return rep


def validate_bytes(
    science: bytes, tc_plan: CommandPlan, raw_ratio_ids: Collection[int] = DEFAULT_RAW_RATIO_IDS,
    compression_word: int | None = None, max_frame_data: int | None = None,
    time_tolerance_s: float = 1e-4,
) -> tuple[ValidationReport, StreamResult, list[PseudoPacket]]:
    """Read ``science`` (science.bin bytes), predict packets from ``tc_plan`` and validate."""
    stream = read_science_stream(science)
    packets = predict_packets(tc_plan, raw_ratio_ids, compression_word, max_frame_data)
    rep = validate(stream, packets, science, tc_plan, time_tolerance_s)
    return rep, stream, packets


def validate_files(science_path: str | Path, tc_path: str | Path, **kwargs: Any
                   ) -> tuple[ValidationReport, StreamResult, list[PseudoPacket]]:
    """:func:`validate_bytes` on science.bin and the plan of tc.bin (thin file helper)."""
    from cassis_pipe.level0.plan import plan_from_files

    plan = plan_from_files(tc_path)
    return validate_bytes(Path(science_path).read_bytes(), plan, **kwargs)
