"""The CaSSIS housekeeping database: every HK frame (all 7 types) and the TC history, once.

One schema, one set of SQL statements for two engines through DB-API: an embedded SQLite file
(default, no server) or PostgreSQL (``postgresql://`` URL, psycopg 3, extra ``postgres``).
Statements are written with ``?`` placeholders and turned into ``%s`` for psycopg; every value
is a bound parameter, every identifier comes from the fixed channel catalogue (hkframes).

Tables: ``hk_<frame name>`` (one per HK type: ``tc``, ``crc``, ``obt`` s, one column per field;
primary key ``(tc, crc)``, so loading a frame again stores nothing), ``hk_channel`` (name,
frame, unit, soft/hard limits), ``hk_daily`` (per channel and UTC day: n, min, max, sum;
refreshed from the frames for every day a load touches), ``tc_history`` (decoded TCs, key =
frame digest + occurrence in its file) and ``hk_load`` (what every load found).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.ops.clock import Clock
from cassis_pipe.ops.hkframes import (
    CHANNELS,
    TYPE_CHANNELS,
    HkDbError,
    Limits,
    TypeBatch,
    decode_hk_arrays,
    load_limits,
    obt_to_tc,
    tc_to_obt,
)
from cassis_pipe.telemetry.hk import HK_NAMES
from cassis_pipe.telemetry.mil import FRAME_LEN
from cassis_pipe.telemetry.tc import read_tc_stream
from cassis_pipe.telemetry.timecode import P_FIELD

SCHEMA_VERSION = "1"
INSERT_CHUNK = 50_000  # rows per executemany


def table_of(frame_type: int) -> str:
    return f"hk_{HK_NAMES[frame_type]}"


class Database:
    """A DB-API connection to the HK database: SQLite file path or ``postgresql://`` URL."""

    def __init__(self, url: str | Path, *, read_only: bool = False) -> None:
        text = str(url)
        self.url = text
        if text.startswith(("postgresql://", "postgres://")):
            try:
                import psycopg
            except ImportError as exc:
                raise HkDbError("PostgreSQL needs psycopg: pip install 'cassis-pipe[postgres]'"
                                ) from exc
            self.kind = "postgresql"
            try:
                self.conn: Any = psycopg.connect(text)
            except psycopg.Error as exc:
                raise HkDbError(f"cannot connect to the HK database: {exc}") from exc
            self.conn.read_only = read_only
        else:
            path = Path(text.removeprefix("sqlite:///").removeprefix("sqlite://"))
            self.kind = "sqlite"
            if read_only:
                if not path.is_file():
                    raise HkDbError(f"HK database {path} does not exist (run `hk load` first)")
                self.conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True,
                                            check_same_thread=False)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self.conn = sqlite3.connect(path)
                self.conn.execute("PRAGMA journal_mode=WAL")
                self.conn.execute("PRAGMA synchronous=NORMAL")

    def sql(self, statement: str) -> str:
        """``statement`` with this engine's placeholder."""
        return statement if self.kind == "sqlite" else statement.replace("?", "%s")

    def execute(self, statement: str, params: tuple | list = ()) -> Any:
        cur = self.conn.cursor()
        cur.execute(self.sql(statement), params)
        return cur

    def executemany(self, statement: str, rows: list[tuple]) -> int:
        """Run for every row; returns the number of rows changed."""
        if not rows:
            return 0
        cur = self.conn.cursor()
        cur.executemany(self.sql(statement), rows)
        return int(cur.rowcount)

    def query(self, statement: str, params: tuple | list = ()) -> list[tuple]:
        return list(self.execute(statement, params).fetchall())

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.conn.rollback()
        self.close()


