"""Run one simulation and write the observation directory (layout in docs/sim.md).

I/O lives here only; every array kernel is in scene / radiometry / calibration.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.codec.ratio import near_for_ratio_id
from cassis_pipe.geometry.isd import write_isd
from cassis_pipe.instrument.constants import FILTER_ORDER, K_TABLE
from cassis_pipe.sim.acquisition import Plan, make_plan, window_isd
from cassis_pipe.sim.calibration import make_detector, write_calibration
from cassis_pipe.sim.codec import compress_window
from cassis_pipe.sim.config import SimConfig, config_to_dict
from cassis_pipe.sim.faults import apply_faults
from cassis_pipe.sim.kernels import write_sim_kernels
from cassis_pipe.sim.orbit import latlon_deg
from cassis_pipe.sim.radiometry import dn_per_iof
from cassis_pipe.sim.render import (
    image_straylight,
    scene_iof,
    true_camera,
    window_dn,
)
from cassis_pipe.sim.scene import sun_vector
from cassis_pipe.sim.telemetry import (
    READOUT_S,
    FrameId,
    hk_bytes,
    make_timeline,
    parameter_table,
    position_mdeg,
    science_frames,
    tc_bytes,
)
from cassis_pipe.sim.truthmap import grid_for_points, row_spans, span_points_m


def _dump(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def window_file(obs_id: str, name: str, k: int) -> str:
    """Relative path of a pre-compression DN truth file."""
    return f"truth/dn/{obs_id}/{name}_{k:03d}.npy"


def _footprint_points(cfg: SimConfig, plan: Plan) -> np.ndarray:
    """Ground points (km) of every filter window's outline for every exposure (true geometry)."""
    pts = []
    for image in plan.images:
        for k in range(len(image.et)):
            cam = true_camera(image, k, cfg.imaging.rotation_offset_deg)
            for w in cfg.imaging.windows[:4]:
                ll = np.array([w.row0, w.row0, w.row1, w.row1, (w.row0 + w.row1) / 2], float)
                ss = np.array([w.col0, w.col1, w.col0, w.col1, (w.col0 + w.col1) / 2], float)
                pts.append(cam.image_to_ground(ll, ss))
    return np.concatenate(pts)


def footprints(cfg: SimConfig, plan: Plan) -> list[dict]:
    """Per image: for each filter, per exposure, the TRUE ground (lat, lon) in degrees of the
    window's corner pixel centres (first row first col, first row last col, last row last col,
    last row first col) and centre."""
    pts = _footprint_points(cfg, plan).reshape(len(plan.images), -1, 4, 5, 3)
    lat, lon = latlon_deg(pts)
    out = []
    for i, _ in enumerate(plan.images):
        out.append({w.name: [[[round(float(lat[i, k, wi, c]), 7), round(float(lon[i, k, wi, c]),
                                                                         7)]
                              for c in (0, 1, 3, 2, 4)] for k in range(pts.shape[1])]
                    for wi, w in enumerate(cfg.imaging.windows[:4])})
    return out


