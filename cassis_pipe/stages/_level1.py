"""Level-1 input of the level-2 stages: the calibrated framelets of one observation on disk
(``level0.json`` records + ``calibrate.json`` products + PDS4 I/F products), each with its
camera from the observation's ISD at the COMMANDED rotation angle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.constants import DEFAULT_LSK, DEFAULT_SCLK
from cassis_pipe.instrument.detector import Window
from cassis_pipe.model import Framelet, valid
from cassis_pipe.products.pds4 import read_product
from cassis_pipe.stages._io import (
    PipelineError,
    check_observation,
    framelet_list,
    no_science_cause,
    read_json,
)
from cassis_pipe.stages.records import Level0Record, Level1Record
from cassis_pipe.telemetry.timecode import timecode_to_et


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.rstrip("Z"))


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def _window(rec: Level0Record, shape: tuple[int, int]) -> Window:
    """Detector window of a level-1 image; a binned window expanded to full resolution by the
    level-1 stage is described unbinned (same detector extent)."""
    w = rec.detector_window
    if w is None:
        raise PipelineError(f"framelet {rec.uid}/{rec.sequence}: no commanded window")
    binning = 1 if tuple(shape) == (w.rows, w.cols) else rec.bin_factor
    return w.window(rec.filter, binning)


def level1_records(observation_id: str, level0_json: str | Path, calibrate_json: str | Path
                   ) -> list[tuple[Level0Record, Level1Record]]:
    """(level-0, level-1) record pairs of ``observation_id``'s calibrated framelets, in the
    calibrate stage's order. Data of another observation are refused with one line naming both
    ids; an observation without any calibrated framelet is refused with the cause."""
    l0 = read_json(level0_json)
    cal = read_json(calibrate_json)
    recs0 = {r.key: r for r in (Level0Record.from_dict(d, f"{level0_json} product {i}")
                                for i, d in enumerate(l0["products"]))}
    recs1 = [Level1Record.from_dict(d, f"{calibrate_json} product {i}")
             for i, d in enumerate(cal["products"])]
    pairs = [(recs0[p.key], p) for p in recs1 if p.key in recs0]
    check_observation(observation_id, [r.uid for r, _ in pairs] or [r.uid for r in recs0.values()],
                      f"{level0_json}")
    pairs = [(r, p) for r, p in pairs if r.observation_id == observation_id]
    if not pairs:
        raise PipelineError(
            f"observation {observation_id} has no valid science data: "
            f"{no_science_cause(observation_id, l0)}; level 0 produced {len(recs0)} "
            f"framelet(s), calibration {len(recs1)} (see its summary.txt)")
    return pairs


def load_level1(observation_id: str, level0_json: str | Path, calibrate_json: str | Path,
                level1_dir: str | Path, isd_path: str | Path, *,
                sclk: str | Path = DEFAULT_SCLK, lsk: str | Path = DEFAULT_LSK
                ) -> tuple[list[Framelet], dict[str, Any]]:
    """Level-1 framelets of ``observation_id`` (the rule's wildcard), each with its camera (the
    geometry stage's ISD ``isd_path``, exposure ET from the framelet's time code, commanded
    angle). Returns (framelets, info: observation_id, uid, start/stop UTC, t_exp, commanded
    angle, input LIDs); the labels name the geometry's sources from the geometry stage JSON."""
    recs = level1_records(observation_id, level0_json, calibrate_json)
    try:
        isd = read_isd(isd_path)
    except (OSError, ValueError, KeyError) as exc:
        raise PipelineError(f"cannot read ISD {isd_path}: {exc}") from exc
    out = []
    for r, p in sorted(recs, key=lambda rp: (rp[0].sequence, rp[0].window)):
        img = read_product(Path(level1_dir) / f"{p.product}.xml")
        # image time: mid-exposure (start + t_exp / 2), the ISIS/ale convention of the ISD
        et = timecode_to_et(bytes.fromhex(r.exposure_timecode), sclk, lsk) + (r.t_exp_s or 0) / 2
        cam = FrameCamera.from_isd(isd, window=_window(r, img.shape), et=et)
        out.append(Framelet(r.filter, r.sequence, img, cam))
    starts = sorted(_utc(r.start_utc) for r, _ in recs if r.start_utc)
    t_exp = float(recs[0][0].t_exp_s or 0.0)
    info = {"observation_id": observation_id, "uid": recs[0][0].uid,
            "missing_framelets": missing_framelets(calibrate_json),
            "start_utc": _iso(starts[0]),
            "stop_utc": _iso(starts[-1] + timedelta(seconds=t_exp)),
            "t_exp_s": t_exp or None,
            "commanded_angle_deg": recs[0][0].commanded_angle_deg,
            "input_lids": [f"urn:esa:psa:em16_tgo_cas:data_calibrated:{p.product.lower()}"
                           for _, p in recs]}
    return out, info


def missing_framelets(calibrate_json: str | Path) -> list[dict[str, Any]]:
    """Colour framelets of the command plan without a level-1 product (the calibrate stage's
    ``level1_products`` check: uid, window, sequence, filter): they reach no level-1c strip
    and no level-2 mosaic."""
    for c in read_json(calibrate_json).get("file_counts", {}).get("stages", []):
        if c.get("stage") == "level1_products":
            return [dict(m) for m in c.get("missing", [])]
    return []


def report_missing(stage: dict[str, Any], missing: list[dict[str, Any]], where: str) -> None:
    """Name, in a level-2 stage JSON, the plan's framelets that did not reach ``where``
    (``missing_framelets``, per filter under ``filters`` when present, one ``problems``
    line); a missing framelet makes the stage not ok."""
    stage["missing_framelets"] = missing
    for name, f in (stage.get("filters") or {}).items():
        if isinstance(f, dict):
            f["missing_framelets"] = [m for m in missing if m.get("filter") == name]
    problems = list(stage.get("problems", []))
    if missing:
        problems.append(f"{len(missing)} framelet(s) of the command plan not in the {where}: "
                        f"{framelet_list(missing, 8)}")
    missing_filters = (stage.get("counts") or {}).get("missing") or []
    if missing_filters and isinstance(missing_filters[0], str):
        problems.append(f"missing {where} output(s): {', '.join(missing_filters[:6])}")
    stage["problems"] = problems
    stage["ok"] = bool(stage.get("ok")) and not problems


def register_framelets(framelets: Sequence[Framelet]) -> list[Framelet]:
    """Level-1 framelets as register framelets (invalid pixels NaN, float64)."""
    out = []
    for f in sorted(framelets, key=lambda f: (f.exposure, f.filter)):
        img = np.asarray(f.image, dtype=np.float64)
        out.append(Framelet(f.filter, int(f.exposure), np.where(valid(img), img, np.nan),
                            f.camera))
    return out


def rule_level1(sm: Any) -> tuple[list[Framelet], dict[str, Any]]:
    """:func:`load_level1` with the inputs every level-2 rule declares (``level0``,
    ``calibrate``, ``level1_dir``, ``isd``; params ``sclk``, ``lsk``) and its wildcard."""
    return load_level1(sm.wildcards.obs, sm.input.level0, sm.input.calibrate,
                       sm.input.level1_dir, sm.input.isd, sclk=sm.params.sclk,
                       lsk=sm.params.lsk)
