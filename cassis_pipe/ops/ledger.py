"""The ingest ledger: one SQLite file (``<ingest_root>/ingest.sqlite``) recording every
delivery, what each byte range of it became, the unique frames of every stream, the state of
every observation and every ingest run. Schema in docs/operations.md ("Ingest state").

Byte classes of a delivery span: ``routed`` (dest = observation id for science, ``tc-history``
for TC frames, ``hk-archive`` for HK frames), ``duplicate`` (frames or bytes already ingested;
detail says from where), ``rejected`` (detail = reader reason), ``pending`` (a frame cut by the
end of a truncated delivery, waiting for its re-delivery).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cassis_pipe.telemetry.errors import Reject

LEDGER_NAME = "ingest.sqlite"
SCHEMA_VERSION = 1
CLASSES = ("routed", "duplicate", "rejected", "pending")
TC_DEST, HK_DEST = "tc-history", "hk-archive"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS deliveries(
  name TEXT PRIMARY KEY, kind TEXT, slot TEXT, revision INTEGER, size INTEGER,
  mtime_ns INTEGER, sha256 TEXT, consumed INTEGER, consumed_sha256 TEXT,
  first_run INTEGER, last_run INTEGER, first_ingest REAL, last_ingest REAL,
  frames INTEGER, routed INTEGER, duplicate INTEGER, rejected INTEGER, pending INTEGER,
  note TEXT);
CREATE TABLE IF NOT EXISTS spans(
  name TEXT, offset INTEGER, length INTEGER, class TEXT, dest TEXT, detail TEXT,
  PRIMARY KEY(name, offset)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS science(
  uid INTEGER, sequence INTEGER, window INTEGER, data_offset INTEGER, md5 BLOB,
  obs TEXT, length INTEGER, delivery TEXT, file_offset INTEGER,
  PRIMARY KEY(uid, sequence, window, data_offset, md5)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS science_obs ON science(obs);
CREATE TABLE IF NOT EXISTS tc(
  slot TEXT, file_offset INTEGER, frame BLOB, delivery TEXT,
  PRIMARY KEY(slot, file_offset, frame)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tc_frame ON tc(frame);
CREATE TABLE IF NOT EXISTS hk(
  ticks INTEGER, type INTEGER, frame BLOB, delivery TEXT,
  PRIMARY KEY(ticks, type, frame)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS observations(
  obs TEXT PRIMARY KEY, uid INTEGER, status TEXT, reason TEXT, expected INTEGER,
  complete INTEGER, missing TEXT, science_frames INTEGER, science_bytes INTEGER,
  tc_frames INTEGER, hk_frames INTEGER, hk_t0 INTEGER, hk_t1 INTEGER,
  first_seen REAL, last_change REAL, ready_at REAL, processed INTEGER DEFAULT 0);
CREATE TABLE IF NOT EXISTS runs(
  run INTEGER PRIMARY KEY, started REAL, finished REAL, now REAL, new_deliveries INTEGER,
  new_bytes INTEGER, routed INTEGER, duplicate INTEGER, rejected INTEGER, pending INTEGER,
  changed TEXT, ready TEXT);
"""


def open_ledger(root: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the ledger of an ingest area."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(root / LEDGER_NAME, timeout=60.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(SCHEMA)
    db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    db.commit()
    return db


def merge_spans(spans: Iterable[tuple[int, int, str, str, str]]
                ) -> list[tuple[int, int, str, str, str]]:
    """Sorted spans with touching neighbours of equal class/dest/detail merged."""
    out: list[tuple[int, int, str, str, str]] = []
    for off, n, cls, dest, detail in sorted(spans):
        if n <= 0:
            continue
        if out and out[-1][0] + out[-1][1] == off and out[-1][2:] == (cls, dest, detail):
            out[-1] = (out[-1][0], out[-1][1] + n, cls, dest, detail)
        else:
            out.append((off, n, cls, dest, detail))
    return out


def reject_spans(rejects: Iterable[Reject]) -> list[tuple[int, int, str, str, str]]:
    return [(r.offset, r.length, "rejected", "", r.reason) for r in rejects]


def write_spans(db: sqlite3.Connection, name: str,
                spans: Iterable[tuple[int, int, str, str, str]]) -> dict[str, int]:
    """Store the spans of ``name`` (replacing spans that start at the same offsets); returns
    the delivery's byte totals per class over all its spans."""
    rows = merge_spans(spans)
    db.executemany("INSERT OR REPLACE INTO spans VALUES (?,?,?,?,?,?)",
                   [(name, *r) for r in rows])
    return class_totals(db, name)


def class_totals(db: sqlite3.Connection, name: str) -> dict[str, int]:
    tot = dict.fromkeys(CLASSES, 0)
    for cls, n in db.execute("SELECT class, SUM(length) FROM spans WHERE name=? GROUP BY class",
                             (name,)):
        tot[cls] = int(n)
    return tot


def accounting(db: sqlite3.Connection) -> dict[str, Any]:
    """Byte accounting over every delivery: totals per class, delivered bytes, and whether
    they add up (``balanced``: routed + duplicate + rejected + pending == delivered)."""
    tot = dict.fromkeys(CLASSES, 0)
    for cls, n in db.execute("SELECT class, SUM(length) FROM spans GROUP BY class"):
        tot[cls] = int(n)
    delivered = int(db.execute("SELECT COALESCE(SUM(size), 0) FROM deliveries").fetchone()[0])
    by_dest: dict[str, int] = {}
    for dest, n in db.execute("SELECT dest, SUM(length) FROM spans WHERE class='routed' "
                              "GROUP BY dest ORDER BY dest"):
        by_dest[dest] = int(n)
    return {**tot, "delivered": delivered, "balanced": sum(tot.values()) == delivered,
            "routed_by_dest": by_dest}


def latest_deliveries(db: sqlite3.Connection, limit: int = 50) -> list[dict[str, Any]]:
    """The most recently ingested deliveries with their byte totals (for monitoring pages)."""
    cur = db.execute("SELECT name, kind, slot, revision, size, sha256, last_run, last_ingest, "
                     "frames, routed, duplicate, rejected, pending, note FROM deliveries "
                     "ORDER BY last_ingest DESC, name DESC LIMIT ?", (limit,))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur]


def observation_rows(db: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every observation's ingest state, by observation id."""
    cur = db.execute("SELECT * FROM observations ORDER BY obs")
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur]


def delivery_breakdown(db: sqlite3.Connection, name: str) -> list[dict[str, Any]]:
    """What the bytes of one delivery became: bytes per (class, destination, detail)."""
    cur = db.execute("SELECT class, dest, detail, SUM(length), COUNT(*) FROM spans WHERE name=? "
                     "GROUP BY class, dest, detail ORDER BY class, dest, detail", (name,))
    return [{"class": c, "dest": d, "detail": t, "bytes": int(n), "spans": int(k)}
            for c, d, t, n, k in cur]


def latest_runs(db: sqlite3.Connection, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent ingest runs (wall-clock start/finish, ingest clock, byte totals)."""
    cur = db.execute("SELECT * FROM runs ORDER BY run DESC LIMIT ?", (limit,))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur]
