"""Level-1 I/F framelets of a simulated observation built directly from the simulator's
pre-compression DN (``truth/dn``), calibrated with ``cassis_pipe.calibrate`` and the simulated
calibration files (straylight fitted per exposure on the dark control windows).

This skips telemetry decoding (tested by the level-0 stages) so the level-2 stages can be
tested and benchmarked on their own. Cameras are at the COMMANDED angle (rotation offset 0).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from cassis_pipe.calibrate import calibrate_framelet, load_calset, straylight_from_controls
from cassis_pipe.geometry.builder import window_from_isd
from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.isd import read_isd
from cassis_pipe.instrument.constants import AU_KM
from cassis_pipe.model import Framelet
from cassis_pipe.sim.config import WindowConfig

CONTROL_WINDOWS = ("CTL1", "CTL2")


def read_truth(sim_dir: str | Path) -> dict[str, Any]:
    """The simulator's ``truth/truth.json``."""
    return json.loads((Path(sim_dir) / "truth" / "truth.json").read_text())


def simulated_level1(sim_dir: str | Path, image: int = 0, straylight_order: int = 1
                     ) -> tuple[list[Framelet], dict[str, Any]]:
    """Calibrated framelets of image ``image`` of a simulator output directory, and the image's
    truth record. I/F float32 window images (binned windows stay binned)."""
    root = Path(sim_dir)
    truth = read_truth(root)
    im = truth["images"][image]
    calset = load_calset(root / truth["calibration"]["dir"])
    windows = {w["name"]: WindowConfig(**w).window for w in truth["config"]["imaging"]["windows"]}
    isds = {name: read_isd(root / p) for name, p in im["window_geometry"].items()}
    sun = read_isd(root / im["geometry"]).sun_position.positions
    r_h = float(np.mean(np.linalg.norm(sun, axis=1)) / AU_KM)
    t_exp = float(truth["t_exp_s"])
    out: list[Framelet] = []
    for k, files in enumerate(im["dn_files"]):
        dn = {Path(f).stem.rsplit("_", 1)[0]: np.load(root / f) for f in files}
        controls = [(dn[c], windows[c]) for c in CONTROL_WINDOWS if c in dn]
        model = straylight_from_controls(controls, calset, straylight_order) if controls else None
        for name in sorted(isds):
            if name not in dn:
                continue
            iof, _, _ = calibrate_framelet(dn[name], windows[name], calset, t_exp, r_h,
                                           straylight=model)
            cam = FrameCamera.from_isd(isds[name], window=window_from_isd(isds[name]),
                                       et=float(im["exposure_et"][k]) + t_exp / 2.0)
            out.append(Framelet(name, k, iof, cam))
    return out, im
