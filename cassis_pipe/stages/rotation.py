"""Stages "rotation" (rotation-mechanism offset search) and "stitch" (per-filter level-1c
strips), wrapping :mod:`cassis_pipe.register` (docs/register.md).

:func:`rotation_search` is pure; :func:`rotation_stage` adds the offset history CSV and the
cost-curve plot; :func:`stitch_stage` writes one strip per filter (float32 DAT + PDS4 label,
PSA stitched name ``cas_cal_sc_<start>-<stop>-<filter>-<uid>-sti``). Each stage returns a
JSON-ready dict.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.parallel import python_workers
from cassis_pipe.register.fringing import Framelet, Pair, select_pairs
from cassis_pipe.register.observation import register_observation
from cassis_pipe.register.rotation import find_rotation_offset
from cassis_pipe.stages._io import PipelineError, write_json
from cassis_pipe.stages._level1 import register_framelets

#: Search settings of the pipeline (see docs/register.md for the meaning of each).
SEARCH_DEFAULTS: dict[str, Any] = {"smooth_px": 1.0, "max_pairs": 6, "coarse_step_deg": 0.5,
                                   "coarse_decimate": 2, "tol_deg": 0.0001}


def _fill_invalid(fr: list[Framelet]) -> list[Framelet]:
    """The fringing correlation needs finite images: invalid pixels get the image median."""
    res = []
    for f in fr:
        ok = np.isfinite(f.image)
        med = float(np.median(f.image[ok])) if ok.any() else 0.0
        res.append(f.with_image(np.where(ok, f.image, med)))
    return res


def _search_inputs(framelets: Sequence[Framelet], kw: dict[str, Any]
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
    d = res.diagnostics  # its wall time (elapsed_s) goes to the rule log, not the stage JSON
    keep = ("offset_sigma_deg", "curvature_px2_per_deg2", "residual_rms_px", "at_search_edge",
            "n_evaluations", "n_pairs_total")
    return {"offset_deg": float(res.offset_deg), "cost_px2": float(res.cost_px2),
            "n_pairs": int(res.n_pairs),
            "curve": [[float(a), float(b)] for a, b in np.asarray(res.curve)],
            "diagnostics": {k: d[k] for k in keep if k in d}}


def rotation_search(framelets: Sequence[Framelet], **search: Any) -> dict[str, Any]:
    """Rotation offset (deg) minimising colour fringing; ``search`` keywords override
    :data:`SEARCH_DEFAULTS` for :func:`cassis_pipe.register.rotation.find_rotation_offset`."""
    fr, kw = _search_inputs(framelets, {**SEARCH_DEFAULTS, **search})
    return _search_dict(find_rotation_offset(fr, **kw))


def rotation_stage(framelets: Sequence[Framelet], observation_id: str, utc: str,
                   commanded_rotation_deg: float, plot_path: str | Path, **search: Any
                   ) -> dict[str, Any]:
    """Search the offset and plot the cost curve (PNG). Returns the stage dict (offset, curve,
    diagnostics, file check); the offset history is built from these by
    :func:`cassis_pipe.stages.offset_history.run_offset_history`."""
    fr, kw = _search_inputs(framelets, {**SEARCH_DEFAULTS, **search})
    Path(plot_path).parent.mkdir(parents=True, exist_ok=True)
    res = register_observation(fr, observation_id, utc, commanded_rotation_deg, None,
                               plot_path, **kw)
    d = _search_dict(res)
    plotted = Path(plot_path).is_file()
    n_filters = len({f.filter for f in framelets})
    ok = plotted and not d["diagnostics"].get("at_search_edge", False)
    return {"stage": "rotation", "observation_id": observation_id, "utc": utc,
            "commanded_rotation_deg": float(commanded_rotation_deg), **d,
            "framelets": len(framelets), "filters": n_filters,
            "files": {"expected": 1, "produced": int(plotted)}, "ok": bool(ok)}


def commanded_rotation_deg(info: dict[str, Any]) -> float:
    """Commanded mechanism angle (deg) of the observation's image, carried forward from the
    command plan in the level-0 records (:func:`~cassis_pipe.stages._level1.load_level1`)."""
    angle = info.get("commanded_angle_deg")
    if angle is None:
        raise PipelineError(f"observation {info['observation_id']}: no commanded rotation "
                            "angle in the command plan (no absolute move before the image)")
    return float(angle)


SINGLE_EXPOSURE_NOTE = ("a single exposure cannot constrain the rotation offset (it is "
                        "measured between overlapping framelets of successive exposures): the "
                        "commanded angle is used as flown, offset 0")


def single_exposure_stage(framelets: Sequence[Framelet], observation_id: str, utc: str,
                          commanded_rotation_deg: float, plot_path: str | Path
                          ) -> dict[str, Any]:
    """The rotation stage of an observation of ONE exposure: no search (no overlapping pairs),
    offset 0 (the commanded angle as flown), a note saying so, ok; the plot says the same."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.0, 2.0), dpi=100)
    FigureCanvasAgg(fig)
    fig.text(0.5, 0.5, f"{observation_id}: one exposure, no rotation-offset search\n"
             f"commanded angle {commanded_rotation_deg:.3f} deg used, offset 0",
             ha="center", va="center")
    Path(plot_path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(plot_path, format="png", metadata={"Software": None})
    return {"stage": "rotation", "observation_id": observation_id, "utc": utc,
            "commanded_rotation_deg": float(commanded_rotation_deg), "offset_deg": 0.0,
            "cost_px2": None, "n_pairs": 0, "curve": [], "diagnostics": {},
            "searched": False, "note": SINGLE_EXPOSURE_NOTE,
            "framelets": len(framelets), "filters": len({f.filter for f in framelets}),
            "files": {"expected": 1, "produced": int(Path(plot_path).is_file())}, "ok": True}


def run_rotation(framelets: list[Framelet], info: dict[str, Any], plot_png: str | Path,
                 stage_json: str | Path, **search: Any) -> dict[str, Any]:
    """Rotation-offset stage: search, curve plot, stage JSON (one exposure: no search, see
    :func:`single_exposure_stage`)."""
    angle = commanded_rotation_deg(info)
    if len({int(f.exposure) for f in framelets}) < 2:
        stage = single_exposure_stage(framelets, info["observation_id"], info["start_utc"],
                                      angle, plot_png)
    else:
        stage = rotation_stage(framelets, info["observation_id"], info["start_utc"], angle,
                               plot_png, **search)
    write_json(stage_json, stage)
    return stage

