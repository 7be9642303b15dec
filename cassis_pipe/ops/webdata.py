"""JSON data of the monitoring page (read-only): HK series with limits, rotation history,
observation status, deliveries, telecommands. Times for the page are Unix seconds (UTC)."""

from __future__ import annotations

from typing import Any

import numpy as np

from cassis_pipe.ops.clock import Clock, parse_time, utc_to_unix
from cassis_pipe.ops.hkdb import Database, open_db
from cassis_pipe.ops.hkframes import CHANNELS, HkDbError, resolve_channel
from cassis_pipe.ops.hkquery import (
    channel_limits,
    daily_stats,
    frame_bounds,
    series,
    tc_history,
    violations,
)
from cassis_pipe.ops.opsconfig import OpsConfig
from cassis_pipe.ops.status import observations, read_deliveries
from cassis_pipe.register.history import HistoryError, read_history

RAW_MAX_DAYS = 3.0  # longer ranges are drawn from the daily aggregates
MAX_POINTS = (10, 20_000)


def _db(cfg: OpsConfig) -> Database:
    return open_db(cfg.database, read_only=True)


def _unix(clock: Clock, obt: np.ndarray) -> np.ndarray:
    """Unix seconds of on-board times: exact at both ends, linear in between (display)."""
    if obt.size == 0:
        return obt
    u0, u1 = clock.obt_to_unix(float(obt[0])), clock.obt_to_unix(float(obt[-1]))
    span = float(obt[-1] - obt[0])
    return u0 + (obt - obt[0]) * ((u1 - u0) / span if span > 0 else 1.0)


def channels(cfg: OpsConfig, clock: Clock) -> dict[str, Any]:
    """Channel list (name, unit, frame, limits) and each frame type's stored time range."""
    with _db(cfg) as db:
        limits = channel_limits(db)
        ranges = {}
        for t in sorted({c.frame_type for c in CHANNELS.values()}):
            b = frame_bounds(db, t)
            if b is not None:
                ranges[t] = {"from_utc": clock.obt_to_utc(b[0] - 0.5, 0),
                             "to_utc": clock.obt_to_utc(b[1] + 0.5, 0)}
    return {"channels": [{"name": c.name, "unit": c.unit, "frame": c.frame_name,
                          "has_data": c.frame_type in ranges,
                          "limits": limits[c.name].as_dict() if c.name in limits else None,
                          "range": ranges.get(c.frame_type)}
                         for c in CHANNELS.values() if not c.field.startswith("DMY")]}


def _decimate(t: np.ndarray, v: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """At most ``n`` points: per bucket the minimum and the maximum, in time order (spikes and
    out-of-limit samples survive)."""
    if t.size <= n:
        return t, v
    edges = np.linspace(0, t.size, n // 2 + 1).astype(int)
    keep = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        if b > a:
            i, j = a + int(np.argmin(v[a:b])), a + int(np.argmax(v[a:b]))
            keep += sorted({i, j})
    idx = np.array(keep)
    return t[idx], v[idx]


def hk_series(cfg: OpsConfig, clock: Clock, q: dict[str, str]) -> dict[str, Any]:
    """One channel over ``from``..``to`` (default: all stored), with limits and episodes."""
    ch = resolve_channel(q.get("channel", ""))
    try:
        max_points = min(max(int(q.get("max_points", 2000)), MAX_POINTS[0]), MAX_POINTS[1])
    except ValueError:
        raise HkDbError("max_points must be an integer") from None
    with _db(cfg) as db:
        bounds = frame_bounds(db, ch.frame_type)
        if bounds is None:
            return {"channel": ch.name, "unit": ch.unit, "mode": "empty", "t": [], "v": [],
                    "episodes": [], "limits": None}
        t0 = parse_time(q["from"], clock) if q.get("from") else bounds[0]
        t1 = parse_time(q["to"], clock) if q.get("to") else bounds[1]
        if t1 < t0:
            raise HkDbError("'to' is before 'from'")
        lim = channel_limits(db).get(ch.name)
        out: dict[str, Any] = {"channel": ch.name, "unit": ch.unit,
                               "limits": lim.as_dict() if lim else None,
                               "from_utc": clock.obt_to_utc(t0), "to_utc": clock.obt_to_utc(t1)}
        if t1 - t0 > RAW_MAX_DAYS * 86400:
            days = daily_stats(db, ch, clock.day_of(t0), clock.day_of(t1))
            mid = [utc_to_unix(f"{d['day']}T12:00:00") for d in days]
            out.update(mode="daily", t=mid, v=[d["mean"] for d in days],
                       vmin=[d["min"] for d in days], vmax=[d["max"] for d in days])
            eps = [] if lim is None else [
                {"start": m - 43200, "end": m + 43200, "samples": d["n"],
                 "level": lim.level(d["min"]) or lim.level(d["max"]),
                 "worst": d["max"] if lim.level(d["max"]) else d["min"]}
                for m, d in zip(mid, days, strict=True)
                if lim.level(d["min"]) or lim.level(d["max"])]
            out["episodes"] = eps
            return out
        obt, vals = series(db, ch, t0, t1)
        total = int(obt.size)
        t, v = _decimate(obt, np.asarray(vals, dtype=float), max_points)
        eps = [] if lim is None else violations(db, ch, lim, t0, t1)
    ends = _unix(clock, np.array([t0, t1] + [x for e in eps for x in (e.start, e.end)]))
    out.update(mode="raw", samples=total, t=_unix(clock, t).tolist(), v=v.tolist(),
               from_unix=float(ends[0]), to_unix=float(ends[1]))
    out["episodes"] = [{"start": float(ends[2 + 2 * k]), "end": float(ends[3 + 2 * k]),
                        "samples": e.samples, "level": e.level, "worst": e.worst}
                       for k, e in enumerate(eps)]
    return out


def rotation(cfg: OpsConfig) -> dict[str, Any]:
    """The rotation-offset history (results/rotation_offsets.csv)."""
    path = cfg.results_dir / "rotation_offsets.csv"
    try:
        records = read_history(path) if path.is_file() else []
    except HistoryError as exc:
        return {"rows": [], "error": str(exc)}
    return {"rows": [{"observation_id": r.observation_id, "utc": r.utc,
                      "unix": utc_to_unix(r.utc), "offset_deg": r.offset_deg,
                      "cost_px2": r.cost_px2, "n_pairs": r.n_pairs} for r in records]}


def observations_list(cfg: OpsConfig) -> dict[str, Any]:
    return {"observations": observations(cfg.results_dir)}


def deliveries(cfg: OpsConfig) -> dict[str, Any]:
    present = cfg.ingest_state is not None and cfg.ingest_state.is_file()
    return {"present": present, "deliveries": read_deliveries(cfg.ingest_state)}


def telecommands(cfg: OpsConfig, clock: Clock) -> dict[str, Any]:
    with _db(cfg) as db:
        rows = tc_history(db, 200)
    for r in rows:
        r["utc"] = clock.obt_to_utc(r["obt"]) if r["obt"] is not None else None
        r["params"] = {k: (v if len(str(v)) < 40 else str(v)[:37] + "...")
                       for k, v in r["params"].items()}
    return {"commands": rows}
