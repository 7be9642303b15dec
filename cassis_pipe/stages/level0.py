"""Stage "level0": reassembly and JPEG-LS decompression -> level-0 products (uint16 DAT + PDS4
label, PSA raw name), with file counts checked against the command plan.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import Any

from cassis_pipe import __version__
from cassis_pipe.instrument.constants import DEFAULT_LSK, DEFAULT_SCLK, FILTER_ORDER
from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.level0.decompress import OK, Level0Framelet
from cassis_pipe.level0.plan import CommandPlan, ImagingPlan, WindowPlan
from cassis_pipe.level0.pseudo import PseudoPacket
from cassis_pipe.level0.reassemble import COMPLETE
from cassis_pipe.level0.report import pipeline_counts
from cassis_pipe.level0.run import process_level0
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.metadata import ProcessingRecord, ProductMeta
from cassis_pipe.products.pds4 import write_product
from cassis_pipe.stages._io import (
    check_observation,
    check_problems,
    file_count_check,
    framelet_list,
    input_info,
    iso_utc,
    key_dict,
    parse_utc,
    plan_summary,
    product_name,
    read_input,
    read_plan,
    stray_files,
    timecode_utc,
    write_json,
)
from cassis_pipe.stages.records import Level0Record


def _images(plan: CommandPlan) -> dict[int, ImagingPlan]:
    return {im.uid: im for im in plan.images}


def _window_plan(image: ImagingPlan | None, counter: int) -> WindowPlan | None:
    if image is None:
        return None
    for w in image.windows:
        if w.counter == counter:
            return w
    return None


def framelet_record(fl: Level0Framelet, p: PseudoPacket, image: ImagingPlan,
                    sclk: str | Path, lsk: str | Path) -> dict[str, Any]:
    """Where and when one framelet was taken (JSON-ready; used by the calibration stage)."""
    wp = _window_plan(image, p.window)
    tc = p.exposure_timestamp or bytes.fromhex(fl.meta["exposure_timestamp"])
    start = timecode_utc(tc, sclk, lsk)
    win = wp.window if wp is not None else None
    return {
        **key_dict(p.key), "filter": p.filter, "image_index": image.index,
        "exposure_timecode": tc.hex(), "start_utc": iso_utc(start) if start else None,
        "t_exp_s": image.exposure_time_s, "binning": p.binning, "bin_factor": p.bin_factor,
        "detector_window": None if win is None else {
            "row0": win.start_row, "col0": win.start_col, "rows": wp.rows, "cols": wp.cols},
        "shape": list(fl.dn.shape) if fl.dn is not None else None,
        "encoding": fl.meta.get("encoding"), "tail_pixels": fl.meta.get("tail_pixels", 0),
        "dn_over_14bit": fl.meta.get("dn_over_14bit", 0),
        "shape_mismatch": bool(fl.meta.get("shape_mismatch", False)),
        "product": "", "observation_id": observation_id_string(p.uid),
        "commanded_angle_deg": (None if image.position_mdeg is None
                                else image.position_mdeg / 1000.0),
    }


def _write_raw(out: Path, fl: Level0Framelet, rec: dict[str, Any], p: PseudoPacket,
               image: ImagingPlan) -> str:
    """Write one level-0 product; returns its file stem."""
    start = parse_utc(rec["start_utc"])
    t_exp = image.exposure_time_s or 0.0
    name = product_name("raw", p.key, p.filter, start, t_exp, image.index)
    stop = iso_utc(name.stop if name.stop > start else start)
    meta = ProductMeta(
        name=name.file_stem(), level="raw", start_utc=rec["start_utc"], stop_utc=stop,
        modification_date=rec["start_utc"][:10],
        title=f"CaSSIS level-0 framelet {p.filter} window {p.window} exposure {p.sequence}",
        filter_name=p.filter if p.filter in FILTER_ORDER else None,
        exposure_duration_s=t_exp or None, unit="DN",
        description="Decompressed raw DN of one window of one exposure (uint16, 14-bit).",
        processing=ProcessingRecord(
            software_version=__version__,
            description="cassis-pipe level 0: packet validation, reassembly, JPEG-LS decoding",
            parameters=(("uid", str(p.uid)), ("window_counter", str(p.window)),
                        ("sequence_counter", str(p.sequence)),
                        ("encoding", str(rec["encoding"])),
                        ("exposure_timecode_hex", rec["exposure_timecode"]),
                        ("position_mdeg", str(fl.meta.get("position_mdeg"))))))
    write_product(out, meta, fl.dn)
    return name.file_stem()


def run_level0(science_path: str | Path, plan_json: str | Path, products_dir: str | Path,
               stage_json: str | Path, *, observation_id: str | None = None,
               threads: int | None = None,
               sclk: str | Path = DEFAULT_SCLK, lsk: str | Path = DEFAULT_LSK,
               raw_ratio_ids: Collection[int] = (0,), time_tolerance_s: float = 1e-4,
               ) -> dict[str, Any]:
    """Reassemble, decode (numba, ``threads``), write level-0 raw products. ``plan_json`` is the
    command plan the validate stage wrote; ``observation_id`` (the rule's wildcard) must be an
    image commanded in it.

    Every decoded framelet becomes ``<PSA raw name>.dat/.xml`` in ``products_dir``; the stage
    JSON (returned and written to ``stage_json``) lists every product with its metadata, every
    framelet not produced with the reason, and the file counts after reassembly, decoding and
    writing (expected from the command plan).
    """
    out = Path(products_dir)
    out.mkdir(parents=True, exist_ok=True)
    science, plan = read_input(science_path), read_plan(plan_json)
    if observation_id is not None:
        check_observation(observation_id, [im.uid for im in plan.images], "tc.bin")
    res = process_level0(science, plan, threads=threads, raw_ratio_ids=frozenset(raw_ratio_ids),
                         time_tolerance_s=time_tolerance_s)
    packets = {p.key: p for p in res.packets}
    images = _images(res.plan)
    products: list[dict[str, Any]] = []
    not_produced: list[dict[str, Any]] = []
    written = set()
    for fl in res.framelets:
        p = packets.get(fl.key)
        image = images.get(fl.uid)
        if fl.status != OK or fl.dn is None:
            not_produced.append({**key_dict(fl.key), "status": fl.status, "error": fl.error})
            continue
        if p is None or image is None:
            not_produced.append({**key_dict(fl.key), "status": "unexpected",
                                 "error": "decoded framelet of no commanded window"})
            continue
        rec = framelet_record(fl, p, image, sclk, lsk)
        if rec["start_utc"] is None:
            not_produced.append({**key_dict(fl.key), "status": "no_time",
                                 "error": "no valid exposure time code"})
            continue
        try:
            stem = _write_raw(out, fl, rec, p, image)
        except (ProductError, ValueError) as exc:
            not_produced.append({**key_dict(fl.key), "status": "write_failed",
                                 "error": str(exc)})
            continue
        written.update((f"{stem}.dat", f"{stem}.xml"))
        products.append(Level0Record.from_dict({**rec, "product": stem}).to_dict())
    reassembled = res.validation.framelets
    counts = pipeline_counts(res.packets, {
        "received": list(reassembled),
        "reassembled": [k for k, f in reassembled.items() if f.status == COMPLETE],
        "decoded": [fl.key for fl in res.framelets if fl.status == OK],
    })
    files = file_count_check("level0_products", res.packets, out)
    counts["stages"].append(files)
    counts["ok"] = counts["ok"] and files["ok"]
    incomplete = [{**key_dict(k), "status": f.status,
                   "missing_bytes": [list(r) for r in (f.missing or ())]}
                  for k, f in reassembled.items() if f.status != COMPLETE]
    problems = check_problems([files])
    if not_produced:
        problems.append(f"{len(not_produced)} framelet(s) not produced: "
                        f"{framelet_list(not_produced)} "
                        f"({', '.join(sorted({str(p['status']) for p in not_produced}))})")
    stage = {
        "stage": "level0",
        "inputs": [input_info(science_path, science), input_info(plan_json, read_input(plan_json))],
        "ok": bool(counts["ok"] and not not_produced),
        "plan": plan_summary(res.plan, res.packets),
        "validation_ok": res.validation.ok,
        "validation_counts": res.validation.counts(),
        "file_counts": counts,
        "reassembly": {"framelets": len(reassembled), "not_complete": incomplete},
        "decompression": res.as_dict()["decompression"],
        "not_produced": not_produced,
        "stray_files": stray_files(out, written),
        "products": products,
        "problems": problems,
    }
    write_json(stage_json, stage)
    return stage
