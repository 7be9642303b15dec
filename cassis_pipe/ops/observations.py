"""Per-observation side of the ingest: write each observation's tc.bin / science.bin / hk.bin
(deterministic order, rewritten only when their bytes change), predict what it still lacks from
its commanded sequence (level-0 validation against the pseudo packets), decide readiness and
write the generated observation sheet."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cassis_pipe.labels.ids import observation_id_to_uid
from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.level0.validate import validate_bytes
from cassis_pipe.ops.delivery import Frame, split_delivery
from cassis_pipe.ops.route import hk_window, route_tc

if TYPE_CHECKING:
    from cassis_pipe.ops.ingest import IngestConfig, RunState

READY, READY_INCOMPLETE, WAITING, NO_COMMAND = "ready", "ready_incomplete", "waiting", "no_command"
READY_STATES = (READY, READY_INCOMPLETE)
SHEET_NAME = "observations.tsv"
RAW_FILES = ("tc.bin", "science.bin", "hk.bin")
#: the files the workflow's rules read (hk.bin is for the operators and the HK tools)
WORKFLOW_INPUTS = ("tc.bin", "science.bin")
#: observation ids the workflow accepts (workflow/schemas/observations.schema.yaml)
WORKFLOW_OBS_RE = re.compile(r"^(MY[0-9]{2}|CRUS)_[0-9]{6}_[0-9]{3}_[0-9]$")


def write_if_changed(path: Path, data: bytes) -> bool:
    """Write ``data`` atomically unless the file already holds exactly it; True if written."""
    if path.is_file() and path.stat().st_size == len(data) and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def merge_science(path: Path, frames: list[Frame]) -> bytes:
    """science.bin bytes: the frames already in ``path`` plus ``frames``, each distinct frame
    once, sorted by :func:`cassis_pipe.ops.delivery.science_key`."""
    old = split_delivery("SCI", path.read_bytes()).frames if path.is_file() else []
    merged = {f.key: f.data for f in old}
    merged.update((f.key, f.data) for f in frames)
    return b"".join(merged[k] for k in sorted(merged))


def flush_science(root: Path, rs: RunState) -> None:
    """Merge the science frames read so far into their observations' science.bin (called
    after every delivery, so memory holds one delivery at a time)."""
    for obs, frames in rs.science.items():
        path = Path(root) / obs / "science.bin"
        if write_if_changed(path, merge_science(path, frames)):
            rs.changed.add(obs)
    rs.science.clear()


def _validate(science: bytes, tc: bytes, cfg: IngestConfig) -> dict[str, Any]:
    """Expected / complete framelets and what is missing, from the commanded sequence."""
    plan = plan_from_tc(tc)
    if not plan.images:
        return {"expected": 0, "complete": 0, "missing": [], "conflicts": 0, "plan": False}
    rep, _, _ = validate_bytes(science, plan, cfg.raw_ratio_ids, None, None,
                               cfg.time_tolerance_s)
    missing = [{**m, "missing": "all"} for m in rep.lists["missing_framelets"]]
    missing += [{k: m[k] for k in ("uid", "window", "sequence", "filter", "missing")}
                for m in rep.lists["incomplete_framelets"]]
    missing.sort(key=lambda m: (m["uid"], m["sequence"], m["window"]))
    c = rep.counts()
    return {"expected": c["expected_framelets"], "complete": c["complete_framelets"],
            "missing": missing, "conflicts": c["conflicting_framelets"], "plan": True}


def _rows(db: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    cur = db.execute("SELECT * FROM observations")
    cols = [c[0] for c in cur.description]
    return {r[0]: dict(zip(cols, r, strict=True)) for r in cur}


def _processed(cfg: IngestConfig, obs_dir: Path, obs: str) -> bool:
    """True when the workflow's summary of ``obs`` is newer than the raw files it reads."""
    if cfg.results_dir is None:
        return False
    summary = Path(cfg.results_dir) / obs / "summary.json"
    if not summary.is_file():
        return False
    newest = max((obs_dir / n).stat().st_mtime for n in WORKFLOW_INPUTS
                 if (obs_dir / n).is_file())
    return summary.stat().st_mtime >= newest