def _ddl(db: Database) -> list[str]:
    suffix = " WITHOUT ROWID" if db.kind == "sqlite" else ""  # clustered on (tc, crc)
    out = ["CREATE TABLE IF NOT EXISTS hk_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
           "CREATE TABLE IF NOT EXISTS hk_channel (name TEXT PRIMARY KEY, field TEXT NOT NULL, "
           "frame_type INTEGER NOT NULL, frame_name TEXT NOT NULL, table_name TEXT NOT NULL, "
           "column_name TEXT NOT NULL, length_bytes INTEGER NOT NULL, unit TEXT NOT NULL, "
           "tag INTEGER, soft_low DOUBLE PRECISION, soft_high DOUBLE PRECISION, "
           "hard_low DOUBLE PRECISION, hard_high DOUBLE PRECISION)",
           "CREATE TABLE IF NOT EXISTS hk_daily (channel TEXT NOT NULL, day TEXT NOT NULL, "
           "n BIGINT NOT NULL, vmin DOUBLE PRECISION, vmax DOUBLE PRECISION, "
           "vsum DOUBLE PRECISION, PRIMARY KEY (channel, day))",
           "CREATE TABLE IF NOT EXISTS tc_history (digest TEXT NOT NULL, occurrence INTEGER "
           "NOT NULL, cid INTEGER NOT NULL, name TEXT NOT NULL, uid BIGINT, "
           "obt DOUBLE PRECISION, params TEXT NOT NULL, frame_hex TEXT NOT NULL, "
           "PRIMARY KEY (digest, occurrence))",
           "CREATE TABLE IF NOT EXISTS hk_load (loaded_utc TEXT NOT NULL, kind TEXT NOT NULL, "
           "source TEXT NOT NULL, sha256 TEXT NOT NULL, frames BIGINT NOT NULL, "
           "inserted BIGINT NOT NULL, duplicates BIGINT NOT NULL, reject_spans BIGINT NOT NULL, "
           "reject_bytes BIGINT NOT NULL)"]
    for t, chans in TYPE_CHANNELS.items():
        cols = ", ".join(f"{c.column} BIGINT NOT NULL" for c in chans)
        out.append(f"CREATE TABLE IF NOT EXISTS {table_of(t)} (tc BIGINT NOT NULL, "
                   f"crc INTEGER NOT NULL, obt DOUBLE PRECISION NOT NULL, {cols}, "
                   f"PRIMARY KEY (tc, crc)){suffix}")
    return out


def create_schema(db: Database, limits: dict[str, Limits]) -> None:
    """Create every table (if absent) and (re)write the channel table with ``limits``."""
    for statement in _ddl(db):
        db.execute(statement)
    db.execute("INSERT INTO hk_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
               ("schema_version", SCHEMA_VERSION))
    rows = []
    for c in CHANNELS.values():
        lim = limits.get(c.name, Limits())
        rows.append((c.name, c.field, c.frame_type, c.frame_name, c.table, c.column, c.length,
                     c.unit, c.tag, lim.soft_low, lim.soft_high, lim.hard_low, lim.hard_high))
    db.executemany(
        "INSERT INTO hk_channel VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT "
        "(name) DO UPDATE SET unit = excluded.unit, soft_low = excluded.soft_low, "
        "soft_high = excluded.soft_high, hard_low = excluded.hard_low, "
        "hard_high = excluded.hard_high", rows)
    db.commit()


def _insert_batch(db: Database, b: TypeBatch) -> int:
    chans = TYPE_CHANNELS[b.frame_type]
    names = ", ".join(["tc", "crc", "obt"] + [c.column for c in chans])
    marks = ", ".join("?" * (3 + len(chans)))
    statement = (f"INSERT INTO {table_of(b.frame_type)} ({names}) VALUES ({marks}) "
                 "ON CONFLICT (tc, crc) DO NOTHING")
    obt = tc_to_obt(b.tc)
    inserted = 0
    for i in range(0, len(b), INSERT_CHUNK):
        sl = slice(i, i + INSERT_CHUNK)
        cols = [b.tc[sl].tolist(), b.crc[sl].tolist(), obt[sl].tolist()]
        cols += [b.columns[c.column][sl].tolist() for c in chans]
        inserted += db.executemany(statement, list(zip(*cols, strict=True)))
    return inserted


def _days_with_frames(b: TypeBatch, clock: Clock) -> list[str]:
    good = (b.tc >> 56) == P_FIELD
    if not good.any():
        return []
    obt = np.sort(tc_to_obt(b.tc[good]))
    days = clock.days_between(float(obt[0]), float(obt[-1]))
    starts = np.array([clock.day_bounds(d)[0] for d in days] + [clock.day_bounds(days[-1])[1]])
    counts = np.diff(np.searchsorted(obt, starts))
    return [d for d, n in zip(days, counts, strict=True) if n]


