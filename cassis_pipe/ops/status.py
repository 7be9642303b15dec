"""Read-only status of every observation from its stage JSONs, and the ingest deliveries.

An observation is a folder ``<results_dir>/<observation id>/`` holding at least one stage
JSON. Each stage is ``ok``, ``problems`` (its ``ok`` is false), ``pending`` (no JSON yet) or
``unreadable``. Nothing here writes a file.
"""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path
from typing import Any

from cassis_pipe.ops.ledger import latest_deliveries

#: (stage, JSON path under the observation folder), in pipeline order.
STAGES: tuple[tuple[str, str], ...] = (
    ("validation", "validation/validate.json"),
    ("level0", "level0/level0.json"),
    ("level1", "level1/calibrate.json"),
    ("summary", "summary.json"),
    ("rotation", "level2/rotation.json"),
    ("stitch", "level1c/stitch.json"),
    ("map", "level2/map.json"),
    ("accuracy", "level2/accuracy.json"),
)
OBS_RE = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _stage_state(path: Path) -> tuple[str, dict[str, Any] | None]:
    if not path.is_file():
        return "pending", None
    data = _read(path)
    if data is None:
        return "unreadable", None
    return ("problems" if data.get("ok") is False else "ok"), data


def observation_status(obs_dir: Path) -> dict[str, Any]:
    """Status of one observation folder (see module doc)."""
    stages, docs = {}, {}
    for name, rel in STAGES:
        stages[name], docs[name] = _stage_state(obs_dir / rel)
    summary = docs["summary"] or {}
    rotation = docs["rotation"] or {}
    mapped = docs["map"] or {}
    mis = mapped.get("band_misregistration_px") or {}
    states = set(stages.values())
    overall = ("problems" if states & {"problems", "unreadable"} else
               "in progress" if "pending" in states else "ok")
    return {
        "observation_id": obs_dir.name,
        "status": overall,
        "stages": stages,
        "validation_problems": (summary.get("validation") or {}).get("problems", {}),
        "counts": [{k: r.get(k) for k in ("stage", "expected", "produced", "ok")}
                   for r in summary.get("stages", []) if isinstance(r, dict)],
        "rotation_offset_deg": rotation.get("offset_deg"),
        "misregistration_px": {"max": mis.get("max"),
                               "bands": {b: v.get("magnitude") for b, v in
                                         (mis.get("bands") or {}).items()
                                         if isinstance(v, dict)}},
        "quicklooks": sorted(p.name for p in (obs_dir / "level1" / "quicklook").glob("*.jpg")),
    }


def observations(results_dir: str | Path) -> list[dict[str, Any]]:
    """Status of every observation folder under ``results_dir`` (sorted by id)."""
    root = Path(results_dir)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if d.is_dir() and OBS_RE.match(d.name) and any((d / rel).is_file() for _, rel in STAGES):
            out.append(observation_status(d))
    return out


def quicklook_path(results_dir: str | Path, obs: str, name: str) -> Path | None:
    """The quick-look ``name`` of observation ``obs`` if both names are plain and it exists
    (no path separators or ``..`` can reach outside ``results_dir``)."""
    if not (OBS_RE.match(obs) and OBS_RE.match(name)) or ".." in obs or ".." in name:
        return None
    if not name.endswith(".jpg"):
        return None
    p = Path(results_dir) / obs / "level1" / "quicklook" / name
    return p if p.is_file() else None


def read_deliveries(state_path: str | Path | None) -> list[dict[str, Any]]:
    """Deliveries listed in the downlink-ingest state; [] when absent or unreadable.

    The one place that knows the ingest state format: the ingest ledger (``ingest.sqlite`` of
    the ingest root, read-only, its latest deliveries), or a JSON report: a list of delivery
    records, or an object holding such a list under ``deliveries`` (or a mapping name ->
    record). Each record is shown as-is (flat values only).
    """
    if state_path is None:
        return []
    path = Path(state_path)
    if path.suffix == ".sqlite":
        if not path.is_file():
            return []
        try:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10.0)
            try:
                return latest_deliveries(db)
            finally:
                db.close()
        except sqlite3.Error:
            return []
    data: Any = None
    try:
        data = json.loads(Path(state_path).read_text())
    except (OSError, ValueError):
        return []
    if isinstance(data, dict):
        data = data.get("deliveries", data)
    if isinstance(data, dict):
        data = [dict(v, name=k) if isinstance(v, dict) else {"name": k, "value": v}
                for k, v in data.items()]
    if not isinstance(data, list):
        return []
    return [{k: v for k, v in r.items() if isinstance(v, str | int | float | bool) or v is None}
            for r in data if isinstance(r, dict)]
