"""Stage 4: level-0 DN framelets -> level-1 I/F framelets (float32 DAT + PDS4 label) and one
JPG quick-look per image and filter of the non-projected swath.

Per exposure the straylight is fitted on the control windows (filter ``CTL``) that were
decoded, then every colour window is calibrated with ``cassis_pipe.calibrate``. Products get
the PSA calibrated name (``cas_cal_sc_...``); the calibration version and files are recorded in
every label. Saturated pixels are counted per framelet in the stage JSON and the label.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe import __version__
from cassis_pipe.calibrate import (
    CalSet,
    calibrate_framelet,
    calibrate_framelets,
    load_calset,
)
from cassis_pipe.calibrate import straylight_from_controls as fit_controls
from cassis_pipe.calibrate.calfiles import CalibrationFileError
from cassis_pipe.calibrate.pipeline import WindowFields, window_fields
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.constants import AU_KM, DEFAULT_LSK, DEFAULT_SCLK, FILTER_ORDER
from cassis_pipe.instrument.detector import Window
from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.level0.pseudo import predict_packets
from cassis_pipe.level0.report import stage_check
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.metadata import (
    FLOAT32_MISSING,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
)
from cassis_pipe.products.pds4 import read_product, write_product
from cassis_pipe.stages._io import (
    PipelineError,
    check_observation,
    check_problems,
    file_count_check,
    framelet_list,
    iso_utc,
    key_dict,
    no_science_cause,
    parse_utc,
    product_name,
    read_json,
    read_plan,
    stray_files,
    write_json,
)
from cassis_pipe.stages.quicklook import write_quicklooks
from cassis_pipe.stages.records import Level0Record, Level1Record

#: 1 AU in km (IAU 2012).


def heliocentric_au(geometry_dir: str | Path, uid: int) -> float | None:
    """Mean Sun distance (AU) of the ISD ``<observation id>.json`` of ``uid``; None if absent."""
    path = Path(geometry_dir) / f"{observation_id_string(uid)}.json"
    if not path.is_file():
        return None
    pos = read_isd(path).sun_position.positions
    return float(np.mean(np.linalg.norm(pos, axis=1)) / AU_KM)


def _window(rec: dict[str, Any]) -> Window:
    w = rec["detector_window"]
    if w is None:
        raise ValueError("no commanded window")
    return Window.from_extent(w["row0"], w["col0"], w["rows"], w["cols"], filter=rec["filter"],
                              binning=rec["bin_factor"])


def _calibration_record(cal_dir: Path, calset: CalSet) -> tuple[tuple[str, ...], tuple]:
    manifest = read_json(cal_dir / "manifest.json")
    files = manifest.get("files", {})
    names = tuple(f"{calset.version}/{v['file']}" for _, v in sorted(files.items()))
    sums = tuple((f"sha256_{k}", str(v.get("sha256", ""))) for k, v in sorted(files.items()))
    return names, sums


def _meta(rec: dict[str, Any], stats: dict[str, Any], stem: str, calset: CalSet,
          cal_files: tuple[str, ...], cal_sums: tuple, raw_lid: str,
          expand: str | None) -> ProductMeta:
    def f(x: Any) -> str:
        return f"{x:.9g}" if isinstance(x, float) else str(x)

    params = (("calibration_version", calset.version),
              ("heliocentric_distance_au", f(stats["r_h_au"])),
              ("exposure_time_s", f(stats["t_exp_s"])), ("k", f(stats["k"])),
              ("iof_per_dn", f(stats["iof_per_dn"])),
              ("saturated_pixels", f(stats["saturated_px"])),
              ("bad_pixels_replaced", f(stats["bad_px"])),
              ("unfilled_pixels", f(stats["unfilled_px"])),
              ("straylight_order", f(stats.get("straylight_order"))),
              ("straylight_mean_dn", f(stats.get("straylight_mean_dn"))),
              ("onboard_binning_factor", f(rec["bin_factor"])),
              ("binned_expansion", str(expand) if rec["bin_factor"] > 1 else "none"),
              *cal_sums)
    stop = parse_utc(rec["start_utc"]) + timedelta(seconds=rec["t_exp_s"] or 0.0)
    return ProductMeta(
        name=stem, level="calibrated", start_utc=rec["start_utc"],
        stop_utc=iso_utc(stop),
        modification_date=rec["start_utc"][:10],
        title=f"CaSSIS level-1 framelet {rec['filter']} exposure {rec['sequence']}",
        filter_name=rec["filter"], exposure_duration_s=rec["t_exp_s"] or None, unit="I/F",
        description="Radiometrically calibrated I/F of one window of one exposure: bias, flat, "
                    "straylight (control windows), bad pixels, K r_h^2 / t_exp.",
        special=SpecialConstants(missing=FLOAT32_MISSING),
        processing=ProcessingRecord(
            software_version=__version__,
            description="cassis-pipe level 1: radiometric calibration",
            calibration_files=cal_files, parameters=params, input_products=(raw_lid,)))


def _camera_windows(records: list[Level0Record],
                    swaths: dict[tuple[int, str], dict[int, np.ndarray]]
                    ) -> dict[tuple[int, str], Window]:
    """Detector window of each (uid, filter) swath, binned as its level-1 images are."""
    out: dict[tuple[int, str], Window] = {}
    for r in records:
        key = (r.uid, r.filter)
        if key in swaths and key not in out and r.detector_window is not None:
            shape = next(iter(swaths[key].values())).shape
            w = r.detector_window
            out[key] = w.window(r.filter, 1 if shape == (w.rows, w.cols) else r.bin_factor)
    return out


def _group(products: list[dict[str, Any]]) -> dict[tuple[int, int], list[dict[str, Any]]]:
    groups: dict[tuple[int, int], list[dict[str, Any]]] = {}
    for rec in products:
        groups.setdefault((rec["uid"], rec["sequence"]), []).append(rec)
    return dict(sorted(groups.items()))


def _straylight(controls: list[tuple[np.ndarray, Window]], calset: CalSet, order: int,
                fields: dict[Window, WindowFields]) -> tuple[Any, str]:
    if not controls:
        return None, "not removed: no control window decoded for this exposure"
    try:
        return (fit_controls(controls, calset, order, fields=fields),
                f"fitted on {len(controls)} control windows")
    except (ValueError, np.linalg.LinAlgError) as exc:
        return None, f"not removed: fit failed ({exc})"


@dataclass
class _Job:
    """One colour framelet to calibrate (``error`` set: not calibrated, with the reason)."""

    rec: dict[str, Any]
    dn: np.ndarray | None
    window: Window | None
    model: Any
    stray_note: str
    r_h_au: float | None
    error: str | None


def _ident(rec: dict[str, Any]) -> dict[str, Any]:
    return {**key_dict((rec["uid"], rec["window"], rec["sequence"])), "filter": rec["filter"]}


def _calibrate_window(jobs: list[_Job], window: Window, calset: CalSet, fields: WindowFields,
                      threads: int | None, expand: str | None
                      ) -> list[tuple[np.ndarray, dict[str, Any]] | str]:
    """Calibrate the framelets of one window as one stack (each framelet's own t_exp, r_h and
    straylight model); if the stack fails, framelet by framelet so that each error is
    reported against its framelet. Per framelet (I/F, stats) or the error message."""
    kw: dict[str, Any] = {"threads": threads, "expand_mode": expand, "fields": fields}
    try:
        stack = np.stack([j.dn for j in jobs])
        iof, _, stats = calibrate_framelets(
            stack, window, calset, [j.rec["t_exp_s"] for j in jobs],
            [j.r_h_au for j in jobs], straylight=[j.model for j in jobs], **kw)
        return list(zip(iof, stats, strict=True))
    except ValueError:
        pass
    out: list[tuple[np.ndarray, dict[str, Any]] | str] = []
    for j in jobs:
        try:
            iof1, _, st1 = calibrate_framelet(j.dn, window, calset, j.rec["t_exp_s"], j.r_h_au,
                                              straylight=j.model, **kw)
            out.append((iof1, st1))
        except ValueError as exc:
            out.append(str(exc))
    return out


def run_calibrate(level0_json: str | Path, level0_dir: str | Path, plan_json: str | Path,
                  calibration_dir: str | Path, products_dir: str | Path,
                  quicklook_dir: str | Path, stage_json: str | Path, *,
                  calibration_version: str | None = None, geometry_dir: str | Path | None = None,
                  r_h_au: float | None = None, straylight_order: int = 1,
                  threads: int | None = None, quicklook_max_side: int = 1024,
                  expand_binned: str | None = "bilinear", observation_id: str | None = None,
                  colour_filters: Collection[str] = FILTER_ORDER,
                  sclk: str | Path = DEFAULT_SCLK, lsk: str | Path = DEFAULT_LSK
                  ) -> dict[str, Any]:
    """Calibrate every colour framelet of the observation listed in the level-0 stage JSON.

    ``plan_json`` is the command plan of the validate stage. ``observation_id`` (the rule's
    wildcard) selects the observation's image when tc.bin commands several (a stereo pair);
    framelets of other images are left to their own observation. Without it, every image.

    ``calibration_dir`` is the version directory (or its parent with ``calibration_version``);
    r_h comes from the ISD in ``geometry_dir`` (``<observation id>.json``), else ``r_h_au``.
    2 x 2 binned windows are expanded to full resolution with ``expand_binned`` ("bilinear" as
    the Bern level-1b files, "replicate", or None to keep them binned). ``sclk``/``lsk``: the
    clock kernels that time the exposures for the quick-looks' geometric placement.
    Returns (and writes to ``stage_json``) the stage JSON.
    """
    l0 = read_json(level0_json)
    plan = read_plan(plan_json)
    records = [Level0Record.from_dict(r, f"{level0_json} product {i}")
               for i, r in enumerate(l0["products"])]
    if observation_id is not None:
        check_observation(observation_id, [r.uid for r in records], str(level0_json))
        plan = replace(plan, images=[im for im in plan.images
                                     if observation_id_string(im.uid) == observation_id])
        l0 = {**l0, "products": [r.to_dict() for r in records
                                 if r.observation_id == observation_id]}
    packets = predict_packets(plan, raw_ratio_ids=())
    try:
        calset = load_calset(calibration_dir, calibration_version)
    except CalibrationFileError as exc:
        raise PipelineError(f"calibration files: {exc}") from exc
    cal_dir = Path(calibration_dir)
    if not (cal_dir / "manifest.json").is_file():
        cal_dir = cal_dir / calset.version
    cal_files, cal_sums = _calibration_record(cal_dir, calset)
    out = Path(products_dir)
    out.mkdir(parents=True, exist_ok=True)
    rh: dict[int, float | None] = {}
    products: list[dict[str, Any]] = []
    not_produced: list[dict[str, Any]] = []
    written: set[str] = set()
    swaths: dict[tuple[int, str], dict[int, np.ndarray]] = {}
    # bias / flat / bad-pixel cut-outs per window, computed once for all exposures
    fields: dict[Window, WindowFields] = {}
    # pass 1, per exposure: read the windows, fit the straylight on the control windows
    jobs: list[_Job] = []
    for (uid, _seq), recs in _group(l0["products"]).items():
        if uid not in rh:
            rh[uid] = heliocentric_au(geometry_dir, uid) if geometry_dir else None
            if rh[uid] is None:
                rh[uid] = r_h_au
        data: list[tuple[dict[str, Any], np.ndarray, Window | None, str | None]] = []
        for rec in recs:
            try:
                dn = read_product(Path(level0_dir) / f"{rec['product']}.xml")
                data.append((rec, dn, _window(rec), None))
            except (ProductError, ValueError, OSError) as exc:
                data.append((rec, None, None, str(exc)))
        for _, _, win, err in data:
            if err is None and win not in fields:
                fields[win] = window_fields(win, calset)
        controls = [(dn, win) for rec, dn, win, err in data
                    if err is None and rec["filter"] not in colour_filters]
        model, stray_note = _straylight(controls, calset, straylight_order, fields)
        for rec, dn, win, err in data:
            if rec["filter"] not in colour_filters:
                continue
            if err is None and rh[uid] is None:
                err = "no heliocentric distance (no ISD and no r_h_au)"
            if err is None and not rec["t_exp_s"]:
                err = "no exposure time in the command plan"
            jobs.append(_Job(rec, dn, win, model, stray_note, rh[uid], err))
    # pass 2: every window's framelets calibrated as one stack (per-framelet results are those
    # of single calls); products written by a background thread while the next window is
    # calibrated; outcomes kept in input order, so the stage JSON does not depend on timing
    outcomes: list[tuple[dict[str, Any], Future | None, tuple | None]] = [
        ({**_ident(j.rec), "error": j.error}, None, None) for j in jobs]
    by_window: dict[Window, list[int]] = {}
    for i, j in enumerate(jobs):
        if j.error is None:
            by_window.setdefault(j.window, []).append(i)
    with ThreadPoolExecutor(max_workers=1) as writer:
        for win, idx in by_window.items():
            results = _calibrate_window([jobs[i] for i in idx], win, calset, fields[win],
                                        threads, expand_binned)
            for i, res in zip(idx, results, strict=True):
                rec = jobs[i].rec
                ident = _ident(rec)
                try:
                    if isinstance(res, str):
                        raise ValueError(res)
                    iof, stats = res
                    key = (rec["uid"], rec["window"], rec["sequence"])
                    stem = product_name("cal", key, rec["filter"], parse_utc(rec["start_utc"]),
                                        rec["t_exp_s"], rec["image_index"]).file_stem()
                    raw_lid = f"urn:esa:psa:em16_tgo_cas:data_raw:{rec['product'].lower()}"
                    meta = _meta(rec, stats, stem, calset, cal_files, cal_sums, raw_lid,
                                 expand_binned)
                    arr = np.where(np.isfinite(iof), iof,
                                   np.float32(FLOAT32_MISSING)).astype(np.float32, copy=False)
                except (ProductError, ValueError) as exc:
                    outcomes[i] = ({**ident, "error": str(exc)}, None, None)
                    continue
                outcomes[i] = (ident, writer.submit(write_product, out, meta, arr),
                               (stem, (rec["uid"], rec["filter"]), rec["sequence"], iof,
                                Level1Record(rec["uid"], rec["window"], rec["sequence"],
                                             rec["filter"], stem, jobs[i].stray_note,
                                             stats["saturated_px"], stats).to_dict()))
    for ident, fut, ok in outcomes:
        if fut is None or ok is None:
            not_produced.append(ident)
            continue
        try:
            fut.result()
        except (ProductError, ValueError) as exc:
            not_produced.append({**ident, "error": str(exc)})
            continue
        stem, swath_key, seq, iof, entry = ok
        written.update((f"{stem}.dat", f"{stem}.xml"))
        swaths.setdefault(swath_key, {})[seq] = iof
        products.append(entry)
    files = file_count_check("level1_products", packets, out, colour_filters)
    ql, ql_order, ql_layout = write_quicklooks(
        quicklook_dir, plan, swaths, colour_filters, quicklook_max_side, geometry_dir,
        workers=max(1, threads or 1), windows=_camera_windows(records, swaths), sclk=sclk,
        lsk=lsk)
    expected_ql = [f"{observation_id_string(im.uid)}_{f}.jpg" for im in plan.images
                   for f in sorted({w.filter for w in im.windows} & set(colour_filters))]
    ql_check = {"stage": "quicklooks", "expected": len(expected_ql), "produced": len(ql),
                "missing": sorted(set(expected_ql) - set(ql)), "ok": set(ql) == set(expected_ql)}
    saturation = [{k: p[k] for k in ("uid", "window", "sequence", "filter", "saturated_px")}
                  for p in products if p["saturated_px"]]
    problems = check_problems([files, ql_check])
    if not_produced:
        problems.append(f"{len(not_produced)} framelet(s) not calibrated: "
                        f"{framelet_list(not_produced)} ({not_produced[0].get('error')})")
    if not products:
        problems.insert(0, f"observation {observation_id or 'of the plan'} has no valid science "
                           f"data: {no_science_cause(str(observation_id), l0)}")
    stage = {
        "stage": "calibrate",
        "ok": bool(files["ok"] and ql_check["ok"] and not problems),
        "calibration": {"version": calset.version, "files": list(cal_files),
                        "defaults_used": list(calset.defaults_used)},
        "heliocentric_au": {str(k): v for k, v in sorted(rh.items())},
        "file_counts": {"ok": files["ok"] and ql_check["ok"], "stages": [
            stage_check("level0_input", packets, [(p["uid"], p["window"], p["sequence"])
                                                  for p in l0["products"]
                                                  if p["filter"] in colour_filters],
                        colour_filters),
            files, ql_check]},
        "saturated_framelets": saturation,
        "not_produced": not_produced,
        "stray_files": stray_files(out, written),
        "quicklooks": ql,
        "quicklook_order": ql_order,
        "quicklook_layout": ql_layout,
        "products": products,
        "problems": problems,
    }
    write_json(stage_json, stage)
    return stage
