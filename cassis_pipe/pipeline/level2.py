"""Level-2 stages with their file I/O: level-1 framelets on disk (as written by the level-1
stage: ``level0.json`` records + ``calibrate.json`` products + PDS4 I/F products) -> rotation
offset -> stitched strips -> map products -> accuracy against simulator truth.

Each ``run_*`` function reads its inputs, calls the pure stage in
:mod:`~cassis_pipe.pipeline.rotation`, :mod:`~cassis_pipe.pipeline.mapproducts` or
:mod:`~cassis_pipe.pipeline.accuracy`, writes its outputs and returns (and writes) the stage
JSON.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numba
import numpy as np

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.detector import Window
from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.level0.plan import plan_from_files
from cassis_pipe.mapping.grid import MapGrid
from cassis_pipe.pipeline.accuracy import (
    accuracy,
    band_misregistration,
    largest_measured,
    nan_fill,
)
from cassis_pipe.pipeline.common import write_json
from cassis_pipe.pipeline.mapproducts import FILTER_ORDER, Level1Framelet, map_observation
from cassis_pipe.pipeline.rotation import rotation_stage, stitch_stage
from cassis_pipe.products.pds4 import read_product
from cassis_pipe.telemetry.timecode import timecode_to_et

KERNELS_DIR = Path(__file__).resolve().parents[1] / "data" / "kernels"
DEFAULT_SCLK = KERNELS_DIR / "em16_tgo_step_20190823.tsc"
DEFAULT_LSK = KERNELS_DIR / "naif0012.tls"


class Level2Error(RuntimeError):
    """A level-2 stage cannot run at all (missing or unreadable input)."""


def _read_json(path: str | Path) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise Level2Error(f"cannot read {path}: {exc}") from exc


def _utc(s: str) -> datetime:
    return datetime.fromisoformat(s.rstrip("Z"))


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def _window(rec: dict[str, Any], shape: tuple[int, int]) -> Window:
    """Detector window of a level-1 image; a binned window expanded to full resolution by the
    level-1 stage is described unbinned (same detector extent)."""
    w = rec["detector_window"]
    if w is None:
        raise Level2Error(f"framelet {rec['uid']}/{rec['sequence']}: no commanded window")
    f = int(rec.get("bin_factor") or 1)
    full = (w["rows"], w["cols"])
    binning = 1 if tuple(shape) == full else f
    return Window(rec["filter"], w["row0"], w["row0"] + w["rows"] - 1, w["col0"],
                  w["col0"] + w["cols"] - 1, binning)


def load_level1(level0_json: str | Path, calibrate_json: str | Path, level1_dir: str | Path,
                geometry_dir: str | Path, *, sclk: str | Path = DEFAULT_SCLK,
                lsk: str | Path = DEFAULT_LSK, image_index: int = 0
                ) -> tuple[list[Level1Framelet], dict[str, Any]]:
    """Level-1 framelets of image ``image_index`` of an observation, each with its camera
    (ISD ``geometry_dir/<observation id>.json``, exposure ET from the framelet's time code,
    commanded angle). Returns (framelets, info: observation_id, uid, start/stop UTC, t_exp,
    input LIDs)."""
    l0 = {(r["uid"], r["window"], r["sequence"]): r for r in _read_json(level0_json)["products"]}
    cal = _read_json(calibrate_json)["products"]
    recs = [(l0[(p["uid"], p["window"], p["sequence"])], p) for p in cal
            if (p["uid"], p["window"], p["sequence"]) in l0]
    recs = [(r, p) for r, p in recs if r.get("image_index", 0) == image_index]
    if not recs:
        raise Level2Error(f"no level-1 framelet of image {image_index} in {calibrate_json}")
    uid = int(recs[0][0]["uid"])
    obs = observation_id_string(uid)
    isd_path = Path(geometry_dir) / f"{obs}.json"
    try:
        isd = read_isd(isd_path)
    except (OSError, ValueError, KeyError) as exc:
        raise Level2Error(f"cannot read ISD {isd_path}: {exc}") from exc
    out = []
    for r, p in sorted(recs, key=lambda rp: (rp[0]["sequence"], rp[0]["window"])):
        img = read_product(Path(level1_dir) / f"{p['product']}.xml")
        et = timecode_to_et(bytes.fromhex(r["exposure_timecode"]), sclk, lsk)
        cam = FrameCamera.from_isd(isd, window=_window(r, img.shape), et=et)
        out.append(Level1Framelet(r["filter"], int(r["sequence"]), img, cam))
    starts = sorted(_utc(r["start_utc"]) for r, _ in recs)
    t_exp = float(recs[0][0].get("t_exp_s") or 0.0)
    info = {"observation_id": obs, "uid": uid, "start_utc": _iso(starts[0]),
            "stop_utc": _iso(starts[-1] + timedelta(seconds=t_exp)),
            "t_exp_s": t_exp or None,
            "input_lids": [f"urn:esa:psa:em16_tgo_cas:data_calibrated:{p['product'].lower()}"
                           for _, p in recs]}
    return out, info


def commanded_rotation_deg(tc_path: str | Path, uid: int) -> float:
    """Commanded mechanism angle (deg) of image ``uid`` from the telecommands."""
    for im in plan_from_files(tc_path).images:
        if im.uid == uid and im.position_mdeg is not None:
            return im.position_mdeg / 1000.0
    raise Level2Error(f"no commanded rotation angle for UID {uid} in {tc_path}")


def run_rotation(framelets: list[Level1Framelet], info: dict[str, Any], tc_path: str | Path,
                 history_csv: str | Path, plot_png: str | Path, stage_json: str | Path,
                 **search: Any) -> dict[str, Any]:
    """Rotation-offset stage: search, history row, curve plot, stage JSON."""
    angle = commanded_rotation_deg(tc_path, info["uid"])
    stage = rotation_stage(framelets, info["observation_id"], info["start_utc"], angle,
                           history_csv, plot_png, **search)
    write_json(stage_json, stage)
    return stage


def run_stitch(framelets: list[Level1Framelet], info: dict[str, Any], rotation_json: str | Path,
               out_dir: str | Path, stage_json: str | Path) -> dict[str, Any]:
    """Stitching stage with the offset of ``rotation_json``."""
    offset = float(_read_json(rotation_json)["offset_deg"])
    stage = stitch_stage(framelets, info["observation_id"], info["uid"], offset, out_dir,
                         start_utc=info["start_utc"], stop_utc=info["stop_utc"])
    write_json(stage_json, stage)
    return stage


def run_map(framelets: list[Level1Framelet], info: dict[str, Any], rotation_json: str | Path,
            out_dir: str | Path, stage_json: str | Path, *, pixel_m: float = 4.0,
            expected_filters: tuple[str, ...] = FILTER_ORDER,
            preview_dir: str | Path | None = None) -> dict[str, Any]:
    """Map stage: products of every filter on one grid with the recovered offset; the grid is
    kept in the stage JSON (``grid``) for the accuracy stage; reduced composites for the
    report in ``preview_dir`` if given."""
    offset = float(_read_json(rotation_json)["offset_deg"])
    stage, _, mosaics = map_observation(framelets, info["observation_id"], offset, out_dir,
                                  start_utc=info["start_utc"], stop_utc=info["stop_utc"],
                                  pixel_m=pixel_m, expected_filters=expected_filters,
                                  exposure_duration_s=info.get("t_exp_s"),
                                  input_lids=info.get("input_lids", ()),
                                  preview_dir=preview_dir)
    mis = band_misregistration(mosaics, "PAN") if "PAN" in mosaics else {}
    stage["band_misregistration_px"] = {
        "reference": "PAN", "bands": mis,
        "max": largest_measured(mis.values(), lambda v: v["magnitude"])}
    write_json(stage_json, stage)
    return stage


def run_accuracy(map_json: str | Path, products_dir: str | Path, truth_dir: str | Path,
                 rotation_json: str | Path, out_json: str | Path) -> dict[str, Any]:
    """Accuracy of the map products against the simulator truth (``truth_dir`` = the
    simulator's ``truth/``), written to ``accuracy.json``."""
    m = _read_json(map_json)
    grid = MapGrid.from_dict(m["grid"])
    obs = m["observation_id"]

    def load(f: str) -> np.ndarray:
        arr = read_product(Path(products_dir) / f"{obs}_{f}.xml")     # new float32 array
        return nan_fill(np.ascontiguousarray(arr, dtype=np.float32))

    # file reads and the nogil fill kernel run in numba's thread count of worker threads
    with ThreadPoolExecutor(max_workers=max(1, numba.get_num_threads())) as pool:
        mosaics = dict(zip(m["valid_pixels"], pool.map(load, m["valid_pixels"]), strict=True))
    truth = _read_json(Path(truth_dir) / "truth.json")
    # the map stage measured the band misregistration on the same pixels (the products hold
    # the mosaics exactly): reuse it rather than correlating every band again
    ref = "PAN" if "PAN" in mosaics else next(iter(mosaics), None)
    known = m.get("band_misregistration_px", {})
    mis = known.get("bands") if known.get("reference") == ref else None
    rec = accuracy(mosaics, grid, truth_dir, float(_read_json(rotation_json)["offset_deg"]),
                   float(truth["rotation_offset_deg"]), misregistration=mis)
    rec = {"stage": "accuracy", "observation_id": obs, **rec}
    write_json(out_json, rec)
    return rec
