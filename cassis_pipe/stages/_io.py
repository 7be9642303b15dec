"""Shared helpers of the pipeline stages: deterministic JSON, product names and file counts.

Every stage function writes its outputs and returns a JSON-ready dict (the "stage JSON").
Stage JSONs hold no wall-clock times and no absolute paths, so that two runs of the same
inputs give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Collection, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cassis_pipe.labels.ids import uid_to_observation_id
from cassis_pipe.labels.names import PsaFrameletName, parse_psa_framelet_name
from cassis_pipe.level0.plan import CommandPlan
from cassis_pipe.level0.pseudo import Key, PseudoPacket  # noqa: F401 - re-exported
from cassis_pipe.level0.report import stage_check
from cassis_pipe.telemetry.timecode import is_timecode, timecode_to_utc


class PipelineError(RuntimeError):
    """A stage cannot run at all (missing or unreadable input); faults in the data are reported
    in the stage JSON instead."""


def _default(o: Any) -> Any:
    if isinstance(o, bytes):
        return o.hex()
    if isinstance(o, set | frozenset | tuple):
        return sorted(o) if isinstance(o, set | frozenset) else list(o)
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _finite(o: Any) -> Any:
    """NaN/inf -> None so the JSON stays standard."""
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    return o


def json_text(data: Any) -> str:
    """Deterministic JSON text (2-space indent, trailing newline, NaN written as null)."""
    plain = json.loads(json.dumps(data, default=_default))
    return json.dumps(_finite(plain), indent=2, allow_nan=False) + "\n"


def write_json(path: str | Path, data: Any) -> Path:
    """Write ``data`` as deterministic JSON; creates the parent directory."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json_text(data))
    return p


def read_json(path: str | Path) -> Any:
    """Read a JSON file; a missing or broken file raises :class:`PipelineError`."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PipelineError(f"cannot read {path}: {exc}") from exc


def read_input(path: str | Path) -> bytes:
    """Bytes of an input file; a missing file raises :class:`PipelineError`."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise PipelineError(f"cannot read {path}: {exc}") from exc


def timecode_utc(tc: bytes | None, sclk: str | Path, lsk: str | Path) -> datetime | None:
    """UTC (aware datetime) of a CaSSIS time code through the SPICE kernels; None if not a
    valid time code."""
    if tc is None or not is_timecode(tc):
        return None
    text = timecode_to_utc(tc, sclk, lsk)
    return datetime.fromisoformat(text.rstrip("Z")).replace(tzinfo=UTC)


def iso_utc(t: datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SS.ffffffZ``."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def product_name(level: str, key: Key, filter_name: str, start: datetime, t_exp_s: float,
                 image_index: int) -> PsaFrameletName:
    """PSA framelet name of window ``key`` = (uid, window, sequence) (``level`` raw or cal).

    Orbit from the UID; the name's observation number is the 0-based index of the take-image
    in tc.bin (the flown names' number is not derivable from the UID: see docs/stages.md).
    """
    uid, window, sequence = key
    obs = uid_to_observation_id(uid)
    stop = start + timedelta(seconds=t_exp_s)
    return PsaFrameletName(level, start, stop, obs.orbit, image_index, filter_name, uid,
                           sequence, window)


def parse_utc(text: str) -> datetime:
    """Aware datetime of an ISO UTC string (with or without ``Z``)."""
    return datetime.fromisoformat(text.rstrip("Z")).replace(tzinfo=UTC)


def keys_on_disk(directory: str | Path, suffix: str = ".dat") -> list[Key]:
    """Framelet keys (uid, window, sequence) of the PSA-named products in ``directory``.

    Files with a label but no data (or the reverse) do not count: both ``.dat`` and ``.xml``
    must exist. Names that do not parse are ignored here (listed by :func:`stray_files`).
    """
    d = Path(directory)
    keys: list[Key] = []
    if not d.is_dir():
        return keys
    for f in sorted(d.glob(f"*{suffix}")):
        try:
            n = parse_psa_framelet_name(f.name)
        except ValueError:
            continue
        if f.with_suffix(".xml").is_file():
            keys.append((n.uid, n.window_counter, n.sequence_counter))
    return keys


def stray_files(directory: str | Path, names: Collection[str]) -> list[str]:
    """Files in ``directory`` that the stage did not list (left from an older run)."""
    d = Path(directory)
    if not d.is_dir():
        return []
    return sorted(f.name for f in d.iterdir() if f.name not in names)


def file_count_check(stage: str, packets: list[PseudoPacket], directory: str | Path,
                     filters: Collection[str] | None = None) -> dict[str, Any]:
    """Expected products of a stage (command plan) vs the products found on disk."""
    return stage_check(stage, packets, keys_on_disk(directory), filters)


def key_dict(key: Iterable[int]) -> dict[str, int]:
    uid, win, seq = key
    return {"uid": int(uid), "window": int(win), "sequence": int(seq)}


