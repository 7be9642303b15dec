"""Downlink ingest: delivery files in ``downlink/`` -> per-observation tc.bin, science.bin,
hk.bin in ``<ingest_root>/<observation id>/`` plus a generated observation sheet.

Each run reads only what is new (the ledger records every delivery's name, size, mtime,
SHA-256 and the byte ranges consumed), is idempotent, keeps the frame cut by the end of a
truncated delivery pending until its re-delivery, and accounts for every byte of every delivery
(routed, duplicate, rejected or pending; :func:`cassis_pipe.ops.ledger.accounting`).
See docs/operations.md for the loop an operator runs and the state schema.
"""

from __future__ import annotations

import fcntl
import hashlib
import sqlite3
import time
from collections.abc import Collection
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cassis_pipe.ops.delivery import Frame, parse_name, split_delivery
from cassis_pipe.ops.ledger import (
    HK_DEST,
    TC_DEST,
    accounting,
    class_totals,
    open_ledger,
    reject_spans,
    write_spans,
)
from cassis_pipe.ops.observations import flush_science, update_observations, write_sheet
from cassis_pipe.ops.route import obs_of_uid

Span = tuple[int, int, str, str, str]
LOCK_NAME = ".ingest.lock"
SET_TABLE_CID = 0x07  # set_parameter_table: the one command without a unique id


@dataclass(frozen=True)
class IngestConfig:
    """Where deliveries arrive and observations go, and the readiness rules.

    ``wait_s``: seconds after an observation last gained data (or a truncated delivery arrived)
    before it is declared ready with what is missing (or the truncated tail rejected).
    ``calibration_version`` / ``calibration_dir`` / ``heliocentric_au`` go into the sheet;
    ``geometry_dir`` holds ISDs ``<obs>*.json`` copied to ``<obs>/geometry``; ``results_dir``
    is where the workflow writes ``<obs>/summary.json`` (marks observations processed).
    """

    downlink: Path = Path("downlink")
    root: Path = Path("ingest")
    wait_s: float = 6 * 3600.0
    calibration_version: str = "sim-v1"
    calibration_dir: str | None = None
    geometry_dir: Path | None = None
    heliocentric_au: float | None = None
    results_dir: Path | None = None
    raw_ratio_ids: tuple[int, ...] = (0,)
    time_tolerance_s: float = 1e-4
    hk_margin_s: float = 5.0


@dataclass(slots=True)
class RunState:
    """What one run found new (filled while deliveries are read)."""

    run: int
    now: float
    science: dict[str, list[Frame]] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)
    tc_changed: bool = False
    hk_ranges: list[tuple[int, int]] = field(default_factory=list)
    deliveries: list[dict[str, Any]] = field(default_factory=list)


