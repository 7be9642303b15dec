"""Real Bern level-1b framelets (Bern XML header + float32 DAT, values I/F) as level-1 input.

* :func:`level1_record` maps a Bern header onto the level-1 record fields the level-2 stages
  use (the ``level0.json`` record layout of the level-0 stage: key, filter, exposure time
  code, start UTC, exposure time, detector window, binning);
* :func:`assemble_exposure` puts the four filter framelets of one exposure into one
  2048 x 2048 detector frame at their own windows (what ISIS ``tgocassisstitch`` does), NaN
  where no window was read out;
* :func:`write_assembled` writes that frame as a PDS4 calibrated product whose processing
  record carries the Bern label values (exposure, rotation angle, Sun distance, absolute
  calibration factor, windows, source products);
* :func:`write_level1_input` writes every framelet as a PSA-named PDS4 calibrated product with
  the typed level-0 and level-1 records (:mod:`cassis_pipe.stages.records`) of the level-0 and
  calibrate stages, so the level-2 rules read a Bern row as any other
  (:func:`cassis_pipe.stages._level1.load_level1`); the commanded rotation angle is the
  header's.

The Bern headers' array unit "DN" is wrong: the flown values are I/F.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.labels.bern import FrameletLabel, read_bern_label
from cassis_pipe.labels.dat import dat_path_for, read_dat
from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.products.metadata import (
    FLOAT32_MISSING,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
)
from cassis_pipe.products.pds4 import write_product
from cassis_pipe.stages._io import parse_utc, product_name, write_json
from cassis_pipe.stages.records import DetectorWindow, Level0Record, Level1Record

DETECTOR_PX = 2048


class BernInputError(ValueError):
    """A Bern framelet that cannot be used as level-1 input."""


@dataclass(frozen=True, eq=False)
class BernFramelet:
    """One Bern level-1b framelet: its parsed header and I/F image (lines, samples)."""

    label: FrameletLabel
    image: np.ndarray

    @property
    def filter(self) -> str:
        return str(self.label.filter)


def read_bern_framelet(xml_path: str | Path) -> BernFramelet:
    """Read a Bern header and its DAT (float32 I/F)."""
    try:
        label = read_bern_label(xml_path)
        img = read_dat(dat_path_for(xml_path, label), label)
    except (OSError, ValueError) as exc:
        raise BernInputError(f"{xml_path}: {exc}") from exc
    if label.filter is None or label.window is None:
        raise BernInputError(f"{xml_path}: no filter or window in the header")
    return BernFramelet(label, np.asarray(img, dtype=np.float32))


def _iso(t: Any) -> str | None:
    if t is None:
        return None
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def level1_record(fr: BernFramelet) -> dict[str, Any]:
    """The level-1 record of a Bern framelet (field names of the level-0 stage's records)."""
    lb, w = fr.label, fr.label.window
    assert w is not None
    bin_factor = 2 if w.binning == 1 else 1
    return {
        "uid": lb.uid, "window": lb.window_counter, "sequence": lb.sequence_counter,
        "filter": lb.filter, "image_index": 0,
        "exposure_timecode": lb.exposure_timestamp_hex, "start_utc": _iso(lb.acquisition_time),
        "t_exp_s": lb.exposure_time_s, "binning": w.binning, "bin_factor": bin_factor,
        "detector_window": {"row0": w.start_row, "col0": w.start_col, "rows": w.rows,
                            "cols": w.cols},
        "shape": list(fr.image.shape), "expanded": lb.expanded,
        "rotation_deg": lb.rotation_deg, "heliocentric_distance_au": lb.heliocentric_distance_au,
        "absolute_calibration": lb.absolute_calibration,
        "source": Path(lb.source).name,
    }


def assemble_exposure(framelets: Sequence[BernFramelet]
                      ) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """One detector frame (2048 x 2048 float32, NaN outside the windows) from the filter
    framelets of ONE exposure, each placed at its own window's first row/column. A window
    whose image is smaller than its extent (e.g. a cropped file) is placed as far as the image
    goes; one larger than the detector is refused. Returns (frame, placements)."""
    if not framelets:
        raise BernInputError("no framelet to assemble")
    keys = {(f.label.uid, f.label.sequence_counter) for f in framelets}
    if len(keys) != 1:
        raise BernInputError(f"framelets of several exposures: {sorted(keys, key=str)}")
    frame = np.full((DETECTOR_PX, DETECTOR_PX), np.nan, dtype=np.float32)
    placed: list[dict[str, Any]] = []
    for f in sorted(framelets, key=lambda f: f.label.window_counter or 0):
        w = f.label.window
        assert w is not None
        nl, ns = f.image.shape
        if w.start_row + nl > DETECTOR_PX or w.start_col + ns > DETECTOR_PX:
            raise BernInputError(f"{f.filter}: image {f.image.shape} at ({w.start_row}, "
                                 f"{w.start_col}) leaves the detector")
        img = np.where(np.isfinite(f.image) & (f.image > -1e30), f.image, np.nan)
        frame[w.start_row:w.start_row + nl, w.start_col:w.start_col + ns] = img
        placed.append({"filter": f.filter, "row0": w.start_row, "col0": w.start_col,
                       "lines": nl, "samples": ns, "window_rows": w.rows,
                       "window_cols": w.cols, "complete": (nl, ns) == (w.rows, w.cols)})
    return frame, placed


def assembled_name(fr: BernFramelet) -> str:
    """Product name of an assembled exposure: the Bern name with 'FRAME' for the filter."""
    lb = fr.label
    t = lb.acquisition_time
    stamp = t.strftime("%Y-%m-%dt%H.%M.%S.") + f"{t.microsecond // 1000:03d}" if t else "unknown"
    return f"cas-{(lb.mission_phase or 'xxx').lower()}-{stamp}-frame-{lb.sequence_counter:03d}-b1"


def write_assembled(out_dir: str | Path, framelets: Sequence[BernFramelet]
                    ) -> tuple[Path, Path, dict[str, Any]]:
    """Assemble one exposure and write it as a PDS4 ``calibrated`` float32 product (missing =
    lowest float32). The Bern values are carried as processing parameters. Returns
    (dat, xml, stage-style record)."""
    frame, placed = assemble_exposure(framelets)
    ref = sorted(framelets, key=lambda f: f.label.window_counter or 0)[0].label
    start = ref.acquisition_time
    if start is None or ref.exposure_time_s is None:
        raise BernInputError("no acquisition time or exposure time in the header")
    stop = start + timedelta(seconds=ref.exposure_time_s)

    def g(x: Any) -> str:
        return "" if x is None else (f"{x:.9g}" if isinstance(x, float) else str(x))

    params = [("uid", g(ref.uid)), ("sequence_counter", g(ref.sequence_counter)),
              ("exposure_time_s", g(ref.exposure_time_s)), ("rotation_deg", g(ref.rotation_deg)),
              ("heliocentric_distance_au", g(ref.heliocentric_distance_au)),
              ("exposure_timecode", g(ref.exposure_timestamp_hex)),
              ("num_exp", g(ref.num_exp)), ("step_exp_us", g(ref.step_exp_us))]
    for f in sorted(framelets, key=lambda f: f.label.window_counter or 0):
        w = f.label.window
        assert w is not None
        params += [(f"{f.filter}_window_rows", f"{w.start_row}-{w.end_row}"),
                   (f"{f.filter}_window_cols", f"{w.start_col}-{w.end_col}"),
                   (f"{f.filter}_absolute_calibration", g(f.label.absolute_calibration)),
                   (f"{f.filter}_source", Path(f.label.source).name)]
    name = assembled_name(framelets[0])
    meta = ProductMeta(
        name=name, level="calibrated", start_utc=_iso(start) or "", stop_utc=_iso(stop) or "",
        modification_date=start.strftime("%Y-%m-%d"),
        title=f"CaSSIS exposure {ref.sequence_counter} assembled on the detector", unit="I/F",
        exposure_duration_s=ref.exposure_time_s,
        description="Bern level-1b filter framelets of one exposure placed at their detector "
                    "windows (2048 x 2048, missing outside the windows).",
        special=SpecialConstants(missing=FLOAT32_MISSING),
        processing=ProcessingRecord(description="cassis-pipe: Bern level-1b exposure assembly",
                                    parameters=tuple(params)))
    arr = np.where(np.isfinite(frame), frame, np.float32(FLOAT32_MISSING)).astype(np.float32)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    dat, xml = write_product(out, meta, arr)
    return Path(dat), Path(xml), {"product": name, "placements": placed,
                                  "records": [level1_record(f) for f in framelets]}


def _exposure_key(fr: BernFramelet) -> tuple[int, int]:
    return int(fr.label.uid or 0), int(fr.label.sequence_counter or 0)


def assemble_directory(in_dir: str | Path, out_dir: str | Path,
                       observation_id: str | None = None) -> dict[str, Any]:
    """Every Bern level-1b framelet (``*.xml`` + its DAT) of ``in_dir`` as level-1 input: one
    assembled detector-frame product per exposure (UID, sequence counter) in ``out_dir``.

    A file that cannot be read, or whose UID belongs to another observation than
    ``observation_id`` (when given), is rejected with its reason, never dropped silently.
    Returns the stage dict: framelet counts (found, used, rejected), the level-1 records, one
    entry per exposure (product, placements) and expected vs produced product files."""
    src = Path(in_dir)
    xmls = sorted(src.glob("*.xml"))
    used: list[BernFramelet] = []
    rejected: list[dict[str, str]] = []
    for p in xmls:
        try:
            fr = read_bern_framelet(p)
            obs = observation_id_string(int(fr.label.uid or 0))
        except (BernInputError, ValueError) as exc:
            # the reason without the file's path (no absolute path in a stage JSON)
            reason = str(exc).replace(f"{p}: ", "").replace(f"{p.name}: ", "")
            rejected.append({"file": p.name, "reason": reason})
            continue
        if observation_id is not None and obs != observation_id:
            rejected.append({"file": p.name, "reason": f"framelet of observation {obs}"})
            continue
        used.append(fr)
    groups: dict[tuple[int, int], list[BernFramelet]] = {}
    for fr in used:
        groups.setdefault(_exposure_key(fr), []).append(fr)
    exposures: list[dict[str, Any]] = []
    expected: list[str] = []
    assembled = 0
    for key in sorted(groups):
        frs = groups[key]
        name = assembled_name(frs[0])
        expected += [f"{name}.dat", f"{name}.xml"]
        try:
            _, _, rec = write_assembled(out_dir, frs)
        except BernInputError as exc:
            rejected += [{"file": Path(f.label.source).name, "reason": str(exc)} for f in frs]
            continue
        assembled += len(frs)
        exposures.append({"uid": key[0], "sequence": key[1],
                          "filters": sorted(f.filter for f in frs), **rec})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    missing = [n for n in expected if not (out / n).is_file()]
    return {"stage": "bern", "observation_id": observation_id,
            "framelets": {"found": len(xmls), "assembled": assembled,
                          "rejected": len(rejected)},
            "rejected": rejected, "exposures": exposures,
            "counts": {"expected": len(expected), "produced": len(expected) - len(missing),
                       "missing": missing},
            "ok": not missing and not rejected,
            "problems": [f"{r['file']} refused: {r['reason']}" for r in rejected]
            + ([f"{len(missing)} assembled file(s) missing: {', '.join(missing[:4])}"]
               if missing else [])}


def _records(fr: BernFramelet, observation_id: str) -> tuple[Level0Record, Level1Record]:
    """Level-0 and level-1 records of one Bern framelet (its product name from them)."""
    lb, w = fr.label, fr.label.window
    if w is None or lb.acquisition_time is None or lb.exposure_timestamp_hex is None:
        raise BernInputError(f"{Path(lb.source).name}: no window, acquisition time or "
                             "exposure time code in the header")
    bin_factor = 2 if w.binning == 1 else 1
    nl, ns = fr.image.shape
    # a cropped unbinned file is described by the extent it holds (same first row/column)
    full = (nl, ns) in ((w.rows, w.cols), (w.rows // bin_factor, w.cols // bin_factor))
    win = DetectorWindow(w.start_row, w.start_col, w.rows if full else nl, w.cols if full else ns)
    key = (int(lb.uid or 0), int(lb.window_counter or 0), int(lb.sequence_counter or 0))
    name = str(product_name("cal", key, fr.filter, parse_utc(_iso(lb.acquisition_time) or ""),
                            float(lb.exposure_time_s or 0.0), 0))
    r0 = Level0Record(key[0], key[1], key[2], fr.filter, 0, lb.exposure_timestamp_hex.lower(),
                      _iso(lb.acquisition_time), lb.exposure_time_s, int(w.binning), bin_factor,
                      win, [nl, ns], "bern level-1b", product=name,
                      observation_id=observation_id, commanded_angle_deg=lb.rotation_deg)
    r1 = Level1Record(key[0], key[1], key[2], fr.filter, name, "Bern level-1b (calibrated in "
                      "Bern)", 0, {"source": Path(lb.source).name,
                                   "absolute_calibration": lb.absolute_calibration,
                                   "heliocentric_distance_au": lb.heliocentric_distance_au})
    return r0, r1


def write_level1_input(in_dir: str | Path, products_dir: str | Path, level0_json: str | Path,
                       calibrate_json: str | Path, observation_id: str) -> dict[str, int]:
    """Every readable Bern framelet of ``observation_id`` in ``in_dir`` as a PSA-named PDS4
    calibrated product (float32 I/F, missing = lowest float32) in ``products_dir``, with the
    level-0 records (``level0_json``) and level-1 records (``calibrate_json``) the level-2
    stages read. Returns the counts (written)."""
    out = Path(products_dir)
    out.mkdir(parents=True, exist_ok=True)
    recs0, recs1 = [], []
    for p in sorted(Path(in_dir).glob("*.xml")):
        try:
            fr = read_bern_framelet(p)
            if observation_id_string(int(fr.label.uid or 0)) != observation_id:
                continue
            r0, r1 = _records(fr, observation_id)
        except (BernInputError, ValueError):
            continue  # counted and reported by assemble_directory (stage JSON "rejected")
        lb = fr.label
        start = parse_utc(r0.start_utc or "")
        meta = ProductMeta(
            name=r0.product, level="calibrated", start_utc=r0.start_utc or "",
            stop_utc=_iso(start + timedelta(seconds=r0.t_exp_s or 0.0)) or "",
            modification_date=(r0.start_utc or "")[:10], filter_name=fr.filter,
            title=f"CaSSIS {fr.filter} framelet {r0.sequence} (Bern level-1b)", unit="I/F",
            exposure_duration_s=r0.t_exp_s,
            description="Bern level-1b framelet (I/F) taken as level-1 input.",
            special=SpecialConstants(missing=FLOAT32_MISSING),
            processing=ProcessingRecord(
                description="cassis-pipe: Bern level-1b framelet as level-1 input",
                parameters=(("source", Path(lb.source).name),
                            ("rotation_deg", f"{lb.rotation_deg}"),
                            ("absolute_calibration", f"{lb.absolute_calibration}"))))
        ok = np.isfinite(fr.image) & (fr.image > -1e30)
        write_product(out, meta, np.where(ok, fr.image, np.float32(FLOAT32_MISSING))
                      .astype(np.float32))
        recs0.append(r0)
        recs1.append(r1)
    write_json(level0_json, {"stage": "bern", "observation_id": observation_id,
                             "products": [r.to_dict() for r in recs0], "not_produced": []})
    write_json(calibrate_json, {"stage": "bern", "observation_id": observation_id,
                                "products": [r.to_dict() for r in recs1], "not_produced": []})
    return {"level1_input": len(recs1)}


def run_bern(in_dir: str | Path, out_dir: str | Path, stage_json: str | Path,
             observation_id: str, level1: tuple[str | Path, str | Path, str | Path] | None = None
             ) -> dict[str, Any]:
    """Rule bern: :func:`assemble_directory` of the sheet row's observation, its stage JSON
    written to ``stage_json`` (and returned); with ``level1`` = (products dir, level0.json,
    calibrate.json) also the level-1 input of the level-2 rules (:func:`write_level1_input`)."""
    stage = assemble_directory(in_dir, out_dir, observation_id)
    if level1 is not None:
        stage["level1_input"] = write_level1_input(in_dir, *level1, observation_id)[
            "level1_input"]
    write_json(stage_json, stage)
    return stage