def write_truth_maps(cfg: SimConfig, plan: Plan, out: Path) -> dict:
    """Render the truth I/F per band on a grid covering every framelet; returns the grid."""
    pts = _footprint_points(cfg, plan)
    cam = true_camera(plan.images[0], len(plan.images[0].et) // 2, cfg.imaging.rotation_offset_deg)
    g = cam.image_to_ground(np.array([1023.5, 1024.5]), np.array([1023.5, 1023.5]))
    gsd_m = float(np.linalg.norm(g[1] - g[0]) * 1000.0)
    scale = cfg.map_scale_m if cfg.map_scale_m > 0 else gsd_m * (2.0 if cfg.size == "full" else 1.0)
    grid = grid_for_points(pts, scale, cfg.orbit.mars_radii_km[0])
    first, last = row_spans(grid, pts)
    cells, flat = span_points_m(grid, first, last, cfg.orbit.mars_radii_km)
    iof = scene_iof(cfg, plan, cells)
    d = out / "truth" / "maps"
    d.mkdir(parents=True, exist_ok=True)
    for b, f in enumerate(FILTER_ORDER):
        band = np.full(grid.rows * grid.cols, np.nan, np.float32)
        band[flat] = iof[:, b]
        np.save(d / f"iof_{f}.npy", band.reshape(grid.rows, grid.cols))
    info = {**grid.as_dict(), "detector_gsd_m": gsd_m,
            "files": [f"iof_{f}.npy" for f in FILTER_ORDER]}
    _dump(d / "grid.json", info)
    return info


def simulate(cfg: SimConfig, out: Path) -> dict:
    """Simulate one observation into ``out``; returns the summary written to truth.json."""
    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    oc, ic = cfg.orbit, cfg.imaging
    sun = sun_vector(oc.target_lat_deg, oc.target_lon_deg, oc.incidence_deg, oc.sun_azimuth_deg)
    plan = make_plan(cfg, sun)
    det = make_detector(cfg.detector, cfg.seed)
    manifest = write_calibration(out, det, cfg.detector, cfg.calibration_version, cfg.seed)
    tdir = out / "truth" / "detector"
    tdir.mkdir(parents=True, exist_ok=True)
    for name, arr in (("bias_dn", det.bias_dn), ("flat", det.flat), ("hot_dn", det.hot_dn),
                      ("bad_pixels", det.badpix)):
        np.save(tdir / f"{name}.npy", arr)
    table = parameter_table(cfg, plan.step_us)
    frames: list[tuple[FrameId, bytes]] = []
    images_info = []
    raw_bytes = comp_bytes = 0
    per_window: dict[str, list[float]] = {}
    for image in plan.images:
        (out / "geometry").mkdir(exist_ok=True)
        write_isd(image.isd, out / "geometry" / f"{image.obs_id}.json")
        for w in ic.windows:
            if w.name in FILTER_ORDER:
                write_isd(window_isd(cfg, plan, image, w),
                          out / "geometry" / f"{image.obs_id}_{w.name}.json")
        stray = image_straylight(cfg, plan, image)
        sdir = out / "truth" / "straylight"
        sdir.mkdir(parents=True, exist_ok=True)
        np.save(sdir / f"{image.obs_id}.npy", stray.pattern)
        (out / "truth" / "dn" / image.obs_id).mkdir(parents=True, exist_ok=True)
        pos = position_mdeg(image.angle_cmd_deg)
        for k in range(len(image.et)):
            cam = true_camera(image, k, ic.rotation_offset_deg)
            for wi, w in enumerate(ic.windows):
                dn = window_dn(cfg, plan, det, stray, image, k, wi, cam)
                np.save(out / window_file(image.obs_id, w.name, k), dn)
                stream = compress_window(dn, w.comp_ratio_id)
                raw_bytes += dn.size * 2
                comp_bytes += len(stream)
                per_window.setdefault(w.name, []).append(dn.size * 2 / len(stream))
                read = image.sclk_s[k] + plan.t_exp_s + READOUT_S * (wi + 1)
                frames += science_frames(stream, image.uid, k, wi, w.comp_ratio_id,
                                         float(image.sclk_s[k]), read, pos,
                                         ic.max_frame_data_bytes)
        images_info.append({
            "index": image.index, "uid": image.uid, "observation_id": image.obs_id,
            "commanded_rotation_deg": image.angle_cmd_deg, "true_rotation_deg":
            image.angle_true_deg, "exposure_sclk_s": image.sclk_s.tolist(),
            "exposure_et": image.et.tolist(), "geometry": f"geometry/{image.obs_id}.json",
            "window_geometry": {w.name: f"geometry/{image.obs_id}_{w.name}.json"
                                for w in ic.windows if w.name in FILTER_ORDER},
            "straylight": {"pattern": f"truth/straylight/{image.obs_id}.npy",
                           "centre_rc": list(stray.centre_rc),
                           "amplitude_dn": stray.amplitude_dn.tolist()},
            "dn_files": [[window_file(image.obs_id, w.name, k) for w in ic.windows]
                         for k in range(len(image.et))]})
    meta_kernel = write_sim_kernels(cfg, plan, out)
    science, faults, index = apply_faults(frames, cfg.faults, cfg.seed)
    (out / "science.bin").write_bytes(science)
    _dump(out / "truth" / "faults.json", {"faults": faults, "n_faults": len(faults)})
    _dump(out / "truth" / "frames.json", {"frames": index})
    ends = [float(im.sclk_s[-1] + plan.t_exp_s) for im in plan.images]
    tl = make_timeline([im.angle_cmd_deg for im in plan.images], [im.uid for im in plan.images],
                       [float(im.sclk_s[0]) for im in plan.images], ends)
    (out / "tc.bin").write_bytes(tc_bytes(cfg, table, tl))
    (out / "hk.bin").write_bytes(hk_bytes(tl, cfg.seed))
    grid = write_truth_maps(cfg, plan, out)
    for info, fp in zip(images_info, footprints(cfg, plan), strict=True):
        info["footprint_latlon_deg"] = fp
    summary = {
        "config": config_to_dict(cfg),
        "rotation_offset_deg": ic.rotation_offset_deg,
        "rotation_offset_convention": "true angle = commanded + offset; frame rotation about "
        "TGO_CASSIS_TEL +Y (FrameCamera.with_rotation_offset)",
        "step_exp_us": plan.step_us, "t_exp_s": plan.t_exp_s,
        "sclk_ref_s": plan.sclk_ref_s, "et_ref": plan.et_ref,
        "time_kernels": list(plan.kernels) if plan.kernels else None,
        "sun_direction_bf": plan.sun_bf.tolist(),
        "orbit_elements": asdict(plan.elements),
        "parameter_table": table.values(),
        "dn_per_iof": {f: dn_per_iof(plan.t_exp_s, K_TABLE[f], oc.heliocentric_au)
                       for f in FILTER_ORDER},
        "near": {w.name: near_for_ratio_id(w.comp_ratio_id) for w in ic.windows},
        "images": images_info,
        "calibration": {"dir": f"calibration/{cfg.calibration_version}", "manifest": manifest},
        "detector_truth": {n: f"truth/detector/{n}.npy" for n in
                           ("bias_dn", "flat", "hot_dn", "bad_pixels")},
        "truth_maps": {"dir": "truth/maps", "grid": grid},
        "compression": {"raw_bytes_16bit": raw_bytes, "jpegls_bytes": comp_bytes,
                        "ratio": raw_bytes / max(comp_bytes, 1),
                        "ratio_by_window": {k: float(np.mean(v)) for k, v in per_window.items()}},
        "files": {"science": "science.bin", "tc": "tc.bin", "hk": "hk.bin",
                  "meta_kernel": None if meta_kernel is None else "kernels/sim.tm",
                  "science_frames": len(index), "science_bytes": len(science)},
    }
    _dump(out / "truth" / "truth.json", summary)
    summary["elapsed_s"] = time.perf_counter() - t_start
    return summary


__all__ = ["simulate", "window_file", "write_truth_maps"]
