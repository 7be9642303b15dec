"""Stages "rotation" (rotation-mechanism offset search) and "stitch" (per-filter level-1c
strips), wrapping :mod:`cassis_pipe.register` (docs/register.md).

:func:`rotation_search` is pure; :func:`rotation_stage` adds the offset history CSV and the
cost-curve plot; :func:`stitch_stage` writes one strip per filter (float32 DAT + PDS4 label,
PSA stitched name ``cas_cal_sc_<start>-<stop>-<filter>-<uid>-sti``). Each stage returns a
JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any

import numba
import numpy as np

from cassis_pipe.labels.names import PsaStitchedName
from cassis_pipe.parallel import python_workers
from cassis_pipe.pipeline.mapproducts import FILTER_ORDER, Level1Framelet, valid
from cassis_pipe.products.metadata import (
    FLOAT32_MISSING,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
)
from cassis_pipe.products.pds4 import write_product
from cassis_pipe.register.fringing import Framelet, Pair, select_pairs
from cassis_pipe.register.observation import register_observation
from cassis_pipe.register.rotation import find_rotation_offset
from cassis_pipe.register.stitch import filter_offsets, stitch_framelets

SOFTWARE_VERSION = "0.1.0"
#: Search settings of the pipeline (see docs/register.md for the meaning of each).
SEARCH_DEFAULTS: dict[str, Any] = {"smooth_px": 1.0, "max_pairs": 6, "coarse_step_deg": 0.5,
                                   "coarse_decimate": 2, "tol_deg": 0.0001}


def register_framelets(framelets: Sequence[Level1Framelet]) -> list[Framelet]:
    """Level-1 framelets as register framelets (invalid pixels NaN, float64)."""
    out = []
    for f in sorted(framelets, key=lambda f: (f.exposure, f.filter)):
        img = np.asarray(f.image, dtype=np.float64)
        out.append(Framelet(f.filter, int(f.exposure), np.where(valid(img), img, np.nan),
                            f.camera))
    return out


def _fill_invalid(fr: list[Framelet]) -> list[Framelet]:
    """The fringing correlation needs finite images: invalid pixels get the image median."""
    res = []
    for f in fr:
        ok = np.isfinite(f.image)
        med = float(np.median(f.image[ok])) if ok.any() else 0.0
        res.append(Framelet(f.filter, f.index, np.where(ok, f.image, med), f.camera))
    return res


def _search_inputs(framelets: Sequence[Level1Framelet], kw: dict[str, Any]
                   ) -> tuple[list[Framelet], dict[str, Any]]:
    """The framelets the search measures (converted and filled) and the search keywords with
    their ``pairs`` (indices into that list) and ``threads``. Pairs are chosen on all framelets
    (only cameras and shapes are read), so converting the other images is skipped."""
    order = sorted(framelets, key=lambda f: (f.exposure, f.filter))
    shells = [Framelet(f.filter, int(f.exposure), f.image, f.camera) for f in order]
    kw = dict(kw)
    pairs = kw.pop("pairs", None)
    if pairs is None:
        pairs = select_pairs(shells, kw.pop("reference", "PAN"),
                             min_overlap=kw.pop("min_overlap", 0.3),
                             max_pairs=kw.pop("max_pairs", None))
    used = sorted({p.ref for p in pairs} | {p.other for p in pairs})
    index = {k: i for i, k in enumerate(used)}
    kw["pairs"] = [Pair(index[p.ref], index[p.other], p.overlap) for p in pairs]
    kw.setdefault("threads", _search_workers())
    return _fill_invalid(register_framelets([order[k] for k in used])), kw


def _search_workers() -> int:
    """Pairs of one candidate offset measured in this many threads (the geometry kernels are
    numba-parallel, so the same workqueue caveat as the stitch stage applies)."""
    return python_workers()


def _search_dict(res: Any) -> dict[str, Any]:
    d = res.diagnostics
    keep = ("offset_sigma_deg", "curvature_px2_per_deg2", "residual_rms_px", "at_search_edge",
            "n_evaluations", "elapsed_s", "n_pairs_total")
    return {"offset_deg": float(res.offset_deg), "cost_px2": float(res.cost_px2),
            "n_pairs": int(res.n_pairs),
            "curve": [[float(a), float(b)] for a, b in np.asarray(res.curve)],
            "diagnostics": {k: d[k] for k in keep if k in d}}


def rotation_search(framelets: Sequence[Level1Framelet], **search: Any) -> dict[str, Any]:
    """Rotation offset (deg) minimising colour fringing; ``search`` keywords override
    :data:`SEARCH_DEFAULTS` for :func:`cassis_pipe.register.rotation.find_rotation_offset`."""
    fr, kw = _search_inputs(framelets, {**SEARCH_DEFAULTS, **search})
    return _search_dict(find_rotation_offset(fr, **kw))


def rotation_stage(framelets: Sequence[Level1Framelet], observation_id: str, utc: str,
                   commanded_rotation_deg: float, history_path: str | Path,
                   plot_path: str | Path, **search: Any) -> dict[str, Any]:
    """Search the offset, append/replace the observation's row in the history CSV, plot the
    cost curve (PNG). Returns the stage dict (offset, curve, diagnostics, file check)."""
    fr, kw = _search_inputs(framelets, {**SEARCH_DEFAULTS, **search})
    for p in (history_path, plot_path):
        Path(p).parent.mkdir(parents=True, exist_ok=True)
    res = register_observation(fr, observation_id, utc, commanded_rotation_deg, history_path,
                               plot_path, **kw)
    d = _search_dict(res)
    files = {"history": Path(history_path).is_file(), "plot": Path(plot_path).is_file()}
    n_filters = len({f.filter for f in framelets})
    ok = all(files.values()) and not d["diagnostics"].get("at_search_edge", False)
    return {"stage": "rotation", "observation_id": observation_id, "utc": utc,
            "commanded_rotation_deg": float(commanded_rotation_deg), **d,
            "framelets": len(framelets), "filters": n_filters,
            "files": {"expected": 2, "produced": sum(files.values())}, "ok": bool(ok)}


def stitched_name(start_utc: str, stop_utc: str, filter_name: str, uid: int) -> str:
    """PSA stitched product name (lower case), e.g. ``cas_cal_sc_...-pan-837628000-sti``."""
    def t(s: str) -> datetime:
        return datetime.fromisoformat(s.rstrip("Z"))
    return str(PsaStitchedName("cal", t(start_utc), t(stop_utc), filter_name, uid))


def stitch_stage(framelets: Sequence[Level1Framelet], observation_id: str, uid: int,
                 rotation_offset_deg: float, out_dir: str | Path, *, start_utc: str,
                 stop_utc: str, expected_filters: Sequence[str] = FILTER_ORDER,
                 smooth_px: float = 1.0) -> dict[str, Any]:
    """Stitch every filter along track with the recovered rotation offset and write the strips.
    Returns the stage dict: per filter the seams (predicted and refined offsets, residuals)
    and the expected/produced strip counts."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    names = [f for f in FILTER_ORDER if any(x.filter == f for x in framelets)]

    def stitch(name: str, sel: list[Level1Framelet], pred: np.ndarray | None) -> dict[str, Any]:
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
                software_version=SOFTWARE_VERSION,
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
