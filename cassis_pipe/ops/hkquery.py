"""Queries on the HK database: series, daily statistics, limit violations, gaps, TC history.

Times are on-board seconds (OBT); ranges are inclusive and are turned into time-code bounds
(``tc`` is the clustered key, see hkframes). Every value is a bound parameter; table and column
names come from the channel catalogue only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from cassis_pipe.ops.hkdb import Database, table_of
from cassis_pipe.ops.hkframes import (
    TC_PER_SECOND,
    Channel,
    Limits,
    obt_to_tc,
    tc_to_obt,
    to_unsigned,
)
from cassis_pipe.telemetry.timecode import P_FIELD


def tc_range(obt0: float, obt1: float) -> tuple[int, int]:
    """Inclusive time-code bounds of on-board times ``obt0`` .. ``obt1`` s."""
    return obt_to_tc(obt0), obt_to_tc(obt1) + 1


def frame_bounds(db: Database, frame_type: int) -> tuple[float, float] | None:
    """First and last on-board time (s) stored for ``frame_type`` (None if empty); frames
    whose time code lacks the 0x2f P-field have no time and are left out."""
    lo, hi = db.query(f"SELECT min(tc), max(tc) FROM {table_of(frame_type)} "
                      "WHERE tc >= ? AND tc < ?", (P_FIELD << 56, (P_FIELD + 1) << 56))[0]
    return None if lo is None else (float(tc_to_obt(lo)), float(tc_to_obt(hi)))


def count_frames(db: Database, frame_type: int) -> int:
    return int(db.query(f"SELECT count(*) FROM {table_of(frame_type)}")[0][0])


def _value(ch: Channel, v: int) -> int:
    return to_unsigned(v) if ch.length == 8 and v < 0 else v


def series(db: Database, ch: Channel, obt0: float, obt1: float) -> tuple[np.ndarray, list[int]]:
    """(OBT s, values) of channel ``ch`` between ``obt0`` and ``obt1``, in time order."""
    rows = db.query(f"SELECT tc, {ch.column} FROM {ch.table} WHERE tc >= ? AND tc < ? "
                    "ORDER BY tc", tc_range(obt0, obt1))
    if not rows:
        return np.zeros(0), []
    tc, vals = zip(*rows, strict=True)
    return np.asarray(tc_to_obt(np.array(tc, dtype=np.int64))), [_value(ch, v) for v in vals]


def daily_stats(db: Database, ch: Channel, day0: str, day1: str) -> list[dict[str, Any]]:
    """Per UTC day ``day0`` .. ``day1`` (``YYYY-MM-DD``): n, min, mean, max of ``ch``."""
    rows = db.query("SELECT day, n, vmin, vmax, vsum FROM hk_daily WHERE channel = ? AND "
                    "day >= ? AND day <= ? ORDER BY day", (ch.name, day0, day1))
    return [{"day": d, "n": int(n), "min": vmin, "mean": (vsum / n if n else None),
             "max": vmax} for d, n, vmin, vmax, vsum in rows]


def channel_limits(db: Database) -> dict[str, Limits]:
    """Limits as stored in the database's channel table (channels with at least one limit)."""
    rows = db.query("SELECT name, soft_low, soft_high, hard_low, hard_high FROM hk_channel")
    return {r[0]: Limits(*r[1:]) for r in rows if any(x is not None for x in r[1:])}


@dataclass
class Episode:
    """Consecutive out-of-limit samples of one channel (OBT s)."""

    channel: str
    start: float
    end: float
    samples: int
    level: str  # "hard" if any sample broke a hard limit, else "soft"
    worst: float  # the sample furthest outside the limits

    def as_dict(self) -> dict[str, Any]:
        return {"channel": self.channel, "start_obt": self.start, "end_obt": self.end,
                "samples": self.samples, "level": self.level, "worst": self.worst}


def violations(db: Database, ch: Channel, lim: Limits, obt0: float, obt1: float,
               max_gap_s: float = 1.5) -> list[Episode]:
    """Episodes of ``ch`` outside its soft (or hard) limits; samples further apart than
    ``max_gap_s`` s start a new episode."""
    low = lim.soft_low if lim.soft_low is not None else lim.hard_low
    high = lim.soft_high if lim.soft_high is not None else lim.hard_high
    clauses, params = [], []
    if low is not None:
        clauses.append(f"{ch.column} < ?")
        params.append(low)
    if high is not None:
        clauses.append(f"{ch.column} > ?")
        params.append(high)
    if not clauses:
        return []
    rows = db.query(f"SELECT tc, {ch.column} FROM {ch.table} WHERE tc >= ? AND tc < ? AND "
                    f"({' OR '.join(clauses)}) ORDER BY tc", (*tc_range(obt0, obt1), *params))
    out: list[Episode] = []
    for tc, v in rows:
        t, level = float(tc_to_obt(tc)), lim.level(v) or "soft"
        dev = max((low - v) if low is not None else 0.0, (v - high) if high is not None else 0.0)
        ep = out[-1] if out else None
        if ep is not None and t - ep.end <= max_gap_s:
            ep.end, ep.samples = t, ep.samples + 1
            ep.level = "hard" if "hard" in (ep.level, level) else "soft"
            worst_dev = max((low - ep.worst) if low is not None else 0.0,
                            (ep.worst - high) if high is not None else 0.0)
            ep.worst = v if dev > worst_dev else ep.worst
        else:
            out.append(Episode(ch.name, t, t, 1, level, v))
    return out


def gaps(db: Database, frame_type: int, obt0: float, obt1: float,
         max_gap_s: float = 1.5) -> list[dict[str, float]]:
    """Gaps in the series of ``frame_type`` (nominally 1 Hz) between ``obt0`` and ``obt1``:
    successive frames (or a range edge and the nearest frame) more than ``max_gap_s`` apart."""
    lo, hi = tc_range(obt0, obt1)
    table = table_of(frame_type)
    rows = db.query(f"SELECT prev, tc FROM (SELECT tc, LAG(tc) OVER (ORDER BY tc) AS prev "
                    f"FROM {table} WHERE tc >= ? AND tc < ?) AS s WHERE tc - prev > ? "
                    "ORDER BY tc", (lo, hi, int(max_gap_s * TC_PER_SECOND)))
    out = [{"after_obt": float(tc_to_obt(a)), "before_obt": float(tc_to_obt(b))}
           for a, b in rows]
    first, last = db.query(f"SELECT min(tc), max(tc) FROM {table} WHERE tc >= ? AND tc < ?",
                           (lo, hi))[0]
    if first is None:
        return [{"after_obt": obt0, "before_obt": obt1}]
    if float(tc_to_obt(first)) - obt0 > max_gap_s:
        out.insert(0, {"after_obt": obt0, "before_obt": float(tc_to_obt(first))})
    if obt1 - float(tc_to_obt(last)) > max_gap_s:
        out.append({"after_obt": float(tc_to_obt(last)), "before_obt": obt1})
    for g in out:
        g["duration_s"] = g["before_obt"] - g["after_obt"]
    return out


def tc_history(db: Database, limit: int = 1000) -> list[dict[str, Any]]:
    """The stored telecommands (time-tagged ones by time, then the rest), at most ``limit``."""
    rows = db.query("SELECT cid, name, uid, obt, params FROM tc_history ORDER BY "
                    "obt IS NULL, obt, digest, occurrence LIMIT ?", (int(limit),))
    return [{"cid": c, "name": n, "uid": u, "obt": t, "params": json.loads(p)}
            for c, n, u, t, p in rows]
