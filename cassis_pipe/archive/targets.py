"""Suggested-targets store (embedded SQLite) and its import from CSV / GeoJSON.

Tables (prefixed ``target_`` so the store can share one connection and file with other
operations tables, e.g. the housekeeping database): ``target_suggestions`` (one row per
target: suggester, e-mail, region ring as JSON [[lon, lat], ...] in deg east/planetocentric,
requested conditions, priority, status ``open``/``retired``, ``round`` = 1 + times re-opened),
``target_evaluations`` (which observation was checked against which target in which round, its
coverage and whether the conditions matched) and ``target_retirements`` (the retiring
observation of each (target, round) and whether its e-mail went out).

Requested conditions (all optional, NULL = any): incidence range (deg), local true solar time
range (h; ``min > max`` wraps through midnight), season as an Ls range (deg; ``min > max``
wraps through Ls 0), ``mode`` ``colour`` (at least 3 of the 4 filters valid), ``any`` or
``stereo`` (needs a stereo observation: never retired by one observation).
"""

from __future__ import annotations

import csv
import json
import math
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from cassis_pipe.archive.sphere import check_ring

SCHEMA = """
CREATE TABLE IF NOT EXISTS target_suggestions (
    target_id TEXT PRIMARY KEY,
    suggester TEXT NOT NULL,
    email TEXT NOT NULL,
    region_json TEXT NOT NULL,
    incidence_min_deg REAL, incidence_max_deg REAL,
    lst_min_h REAL, lst_max_h REAL,
    ls_min_deg REAL, ls_max_deg REAL,
    mode TEXT NOT NULL DEFAULT 'any' CHECK (mode IN ('colour', 'stereo', 'any')),
    priority INTEGER NOT NULL DEFAULT 3,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'retired')),
    round INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS target_evaluations (
    target_id TEXT NOT NULL REFERENCES target_suggestions(target_id),
    round INTEGER NOT NULL,
    observation_id TEXT NOT NULL,
    coverage REAL NOT NULL,
    conditions_ok INTEGER NOT NULL,
    PRIMARY KEY (target_id, round, observation_id)
);
CREATE TABLE IF NOT EXISTS target_retirements (
    target_id TEXT NOT NULL REFERENCES target_suggestions(target_id),
    round INTEGER NOT NULL,
    observation_id TEXT NOT NULL,
    coverage REAL NOT NULL,
    conditions_json TEXT NOT NULL,
    email_sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (target_id, round)
);
"""

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_RANGES = (("incidence", 0.0, 90.0), ("lst", 0.0, 24.0), ("ls", 0.0, 360.0))
_COLUMNS = ("target_id", "suggester", "email", "region_json", "incidence_min_deg",
            "incidence_max_deg", "lst_min_h", "lst_max_h", "ls_min_deg", "ls_max_deg", "mode",
            "priority", "status", "round")


class TargetError(ValueError):
    """A target record or import file is invalid (message names the record)."""


@dataclass(frozen=True)
class Target:
    """One suggested target (see the module docstring for units)."""

    target_id: str
    suggester: str
    email: str
    region: tuple[tuple[float, float], ...]
    incidence_deg: tuple[float | None, float | None] = (None, None)
    lst_h: tuple[float | None, float | None] = (None, None)
    ls_deg: tuple[float | None, float | None] = (None, None)
    mode: str = "any"
    priority: int = 3
    status: str = "open"
    round: int = 1


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (create) the database file and make sure the target tables exist."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=60.0)  # parallel rules wait for the lock
    init(conn)
    return conn


def init(conn: sqlite3.Connection) -> None:
    """Create the target tables on any connection (shared with other stores)."""
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA)
    conn.commit()


def _num(value: object, what: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as exc:
        raise TargetError(f"{what}: not a number: {value!r}") from exc
    if not math.isfinite(v):
        raise TargetError(f"{what}: not a finite number: {value!r}")
    return v


def make_target(rec: dict, region: object, where: str) -> Target:
    """A validated :class:`Target` from an import record (``where`` names it in errors)."""
    if not isinstance(rec, dict):
        raise TargetError(f"{where}: properties must be a mapping")
    tid = str(rec.get("target_id") or "").strip()
    if not _ID.match(tid):
        raise TargetError(f"{where}: target_id {tid!r} must be 1-64 of A-Z a-z 0-9 _ . : -")
    email = str(rec.get("email") or "").strip()
    if not _EMAIL.match(email):
        raise TargetError(f"{where} ({tid}): invalid e-mail address {email!r}")
    suggester = str(rec.get("suggester") or "").strip()
    if not suggester:
        raise TargetError(f"{where} ({tid}): suggester missing")
    try:
        ring = check_ring(region)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError) as exc:
        raise TargetError(f"{where} ({tid}): region: {exc}") from exc
    ranges = []
    for name, lo, hi in _RANGES:
        a = _num(rec.get(f"{name}_min"), f"{where} ({tid}) {name}_min")
        b = _num(rec.get(f"{name}_max"), f"{where} ({tid}) {name}_max")
        for v in (a, b):
            if v is not None and not lo <= v <= hi:
                raise TargetError(f"{where} ({tid}): {name} {v} outside [{lo}, {hi}]")
        if name == "incidence" and a is not None and b is not None and a > b:
            raise TargetError(f"{where} ({tid}): incidence_min {a} > incidence_max {b}")
        ranges.append((a, b))
    mode = str(rec.get("mode") or "any").strip().lower().replace("color", "colour")
    if mode not in ("colour", "stereo", "any"):
        raise TargetError(f"{where} ({tid}): mode {mode!r} is not colour, stereo or any")
    prio = _num(rec.get("priority"), f"{where} ({tid}) priority")
    return Target(tid, suggester, email, tuple((float(x), float(y)) for x, y in ring),
                  ranges[0], ranges[1], ranges[2], mode, 3 if prio is None else int(prio))