def refresh_daily(db: Database, frame_type: int, days: list[str], clock: Clock) -> None:
    """Recompute the daily aggregates of every channel of ``frame_type`` for ``days``."""
    chans = TYPE_CHANNELS[frame_type]
    aggs = ", ".join(f"min({c.column}), max({c.column}), sum(CAST({c.column} AS DOUBLE "
                     "PRECISION))" for c in chans)
    select = f"SELECT count(*), {aggs} FROM {table_of(frame_type)} WHERE tc >= ? AND tc < ?"
    rows = []
    for day in days:
        lo, hi = clock.day_bounds(day)
        r = db.query(select, (obt_to_tc(lo), obt_to_tc(hi)))[0]
        for k, c in enumerate(chans):
            rows.append((c.name, day, r[0], r[1 + 3 * k], r[2 + 3 * k], r[3 + 3 * k]))
    db.executemany("INSERT INTO hk_daily (channel, day, n, vmin, vmax, vsum) VALUES "
                   "(?, ?, ?, ?, ?, ?) ON CONFLICT (channel, day) DO UPDATE SET n = excluded.n, "
                   "vmin = excluded.vmin, vmax = excluded.vmax, vsum = excluded.vsum", rows)


def _record(db: Database, kind: str, source: str, data: bytes, report: dict[str, Any]) -> None:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")  # a log, not a product
    db.execute("INSERT INTO hk_load VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
               (now, kind, source, hashlib.sha256(data).hexdigest(), report["frames"],
                report["inserted"], report["duplicates"], len(report["rejects"]),
                report["reject_bytes"]))


def load_hk(db: Database, data: bytes, clock: Clock, source: str = "") -> dict[str, Any]:
    """Store every valid HK frame of ``data`` not yet in the database; one transaction.

    Returns the load report: frames found (per type), inserted, duplicates (already stored),
    frames whose time code lacks the 0x2f P-field (stored, but outside every time range),
    reject spans and bytes (never stored; listed).
    """
    dec = decode_hk_arrays(data)
    inserted, days = 0, {}
    for t, b in sorted(dec.batches.items()):
        inserted += _insert_batch(db, b)
        days[t] = _days_with_frames(b, clock)
    for t, ds in days.items():
        refresh_daily(db, t, ds, clock)
    bad_tc = sum(int(((b.tc >> 56) != P_FIELD).sum()) for b in dec.batches.values())
    report = {"kind": "hk", "source": source, "frames": dec.valid,
              "per_type": {HK_NAMES[t]: len(b) for t, b in sorted(dec.batches.items())},
              "inserted": inserted, "duplicates": dec.valid - inserted,
              "bad_timecode": bad_tc, "rejects": dec.rejects,
              "reject_bytes": dec.rejected_bytes}
    _record(db, "hk", source, data, report)
    db.commit()
    return report


def load_tc(db: Database, data: bytes, source: str = "") -> dict[str, Any]:
    """Store every valid TC frame of ``data`` (key: frame digest + occurrence in the file)."""
    result = read_tc_stream(data)
    seen: Counter[str] = Counter()
    rows = []
    for cmd, off in zip(result.frames, result.offsets, strict=True):
        frame = bytes(data[off:off + FRAME_LEN])
        digest = hashlib.sha256(frame).hexdigest()[:32]
        seen[digest] += 1
        d = cmd.as_dict()
        ts = cmd.params.get("timestamp")
        obt = tc_to_obt(ts) if isinstance(ts, int) and ts >> 56 == P_FIELD else None
        rows.append((digest, seen[digest], cmd.cid, cmd.name, cmd.uid, obt,
                     json.dumps(d["params"], sort_keys=True), frame.hex()))
    inserted = db.executemany(
        "INSERT INTO tc_history (digest, occurrence, cid, name, uid, obt, params, frame_hex) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (digest, occurrence) DO NOTHING", rows)
    rejects = [r.as_dict() for r in result.rejects]
    report = {"kind": "tc", "source": source, "frames": result.valid, "inserted": inserted,
              "duplicates": result.valid - inserted, "rejects": rejects,
              "reject_bytes": sum(r["length"] for r in rejects)}
    _record(db, "tc", source, data, report)
    db.commit()
    return report


def open_db(url: str | Path, limits: dict[str, Limits] | None = None, *,
            read_only: bool = False) -> Database:
    """Open the HK database; for writing, create the schema if absent and write the channel
    table with ``limits`` (default: the package's limits table, hkframes.load_limits)."""
    db = Database(url, read_only=read_only)
    if not read_only:
        try:
            create_schema(db, load_limits() if limits is None else limits)
        except Exception:
            db.close()
            raise
    return db