def _status(row: dict[str, Any], v: dict[str, Any], now: float, wait_s: float
            ) -> tuple[str, str]:
    if not v["plan"]:
        return NO_COMMAND, "no take-image command for this UID in the TC history yet"
    n_miss = len(v["missing"])
    if n_miss == 0 and v["expected"] > 0:
        return READY, f"complete: {v['complete']}/{v['expected']} framelets"
    if row.get("status") in READY_STATES or now - row["last_change"] >= wait_s:
        return READY_INCOMPLETE, (f"wait of {wait_s:g} s passed: {v['complete']}/"
                                  f"{v['expected']} framelets complete, {n_miss} missing")
    return WAITING, f"waiting: {v['complete']}/{v['expected']} framelets complete"


def update_observations(db: sqlite3.Connection, cfg: IngestConfig, rs: RunState,
                        reprocess: Collection[str] = ()) -> dict[str, Any]:
    """Write the files of every observation touched by this run and update every state."""
    root = Path(cfg.root)
    flush_science(root, rs)
    changed: set[str] = set(rs.changed)
    known = _rows(db)
    tc_pending = None
    if rs.tc_changed:
        history = [r[0] for r in db.execute("SELECT frame FROM tc ORDER BY slot, file_offset, "
                                            "frame")]
        rt = route_tc(history)
        tc_pending = sum(o is None for o in rt.owner)
        for obs, idx in rt.files.items():
            if write_if_changed(root / obs / "tc.bin", b"".join(history[i] for i in idx)):
                changed.add(obs)
    ready: list[str] = []
    hk_changed: set[str] = set()
    for obs in sorted(set(known) | changed):
        d = root / obs
        row = known.get(obs) or {"obs": obs, "uid": observation_id_to_uid(obs),
                                 "first_seen": rs.now, "processed": 0, "ready_at": None,
                                 "status": None, "reason": None, "missing": "[]"}
        for name in ("science.bin", "tc.bin"):
            if not (d / name).is_file():
                write_if_changed(d / name, b"")
        if obs in changed:
            row["last_change"] = rs.now
            tc = (d / "tc.bin").read_bytes()
            win = hk_window(tc, row["uid"], cfg.hk_margin_s) if tc else None
            row["hk_t0"], row["hk_t1"] = win if win else (None, None)
            v = _validate((d / "science.bin").read_bytes(), tc, cfg)
            row.update(expected=v["expected"], complete=v["complete"],
                       missing=json.dumps(v["missing"]))
        else:
            v = {"plan": row["expected"] is not None and row["status"] != NO_COMMAND,
                 "expected": row["expected"], "complete": row["complete"],
                 "missing": json.loads(row["missing"])}
        t0, t1 = row.get("hk_t0"), row.get("hk_t1")
        if t0 is not None and (obs in changed or any(a <= t1 and b >= t0
                                                     for a, b in rs.hk_ranges)):
            hk = b"".join(r[0] for r in db.execute(
                "SELECT frame FROM hk WHERE ticks BETWEEN ? AND ? ORDER BY ticks, type, frame",
                (t0, t1)))
            if write_if_changed(d / "hk.bin", hk):
                hk_changed.add(obs)
        elif not (d / "hk.bin").is_file():
            write_if_changed(d / "hk.bin", b"")
        if cfg.geometry_dir is not None:
            for src in sorted(Path(cfg.geometry_dir).glob(f"{obs}*.json")):
                write_if_changed(d / "geometry" / src.name, src.read_bytes())
        before = (row["status"], row["reason"])
        row["status"], row["reason"] = _status(row, v, rs.now, cfg.wait_s)
        if row["status"] in READY_STATES:
            row["ready_at"] = row["ready_at"] or rs.now
            if "all" in reprocess or obs in reprocess:
                for n in RAW_FILES:
                    os.utime(d / n)
            ready.append(obs)
        row["processed"] = int(_processed(cfg, d, obs))
        if obs in changed | hk_changed or before != (row["status"], row["reason"]) or \
                obs not in known:
            files = {n: (d / n).read_bytes() for n in RAW_FILES}
            row["science_frames"], row["science_bytes"] = db.execute(
                "SELECT COUNT(*), COALESCE(SUM(length), 0) FROM science WHERE obs=?",
                (obs,)).fetchone()
            row["tc_frames"] = len(files["tc.bin"]) // 64
            row["hk_frames"] = len(files["hk.bin"]) // 64
            write_if_changed(d / "ingest.json", _obs_json(row, files))
        _store(db, row)
    asked = set(reprocess) - {"all"}
    return {"changed": sorted(changed), "hk_changed": sorted(hk_changed), "ready": ready,
            "tc_pending_frames": tc_pending,
            "reprocess_not_ready": sorted(asked - set(ready))}