def _region_text(text: str, where: str) -> list[list[float]]:
    """CSV region: JSON ``[[lon, lat], ...]`` or ``lon lat; lon lat; ...``."""
    t = text.strip()
    try:
        if t.startswith("["):
            return json.loads(t)
        return [[float(v) for v in p.split()] for p in t.split(";") if p.strip()]
    except (ValueError, json.JSONDecodeError) as exc:
        raise TargetError(f"{where}: region {text!r} unreadable: {exc}") from exc


def read_targets(path: Path) -> list[Target]:
    """Targets of a CSV file (header with the column names, ``region`` column) or a GeoJSON
    FeatureCollection of Polygon features (outer ring; properties as the CSV columns)."""
    p = Path(path)
    if p.suffix.lower() in (".json", ".geojson"):
        try:
            doc = json.loads(p.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise TargetError(f"{p}: not JSON: {exc}") from exc
        feats = doc.get("features") if isinstance(doc, dict) else None
        if not isinstance(feats, list):
            raise TargetError(f"{p}: not a GeoJSON FeatureCollection")
        out = []
        for i, f in enumerate(feats):
            geom = f.get("geometry") if isinstance(f, dict) else None
            if (not isinstance(geom, dict) or geom.get("type") != "Polygon"
                    or not isinstance(geom.get("coordinates"), list) or not geom["coordinates"]):
                raise TargetError(f"{p} feature {i}: geometry must be a Polygon")
            out.append(make_target(f.get("properties") or {}, geom["coordinates"][0],
                                   f"{p.name} feature {i}"))
        return out
    try:
        with open(p, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise TargetError(f"{p}: unreadable CSV: {exc}") from exc
    return [make_target(r, _region_text(r.get("region") or "", f"{p.name} line {n}"),
                        f"{p.name} line {n}") for n, r in enumerate(rows, start=2)]


def import_targets(conn: sqlite3.Connection, targets: list[Target]) -> int:
    """Insert new targets (all or nothing); an id already stored is an error."""
    ids = [t.target_id for t in targets]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise TargetError(f"target ids repeated in the import: {dup}")
    with conn:
        for t in targets:
            try:
                conn.execute(
                    "INSERT INTO target_suggestions (target_id, suggester, email, region_json, "
                    "incidence_min_deg, incidence_max_deg, lst_min_h, lst_max_h, ls_min_deg, "
                    "ls_max_deg, mode, priority) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                    (t.target_id, t.suggester, t.email, json.dumps(t.region), *t.incidence_deg,
                     *t.lst_h, *t.ls_deg, t.mode, t.priority))
            except sqlite3.IntegrityError as exc:
                raise TargetError(f"target {t.target_id} already in the store") from exc
    return len(targets)


def _row_target(row: tuple) -> Target:
    d = dict(zip(_COLUMNS, row, strict=True))
    return Target(d["target_id"], d["suggester"], d["email"],
                  tuple(tuple(v) for v in json.loads(d["region_json"])),
                  (d["incidence_min_deg"], d["incidence_max_deg"]), (d["lst_min_h"],
                                                                     d["lst_max_h"]),
                  (d["ls_min_deg"], d["ls_max_deg"]), d["mode"], d["priority"], d["status"],
                  d["round"])


def get_targets(conn: sqlite3.Connection, status: str | None = None) -> list[Target]:
    """Stored targets (optionally only ``open`` or ``retired``), by priority then id."""
    sql = f"SELECT {', '.join(_COLUMNS)} FROM target_suggestions"
    args: tuple = ()
    if status:
        sql += " WHERE status = ?"
        args = (status,)
    return [_row_target(r) for r in conn.execute(sql + " ORDER BY priority, target_id", args)]


def reopen(conn: sqlite3.Connection, target_id: str) -> Target:
    """Re-open a retired target for further imaging: a new round, in which observations
    checked in earlier rounds never retire it again."""
    with conn:
        cur = conn.execute("UPDATE target_suggestions SET status = 'open', round = round + 1 "
                           "WHERE target_id = ? AND status = 'retired'", (target_id,))
        if cur.rowcount != 1:
            known = conn.execute("SELECT status FROM target_suggestions WHERE target_id = ?",
                                 (target_id,)).fetchone()
            raise TargetError(f"target {target_id} is not retired" if known
                              else f"no target {target_id}")
    return next(t for t in get_targets(conn) if t.target_id == target_id)