def input_info(path: str | Path, data: bytes) -> dict[str, Any]:
    """Name, size (bytes) and SHA-256 of an input file's bytes."""
    return {"file": Path(path).name, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def plan_summary(plan: CommandPlan, packets: list[PseudoPacket]) -> dict[str, Any]:
    """Counts of the command plan (images, expected framelets per filter, TC issues)."""
    per_filter: dict[str, int] = {}
    for p in packets:
        per_filter[p.filter] = per_filter.get(p.filter, 0) + 1
    return {"images": len(plan.images), "uids": [im.uid for im in plan.images],
            "expected_framelets": len(packets), "expected_per_filter": dict(sorted(
                per_filter.items())), "tc_commands": plan.n_commands,
            "tc_rejects": len(plan.tc_rejects), "truncated": plan_truncation(plan),
            "plan_issues": list(plan.issues)}


def read_plan(path: str | Path) -> CommandPlan:
    """The command plan the validate stage wrote (``plan.json``): tc.bin is parsed once."""
    data = read_json(path)
    try:
        return CommandPlan.from_dict(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise PipelineError(f"{path}: not a command plan written by the validate stage: "
                            f"{exc!r}") from exc


def check_observation(observation_id: str, uids: Iterable[int], source: str) -> None:
    """Refuse data of another observation: ``observation_id`` (the rule's wildcard, from the
    sheet) must be the id of one of ``uids`` (the images in ``source``). Raises
    :class:`PipelineError` with one line naming both ids."""
    found = sorted({str(uid_to_observation_id(int(u))) for u in uids})
    if found and observation_id not in found:
        raise PipelineError(f"observation id mismatch: the sheet's {observation_id} is not in "
                            f"{source}, which holds {', '.join(found)}")


def framelet_list(items: Iterable[dict[str, Any]], limit: int = 4) -> str:
    """``BLU 272536398/3/1, ...`` (filter uid/window/sequence) of stage-check items."""
    items = list(items)
    names = [f"{it['filter'] + ' ' if it.get('filter') else ''}{it['uid']}/{it['window']}/"
             f"{it['sequence']}" for it in items[:limit]]
    more = f" and {len(items) - limit} more" if len(items) > limit else ""
    return ", ".join(names) + more


def check_problems(checks: Iterable[dict[str, Any]]) -> list[str]:
    """One line per file-count check that does not match its plan (``stage_check`` dicts):
    what was produced of what was expected, and the framelets missing, unexpected, repeated."""
    out = []
    for c in checks:
        if c.get("ok", True) or "expected" not in c:
            continue
        got = c["expected"] - len(c.get("missing", []))
        parts = [f"{c['stage']}: {got} of {c['expected']} expected"]
        for what in ("missing", "unexpected", "repeated"):
            items = c.get(what) or []
            if items and isinstance(items[0], dict):
                parts.append(f"{what} {framelet_list(items)}")
            elif items:
                parts.append(f"{what} {', '.join(map(str, items[:4]))}")
        out.append("; ".join(parts))
    return out


def plan_truncation(plan: CommandPlan) -> str | None:
    """``command plan truncated at byte N ...`` when tc.bin ends inside a TC frame (the
    stream reader's final "truncated frame" reject), else None."""
    cut = [r for r in plan.tc_rejects if r.reason == "truncated frame"]
    if not cut:
        return None
    return (f"command plan truncated at byte {cut[-1].offset}: tc.bin ends {cut[-1].length} "
            f"byte(s) into a 64-byte TC frame, the commands after it are lost")


def no_science_cause(observation_id: str, level0: dict[str, Any]) -> str:
    """Why an observation has no valid science data, from its level-0 stage JSON: framelets
    received of those expected, framelets of other observations, what science.bin held."""
    checks = {c.get("stage"): c for c in level0.get("file_counts", {}).get("stages", [])}
    rec = checks.get("received", {})
    expected = int(rec.get("expected", 0))
    parts = [f"{expected - len(rec.get('missing', []))} of {expected} expected framelets "
             "received"]
    foreign: dict[str, int] = {}
    for it in rec.get("unexpected", []):
        other = str(uid_to_observation_id(int(it["uid"])))
        foreign[other] = foreign.get(other, 0) + 1
    own = foreign.pop(observation_id, 0)
    if own:
        parts.append(f"{own} framelet(s) of {observation_id} not in the command plan")
    parts += [f"{n} framelet(s) of another observation ({o})" for o, n in sorted(foreign.items())]
    counts = level0.get("validation_counts", {})
    science = next((i for i in level0.get("inputs", []) if i.get("file") != "plan.json"), {})
    if science.get("bytes") == 0:
        parts.append(f"{science.get('file', 'science.bin')} is empty")
    elif counts.get("frames") == 0:
        parts.append(f"{science.get('file', 'science.bin')} ({science.get('bytes')} bytes) "
                     "holds no valid science frame")
    failed = [p for p in level0.get("not_produced", []) if p.get("status") != "unexpected"
              and str(uid_to_observation_id(int(p["uid"]))) == observation_id]
    if failed:
        parts.append(f"{len(failed)} framelet(s) received but not decoded "
                     f"({', '.join(sorted({str(p.get('status')) for p in failed}))})")
    if expected == 0:
        cut = level0.get("plan", {}).get("truncated")
        parts.append("the command plan expects no framelet" + (f" ({cut})" if cut else ""))
    return "; ".join(parts)