def _store(db: sqlite3.Connection, row: dict[str, Any]) -> None:
    cols = ("obs", "uid", "status", "reason", "expected", "complete", "missing",
            "science_frames", "science_bytes", "tc_frames", "hk_frames", "hk_t0", "hk_t1",
            "first_seen", "last_change", "ready_at", "processed")
    db.execute(f"INSERT OR REPLACE INTO observations ({','.join(cols)}) VALUES "
               f"({','.join('?' * len(cols))})", tuple(row.get(c) for c in cols))


def _obs_json(row: dict[str, Any], files: dict[str, bytes]) -> bytes:
    """The observation's ingest state (no wall-clock times)."""
    out = {"observation_id": row["obs"], "uid": row["uid"], "status": row["status"],
           "reason": row["reason"], "expected_framelets": row["expected"],
           "complete_framelets": row["complete"], "missing": json.loads(row["missing"]),
           "files": {n: {"bytes": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                     for n, b in files.items()}}
    return (json.dumps(out, indent=1, sort_keys=True) + "\n").encode()


def sheet_rows(db: sqlite3.Connection, cfg: IngestConfig) -> list[dict[str, str]]:
    """Rows of the generated sheet: ready observations not yet processed."""
    rows = []
    for obs, status, reason in db.execute(
            "SELECT obs, status, reason FROM observations WHERE status IN (?, ?) AND "
            "processed=0 ORDER BY obs", READY_STATES):
        if not WORKFLOW_OBS_RE.match(obs):
            continue
        row = {"observation_id": obs, "raw_dir": str(Path(cfg.root) / obs),
               "calibration_version": cfg.calibration_version, "simulate": "false",
               "description": f"ingested downlink, {status}: {reason}"}
        if cfg.calibration_dir:
            row["calibration_dir"] = str(cfg.calibration_dir)
        if cfg.heliocentric_au:
            row["heliocentric_au"] = f"{cfg.heliocentric_au:g}"
        rows.append(row)
    return rows


def write_sheet(db: sqlite3.Connection, cfg: IngestConfig) -> list[str]:
    """Write ``<root>/observations.tsv`` (columns of config/observations.tsv); returns its ids."""
    rows = sheet_rows(db, cfg)
    cols = ["observation_id", "raw_dir", "calibration_version", "simulate", "description"]
    cols += [c for c in ("calibration_dir", "heliocentric_au") if any(c in r for r in rows)]
    lines = ["\t".join(cols)] + ["\t".join(r.get(c, "").replace("\t", " ") for c in cols)
                                 for r in rows]
    write_if_changed(Path(cfg.root) / SHEET_NAME, ("\n".join(lines) + "\n").encode())
    return [r["observation_id"] for r in rows]
