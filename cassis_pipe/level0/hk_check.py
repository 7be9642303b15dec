"""Housekeeping checks of one observation's hk.bin: frames per type, CRC and other rejects,
gaps in time (HK comes at 1 Hz) and limit violations per channel (limits table in package
data, ``cassis_pipe/data/hk_checks.yaml``, raw HK units, each entry with its source).

Pure functions of the decoded stream (:func:`cassis_pipe.telemetry.hk.read_hk_stream`); the
rule ``hk`` (``cassis_pipe.stages.hk``) does the I/O.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cassis_pipe.telemetry.errors import StreamResult
from cassis_pipe.telemetry.hk import HkFrame
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND, P_FIELD

NOMINAL_PERIOD_S = 1.0  # HK frames of every type once per second (TM rate "normal")


@dataclass(frozen=True, slots=True)
class Limit:
    """One channel's limit: fixed [lo, hi], or within two fields of the same frame, or a
    counter that must not increase. ``source`` says where it comes from."""

    channel: str
    lo: int | None = None
    hi: int | None = None
    lo_field: str | None = None
    hi_field: str | None = None
    no_increase: bool = False
    source: str = ""

    def describe(self) -> str:
        if self.no_increase:
            return "must not increase"
        lo = self.lo_field or self.lo
        hi = self.hi_field or self.hi
        return f"within [{lo}, {hi}]"


def load_limits(path: str | Path | None = None) -> list[Limit]:
    """The limits table (default: the package's ``data/hk_checks.yaml``)."""
    if path is None:
        text = resources.files("cassis_pipe").joinpath("data/hk_checks.yaml").read_text()
    else:
        text = Path(path).read_text()
    table = yaml.safe_load(text) or {}
    out = []
    for name, d in sorted((table.get("channels") or {}).items()):
        out.append(Limit(str(name), d.get("min"), d.get("max"), d.get("min_field"),
                         d.get("max_field"), bool(d.get("no_increase", False)),
                         str(d.get("source", ""))))
    return out


def hk_seconds(timestamp: int) -> float | None:
    """On-board time (s) of an HK frame's 8-byte time code; None if it is not a time code."""
    if timestamp >> 56 != P_FIELD:
        return None
    coarse = (timestamp >> 24) & 0xFFFFFFFF
    return coarse + (timestamp & 0xFFFFFF) / FINE_PER_SECOND


def find_gaps(times: list[float], threshold_s: float) -> list[dict[str, float]]:
    """Gaps between consecutive distinct frame times longer than ``threshold_s`` (s)."""
    t = sorted(set(times))
    return [{"from_s": a, "to_s": b, "length_s": b - a}
            for a, b in zip(t, t[1:], strict=False) if b - a > threshold_s]


def _beyond(value: int, lo: int | None, hi: int | None) -> int:
    """How far ``value`` lies outside [lo, hi] (0 inside)."""
    if lo is not None and value < lo:
        return lo - value
    if hi is not None and value > hi:
        return value - hi
    return 0


def check_limits(frames: list[HkFrame], limits: list[Limit]) -> dict[str, dict[str, Any]]:
    """Per channel with at least one violation: frames out of limit, first/last on-board time
    (s), the extreme value (farthest outside), the limit and its source."""
    out: dict[str, dict[str, Any]] = {}
    last_count: dict[str, int] = {}
    for fr in frames:
        t = hk_seconds(fr.timestamp)
        for lim in limits:
            v = fr.fields.get(lim.channel)
            if v is None:
                continue
            value = v.raw
            if lim.no_increase:
                prev = last_count.get(lim.channel)
                last_count[lim.channel] = value
                miss = value - prev if prev is not None and value > prev else 0
            else:
                lo = fr.fields[lim.lo_field].raw if lim.lo_field in fr.fields else lim.lo
                hi = fr.fields[lim.hi_field].raw if lim.hi_field in fr.fields else lim.hi
                miss = _beyond(value, lo, hi)
            if not miss:
                continue
            rec = out.setdefault(lim.channel, {"frames": 0, "first_s": t, "last_s": t,
                                               "extreme": value, "excess": 0,
                                               "limit": lim.describe(), "source": lim.source})
            rec["frames"] += 1
            rec["last_s"] = t
            if miss > rec["excess"]:
                rec["extreme"], rec["excess"] = value, miss
    return dict(sorted(out.items()))


def check_hk(stream: StreamResult, limits: list[Limit], gap_threshold_s: float = 1.5
             ) -> dict[str, Any]:
    """The HK summary of one stream (JSON-ready) with ``problems``: one line per cause."""
    frames: list[HkFrame] = stream.frames
    per_type = Counter(f.name for f in frames)
    reasons = Counter()
    for r in stream.rejects:
        reasons[r.reason] += r.length
    times = [hk_seconds(f.timestamp) for f in frames]
    bad_time = sum(t is None for t in times)
    good = [t for t in times if t is not None]
    backwards = sum(b < a for a, b in zip(good, good[1:], strict=False))
    gaps = find_gaps(good, gap_threshold_s)
    violations = check_limits(frames, limits)
    problems = []
    if not frames:
        problems.append("hk.bin holds no valid HK frame: housekeeping not checked")
    if stream.rejects:
        problems.append(f"hk.bin: {sum(reasons.values())} bytes rejected in "
                        f"{len(stream.rejects)} span(s) ("
                        + ", ".join(f"{k} {v} B" for k, v in sorted(reasons.items())) + ")")
    if bad_time:
        problems.append(f"hk.bin: {bad_time} HK frame(s) without a CaSSIS time code")
    if backwards:
        problems.append(f"hk.bin: time goes backwards {backwards} time(s)")
    if gaps:
        longest = max(g["length_s"] for g in gaps)
        problems.append(f"hk.bin: {len(gaps)} gap(s) in time longer than {gap_threshold_s:g} s "
                        f"(longest {longest:.1f} s, first after t = {gaps[0]['from_s']:.3f} s)")
    for name, v in violations.items():
        problems.append(f"HK {name} out of limits ({v['limit']}) in {v['frames']} frame(s), "
                        f"extreme {v['extreme']}")
    return {
        "frames": {"valid": len(frames), "per_type": dict(sorted(per_type.items()))},
        "rejects": {"spans": len(stream.rejects), "bytes": sum(reasons.values()),
                    "bytes_by_reason": dict(sorted(reasons.items())),
                    "first": [r.as_dict() for r in stream.rejects[:20]]},
        "time": {"first_s": min(good) if good else None, "last_s": max(good) if good else None,
                 "nominal_period_s": NOMINAL_PERIOD_S, "gap_threshold_s": gap_threshold_s,
                 "frames_without_timecode": bad_time, "backwards_steps": backwards,
                 "gaps": gaps},
        "limits": {"checked": [lim.channel for lim in limits], "violations": violations},
        "problems": problems,
    }