def _sha(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


@contextmanager
def _locked(root: Path):
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK_NAME, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _row(db: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    cur = db.execute("SELECT * FROM deliveries WHERE name=?", (name,))
    r = cur.fetchone()
    return None if r is None else dict(zip([c[0] for c in cur.description], r, strict=True))


def _prefix_of_sibling(db: sqlite3.Connection, cfg: IngestConfig, name: str, identity: tuple,
                       data: bytes) -> tuple[str, str, int] | None:
    """(how, sibling name, bytes) when this delivery's start was already ingested from another
    revision of the same slot: "whole" = it is a prefix of that revision, "prefix" = that
    revision's consumed bytes are this one's first bytes."""
    rows = db.execute("SELECT name, size, consumed, consumed_sha256 FROM deliveries WHERE "
                      "kind=? AND slot=? AND name!=? ORDER BY size DESC, name",
                      (*identity, name)).fetchall()
    for sib, size, _consumed, _csha in rows:
        path = cfg.downlink / sib.split("@")[0]
        if size >= len(data) and path.is_file():
            with open(path, "rb") as fh:
                if fh.read(len(data)) == data:
                    return "whole", sib, len(data)
    for sib, _size, consumed, csha in rows:
        if 0 < consumed <= len(data) and _sha(memoryview(data)[:consumed]) == csha:
            return "prefix", sib, consumed
    return None


def _resolve_pending(db: sqlite3.Connection, sib: str, by: str) -> None:
    """The pending tail of revision ``sib`` is covered by re-delivery ``by``: duplicate."""
    db.execute("UPDATE spans SET class='duplicate', dest=?, detail=? WHERE name=? AND "
               "class='pending'", (by, "truncated tail, re-delivered", sib))
    tot = class_totals(db, sib)
    db.execute("UPDATE deliveries SET duplicate=?, pending=? WHERE name=?",
               (tot["duplicate"], tot["pending"], sib))


def _classify(db: sqlite3.Connection, kind: str, slot: str, name: str, frames: list[Frame],
              rs: RunState) -> list[Span]:
    """Insert the frames into the unique-frame tables: new ones are routed, others duplicate."""
    spans: list[Span] = []
    dup = "frame already ingested"
    lo, hi = 1 << 62, -(1 << 62)
    for f in frames:
        n = len(f.data)
        if kind == "SCI":
            obs = obs_of_uid(int(f.uid or 0))
            uid, seq, win, off, md5 = f.key
            cur = db.execute("INSERT OR IGNORE INTO science VALUES (?,?,?,?,?,?,?,?,?)",
                             (uid, seq, win, off, md5, obs, n, name, f.offset))
            if cur.rowcount:
                rs.science.setdefault(obs, []).append(f)
                spans.append((f.offset, n, "routed", obs, ""))
            else:
                spans.append((f.offset, n, "duplicate", "", dup))
        elif kind == "TC":
            # a command with a unique id is the same command wherever it was delivered
            # (kept at its earliest history position, whatever the arrival order)
            seen = f.data[2] != SET_TABLE_CID and db.execute(
                "SELECT 1 FROM tc WHERE frame=? LIMIT 1", (f.data,)).fetchone() is not None
            if seen:
                moved = db.execute("UPDATE tc SET slot=?, file_offset=?, delivery=? WHERE "
                                   "frame=? AND (slot, file_offset) > (?, ?)",
                                   (slot, f.offset, name, f.data, slot, f.offset)).rowcount
                rs.tc_changed |= moved > 0
            cur = db.execute("INSERT OR IGNORE INTO tc VALUES (?,?,?,?)",
                             (slot, f.offset, f.data, name)) if not seen else None
            new = cur is not None and cur.rowcount > 0
            rs.tc_changed |= new
            spans.append((f.offset, n, "routed" if new else "duplicate",
                          TC_DEST if new else "", "" if new else dup))
        else:
            t, typ, _ = f.key
            cur = db.execute("INSERT OR IGNORE INTO hk VALUES (?,?,?,?)", (t, typ, f.data, name))
            if cur.rowcount:
                lo, hi = min(lo, t), max(hi, t)
            spans.append((f.offset, n, "routed" if cur.rowcount else "duplicate",
                          HK_DEST if cur.rowcount else "", "" if cur.rowcount else dup))
    if lo <= hi:
        rs.hk_ranges.append((lo, hi))
    return spans


def ingest_file(db: sqlite3.Connection, cfg: IngestConfig, path: Path, rs: RunState
                ) -> dict[str, Any] | None:
    """Ingest one delivery file if it has anything new; returns its ledger summary or None."""
    name = path.name
    st = path.stat()
    rec = _row(db, name)
    if rec is not None and rec["size"] == st.st_size and rec["mtime_ns"] == st.st_mtime_ns:
        return None
    data = path.read_bytes()
    sha = _sha(data)
    if rec is not None and rec["sha256"] == sha:
        db.execute("UPDATE deliveries SET mtime_ns=? WHERE name=?", (st.st_mtime_ns, name))
        return None
    dn = parse_name(name)
    start, spans, note = 0, [], ""
    if rec is not None:
        if len(data) > rec["size"] and _sha(memoryview(data)[:rec["consumed"]]) == \
                rec["consumed_sha256"]:
            start, note = rec["consumed"], "grown in place"
            db.execute("DELETE FROM spans WHERE name=? AND offset>=?", (name, start))
        else:
            name, rec, note = f"{name}@{sha[:12]}", None, "replaced in place"
            if _row(db, name) is not None:
                return None
    if dn is None:
        db.execute("DELETE FROM spans WHERE name=?", (name,))
        start, spans = 0, [(0, len(data), "rejected", "", "delivery name not in convention")]
    elif start == 0:
        same = db.execute("SELECT name FROM deliveries WHERE sha256=? ORDER BY name",
                          (sha,)).fetchone()
        sib = None if same else _prefix_of_sibling(db, cfg, name, (dn.kind, dn.slot), data)
        if same:
            spans = [(0, len(data), "duplicate", same[0], "identical delivery")]
        elif sib is not None and sib[0] == "whole":
            spans = [(0, len(data), "duplicate", sib[1], "prefix of a re-delivery")]
        elif sib is not None:
            spans = [(0, sib[2], "duplicate", sib[1], "already ingested from this slot")]
            start = sib[2]
            _resolve_pending(db, sib[1], name)
    consumed = len(data)
    n_frames = 0
    if dn is not None and (not spans or start > 0):
        split = split_delivery(dn.kind, data[start:], base=start)
        spans += _classify(db, dn.kind, dn.slot, name, split.frames, rs)
        spans += reject_spans(split.rejects)
        n_frames = len(split.frames)
        if split.pending is not None:
            spans.append((*split.pending, "pending", "", "frame cut by the end of the delivery"))
            consumed = split.pending[0]
    tot = write_spans(db, name, spans)
    first = (rec["first_run"], rec["first_ingest"]) if rec else (rs.run, rs.now)
    frames_before = rec["frames"] if rec else 0
    db.execute("INSERT OR REPLACE INTO deliveries VALUES "
               "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
               (name, dn.kind if dn else "", dn.slot if dn else "", dn.revision if dn else 0,
                len(data), st.st_mtime_ns, sha, consumed,
                sha if consumed == len(data) else _sha(memoryview(data)[:consumed]),
                first[0], rs.run, first[1], rs.now, frames_before + n_frames, tot["routed"],
                tot["duplicate"], tot["rejected"], tot["pending"], note))
    summary = {"name": name, "size": len(data), "read_from": start, "frames": n_frames, **tot,
               "note": note}
    rs.deliveries.append(summary)
    return summary


def expire_pending(db: sqlite3.Connection, now: float, wait_s: float) -> list[str]:
    """Pending tails of deliveries older than ``wait_s`` become rejects; returns their names."""
    names = [r[0] for r in db.execute(
        "SELECT DISTINCT s.name FROM spans s JOIN deliveries d ON d.name=s.name "
        "WHERE s.class='pending' AND ? - d.first_ingest >= ?", (now, wait_s))]
    for name in names:
        db.execute("UPDATE spans SET class='rejected', detail=? WHERE name=? AND class='pending'",
                   ("truncated delivery: no re-delivery within the wait", name))
        tot = class_totals(db, name)
        db.execute("UPDATE deliveries SET rejected=?, pending=? WHERE name=?",
                   (tot["rejected"], tot["pending"], name))
    return names


def delivery_files(downlink: Path) -> list[Path]:
    """Files waiting in the downlink folder (hidden and *.part/*.tmp files are being written)."""
    if not downlink.is_dir():
        raise FileNotFoundError(f"downlink folder {downlink} does not exist")
    return sorted(p for p in downlink.iterdir() if p.is_file() and not p.name.startswith(".")
                  and not p.name.endswith((".part", ".tmp")))


def ingest(cfg: IngestConfig, now: float | None = None, reprocess: Collection[str] = ()
           ) -> dict[str, Any]:
    """One ingest run over ``cfg.downlink``; returns the run report (also in the ledger).

    ``now`` (s since the epoch, default the wall clock) is the clock for the waits;
    ``reprocess`` lists observation ids (or "all") to hand to the workflow again.
    """
    root = Path(cfg.root)
    with _locked(root):
        db = open_ledger(root)
        try:
            t_start = time.time()
            now = t_start if now is None else float(now)
            run = int(db.execute("SELECT COALESCE(MAX(run), 0) + 1 FROM runs").fetchone()[0])
            rs = RunState(run, now)
            for path in delivery_files(Path(cfg.downlink)):
                ingest_file(db, cfg, path, rs)
                flush_science(root, rs)
            expired = expire_pending(db, now, cfg.wait_s)
            obs_report = update_observations(db, cfg, rs, reprocess)
            sheet = write_sheet(db, cfg)
            acc = accounting(db)
            new = {k: sum(d[k] for d in rs.deliveries) for k in ("routed", "duplicate",
                                                                 "rejected", "pending")}
            db.execute("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                       (run, t_start, time.time(), now, len(rs.deliveries),
                        sum(d["size"] - d["read_from"] for d in rs.deliveries), new["routed"],
                        new["duplicate"], new["rejected"], new["pending"],
                        ",".join(obs_report["changed"]), ",".join(sheet)))
            db.commit()
        finally:
            db.close()
    return {"run": run, "deliveries": rs.deliveries, "expired_pending": expired,
            "new": new, "accounting": acc, "sheet": sheet, **obs_report}
