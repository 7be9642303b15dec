"""Stage "stitch": per-filter level-1c strips (float32 DAT + PDS4 label, PSA stitched name
``cas_cal_sc_<start>-<stop>-<filter>-<uid>-sti``) placed along track with the recovered
rotation offset, wrapping :mod:`cassis_pipe.register.stitch` (docs/register.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import numba
import numpy as np

from cassis_pipe import __version__
from cassis_pipe.instrument.constants import FILTER_ORDER
from cassis_pipe.labels.names import PsaStitchedName
from cassis_pipe.model import Framelet
from cassis_pipe.products.metadata import (
    FLOAT32_MISSING,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
)
from cassis_pipe.products.pds4 import write_product
from cassis_pipe.register.stitch import filter_offsets, stitch_framelets
from cassis_pipe.stages._io import read_json, write_json
from cassis_pipe.stages._level1 import register_framelets, report_missing


def stitched_name(start_utc: str, stop_utc: str, filter_name: str, uid: int) -> str:
    """PSA stitched product name (lower case), e.g. ``cas_cal_sc_...-pan-837628000-sti``."""
    def t(s: str) -> datetime:
        return datetime.fromisoformat(s.rstrip("Z"))
    return str(PsaStitchedName("cal", t(start_utc), t(stop_utc), filter_name, uid))


def stitch_stage(framelets: Sequence[Framelet], observation_id: str, uid: int,
                 rotation_offset_deg: float, out_dir: str | Path, *, start_utc: str,
                 stop_utc: str, expected_filters: Sequence[str] = FILTER_ORDER,
                 smooth_px: float = 1.0) -> dict[str, Any]:
    """Stitch every filter along track with the recovered rotation offset and write the strips.
    Returns the stage dict: per filter the seams (predicted and refined offsets, residuals)
    and the expected/produced strip counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [f for f in FILTER_ORDER if any(x.filter == f for x in framelets)]

    def stitch(name: str, sel: list[Framelet], pred: np.ndarray | None) -> dict[str, Any]:
        # invalid pixels NaN (register_framelets), the thread-safe stitching kernels, then
        # the strip product written from the worker (file I/O overlaps the other filters)
        images = [f.image for f in register_framelets(sel)]
        if pred is None:
            strip = images[0].astype(np.float32)
            seams: list[dict[str, Any]] = []
            worst = float("nan")
        else:
            res = stitch_framelets(images, pred, smooth_px=smooth_px)
            strip = res.strip.astype(np.float32, copy=False)
            seams = [{"index": s.index, "predicted_px": list(map(float, s.predicted)),
                      "offset_px": list(map(float, s.offset)),
                      "residual_px": float(s.residual_px), "peak": float(s.peak),
                      "overlap_lines": int(s.overlap_lines), "refined": bool(s.refined)}
                     for s in res.seams]
            worst = res.max_seam_residual_px
        del images
        stem = stitched_name(start_utc, stop_utc, name, uid)
        meta = ProductMeta(
            name=stem, level="calibrated", start_utc=start_utc, stop_utc=stop_utc,
            modification_date=start_utc[:10], title=f"CaSSIS stitched {name} {observation_id}",
            filter_name=name, unit="I/F",
            description="Level-1c strip: framelets placed along track (refined offsets), "
                        "feathered seams.",
            special=SpecialConstants(missing=FLOAT32_MISSING),
            processing=ProcessingRecord(
                software_version=__version__,
                description="cassis-pipe level 1c: stitching",
                parameters=(("rotation_offset_deg", f"{rotation_offset_deg:.6f}"),
                            ("framelets", str(len(sel))),
                            ("max_seam_residual_px", f"{worst:.4f}"))))
        finite = np.isfinite(strip)
        arr = np.where(finite, strip, np.float32(FLOAT32_MISSING)).astype(np.float32, copy=False)
        _, xml = write_product(out, meta, arr, None)
        return {"product": Path(xml).stem, "framelets": len(sel), "shape": list(strip.shape),
                "valid_fraction": float(finite.mean()), "seams": seams,
                "max_seam_residual_px": worst}

    # filters are independent and the stitching kernels release the GIL (numba nogil, FFT)
    # and launch no parallel kernel: numba's thread count of workers; results do not depend
    # on it. The offsets are predicted here, filter after filter while the workers stitch:
    # the geometry kernels are numba-parallel (main thread only), run on one numba thread as
    # their node grids (~650 points) are smaller than a thread launch.
    threads = numba.get_num_threads()
    futures = {}
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        numba.set_num_threads(1)
        try:
            for name in names:
                sel = sorted((x for x in framelets if x.filter == name),
                             key=lambda f: f.exposure)
                pred = None if len(sel) < 2 else filter_offsets(
                    [Framelet(name, int(f.exposure), f.image, f.camera) for f in sel],
                    rotation_offset_deg=rotation_offset_deg)[1]
                futures[name] = pool.submit(stitch, name, sel, pred)
        finally:
            numba.set_num_threads(threads)
        filters: dict[str, Any] = {name: futures[name].result() for name in names}
    produced = sorted(f for f in expected_filters if f in filters)
    missing = sorted(set(expected_filters) - set(filters))
    return {"stage": "stitch", "observation_id": observation_id,
            "rotation_offset_deg": float(rotation_offset_deg), "filters": filters,
            "counts": {"expected": len(expected_filters), "produced": len(produced),
                       "missing": missing}, "ok": not missing}


def run_stitch(framelets: list[Framelet], info: dict[str, Any], rotation_json: str | Path,
               out_dir: str | Path, stage_json: str | Path) -> dict[str, Any]:
    """Stitching stage with the offset of ``rotation_json``."""
    offset = float(read_json(rotation_json)["offset_deg"])
    stage = stitch_stage(framelets, info["observation_id"], info["uid"], offset, out_dir,
                         start_utc=info["start_utc"], stop_utc=info["stop_utc"])
    report_missing(stage, info.get("missing_framelets", []), "strips")
    write_json(stage_json, stage)
    return stage
