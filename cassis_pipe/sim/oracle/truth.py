"""Pipeline products vs the simulator's ground truth (``<raw_dir>/truth/``), for tests and
operators checking a simulated run.

Level 0: decoded DN vs the pre-compression DN (``truth/dn``): exact for NEAR 0, else within NEAR.
Level 1: the true scene signal of the very exposure (noise included) is rebuilt from the
truth DN and the exact detector fields: ``S = (DN - bias - hot) / flat - straylight`` (DN per
detector pixel), times the product's I/F per DN; bad, dead, hot or saturated pixels are left
out. Reported per filter: the median relative bias of the calibrated I/F, and per framelet the
straylight residual ``|mean(I/F - truth)| / mean(truth)`` (what is left of the additive field).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.instrument.detector import Window
from cassis_pipe.products.pds4 import read_product
from cassis_pipe.stages._io import read_json

SATURATED_DN = 16383


def _window_names(truth: dict[str, Any]) -> list[str]:
    return [w["name"] for w in truth["config"]["imaging"]["windows"]]


def _dn_file(image: dict[str, Any], rec: dict[str, Any]) -> str:
    """Truth DN file of a framelet: ``dn_files[sequence][window counter]`` of its image."""
    return image["dn_files"][rec["sequence"]][rec["window"]]


def compare_level0(raw_dir: str | Path, level0_json: str | Path, level0_dir: str | Path
                   ) -> dict[str, Any]:
    """Per framelet: max |DN - truth DN| and the allowed NEAR; ``ok`` when all within."""
    raw = Path(raw_dir)
    truth = read_json(raw / "truth" / "truth.json")
    names = _window_names(truth)
    images = {im["uid"]: im for im in truth["images"]}
    rows = []
    for rec in read_json(level0_json)["products"]:
        name = names[rec["window"]]
        ref = np.load(raw / _dn_file(images[rec["uid"]], rec))
        dn = read_product(Path(level0_dir) / f"{rec['product']}.xml")
        near = int(truth["near"][name])
        diff = (int(np.abs(dn.astype(np.int64) - ref).max()) if dn.shape == ref.shape
                else None)
        rows.append({"window": name, "sequence": rec["sequence"], "near": near,
                     "max_abs_diff": diff, "ok": diff is not None and diff <= near})
    return {"ok": all(r["ok"] for r in rows), "framelets": rows}


def compare_level1(raw_dir: str | Path, level0_json: str | Path, calibrate_json: str | Path,
                   level1_dir: str | Path) -> dict[str, Any]:
    """Median relative I/F bias per filter and straylight residual per framelet vs truth."""
    raw = Path(raw_dir)
    truth = read_json(raw / "truth" / "truth.json")
    det = {n: np.load(raw / p) for n, p in truth["detector_truth"].items()}
    images = {im["uid"]: im for im in truth["images"]}
    l0 = {(r["uid"], r["window"], r["sequence"]): r for r in read_json(level0_json)["products"]}
    rel: dict[str, list[np.ndarray]] = {}
    frames = []
    for p in read_json(calibrate_json)["products"]:
        rec = l0[(p["uid"], p["window"], p["sequence"])]
        w = rec["detector_window"]
        if rec["bin_factor"] != 1:
            continue  # binned windows: the truth DN are binned, detector fields are not
        win = Window.from_extent(w["row0"], w["col0"], w["rows"], w["cols"], filter=rec["filter"])
        sl = win.detector_slice()
        image = images[p["uid"]]
        dn = np.load(raw / _dn_file(image, p)).astype(np.float64)
        pattern = np.load(raw / image["straylight"]["pattern"])
        amp = image["straylight"]["amplitude_dn"][p["sequence"]]
        flat = det["flat"][sl]
        good = (flat > 0) & (det["bad_pixels"][sl] == 0) & (dn < SATURATED_DN)
        s_true = (dn - det["bias_dn"][sl] - det["hot_dn"][sl]) / np.where(good, flat, 1.0) \
            - pattern[sl] * amp
        iof_true = s_true * p["stats"]["iof_per_dn"]
        iof = read_product(Path(level1_dir) / f"{p['product']}.xml").astype(np.float64)
        good &= np.isfinite(iof) & (iof > -1e30) & (iof_true > 0)
        rel.setdefault(p["filter"], []).append(((iof - iof_true) / iof_true)[good])
        mean_true = float(iof_true[good].mean())
        frames.append({"filter": p["filter"], "sequence": p["sequence"],
                       "straylight_residual": abs(float((iof - iof_true)[good].mean()))
                       / mean_true})
    bias = {f: float(np.median(np.concatenate(v))) for f, v in sorted(rel.items())}
    return {"median_relative_bias": bias, "framelets": frames,
            "max_straylight_residual": max((f["straylight_residual"] for f in frames),
                                           default=None)}


def _ident(d: dict[str, Any]) -> tuple[int, int, int]:
    return (int(d["uid"]), int(d["window"]), int(d["sequence"]))


def _explained(fault: dict[str, Any], rep: dict[str, Any]) -> list[tuple[str, int]]:
    """(report list, index) entries that report ``fault`` (empty: not reported)."""
    kind, hits = fault["kind"], []
    for i, c in enumerate(rep.get("corrupt", [])):
        at = fault.get("byte_offset") if kind == "garbage" else fault.get("frame_offset")
        if kind in ("bitflipped", "truncated", "garbage") and c["file_offset"] == at:
            hits.append(("corrupt", i))
    if kind == "duplicated":
        hits += [("duplicates", i) for i, d in enumerate(rep.get("duplicates", []))
                 if d["file_offset"] == fault["frame_offset"]]
    if kind == "reordered":
        swapped = {(*_ident(fault[s]), fault[s]["offset"]) for s in ("first", "second")}
        hits += [("out_of_order", i) for i, o in enumerate(rep.get("out_of_order", []))
                 if (*_ident(o), o["offset"]) in swapped]
    if kind == "missing_framelet":
        hits += [("missing_framelets", i) for i, m in enumerate(rep.get("missing_framelets", []))
                 if _ident(m) == _ident(fault) and not m.get("corrupt_file_offsets")]
    if kind == "dropped":
        span = [fault["offset"], fault["offset"] + fault["length"]]
        hits += [("incomplete_framelets", i)
                 for i, m in enumerate(rep.get("incomplete_framelets", []))
                 if _ident(m) == _ident(fault) and span in m.get("missing", [])]
    return hits


def damaged_framelets(faults: list[dict[str, Any]]) -> set[tuple[int, int, int]]:
    """Framelets an injected fault leaves without complete data (not produced downstream)."""
    return {_ident(f) for f in faults
            if f["kind"] in ("missing_framelet", "dropped", "bitflipped", "truncated")}


def match_faults(validation: dict[str, Any], faults: list[dict[str, Any]]) -> dict[str, Any]:
    """Injected faults (``truth/faults.json``) vs the validation report.

    ``unreported``: faults no report entry names; ``unexplained``: report entries that no
    fault explains (a corrupt frame's framelet listed as missing or incomplete, with the
    corrupt span's offset, counts as explained by that fault). Exact when both are empty.
    """
    used: set[tuple[str, int]] = set()
    unreported = []
    for f in faults:
        hits = _explained(f, validation)
        if not hits:
            unreported.append(f)
        used.update(hits)
    corrupt_at = {validation["corrupt"][i]["file_offset"] for n, i in used if n == "corrupt"}
    for name in ("missing_framelets", "incomplete_framelets"):
        for i, m in enumerate(validation.get(name, [])):
            if set(m.get("corrupt_file_offsets", [])) & corrupt_at:
                used.add((name, i))
    lists = ("corrupt", "missing_framelets", "incomplete_framelets", "conflicting_framelets",
             "duplicates", "out_of_order", "unexpected", "non_science", "header_mismatches",
             "length_errors", "pehk_inconsistent", "frame_count_mismatches")
    unexplained = [{"list": n, **e} for n in lists
                   for i, e in enumerate(validation.get(n, [])) if (n, i) not in used]
    return {"exact": not unreported and not unexplained, "unreported": unreported,
            "unexplained": unexplained}
