"""The embedded sample: simulate an observation's raw telemetry when it is absent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from cassis_pipe.stages._io import PipelineError, write_json


def run_simulate(out_dir: str | Path, observation_id: str, *, size: str = "small",
                 seed: int = 1, config_path: str | Path | None = None,
                 kernels_dir: str | Path | None = None, stage_json: str | Path | None = None,
                 ) -> dict[str, Any]:
    """Simulate into ``out_dir`` (science.bin, tc.bin, hk.bin, geometry/, calibration/,
    truth/) with ``cassis_pipe.sim``; check that it produced ``observation_id``.
    ``kernels_dir`` (SCLK + LSK for the simulator's time conversion) is passed to the simulator
    unless the YAML sets ``orbit.kernels_dir``, so that the simulation and the pipeline convert
    time codes with the same kernels (the simulator's own default is the package data).

    Returns the stage JSON (written to ``stage_json`` when given). No wall-clock times in it.
    """
    try:
        from cassis_pipe.sim.config import make_config
        from cassis_pipe.sim.writer import simulate
    except ImportError as exc:
        raise PipelineError(f"the simulator (cassis_pipe.sim) is not available: {exc}") from exc
    try:
        overrides: dict[str, Any] = {}
        if config_path:
            overrides = yaml.safe_load(Path(config_path).read_text()) or {}
            if not isinstance(overrides, dict):
                raise ValueError("top level must be a mapping")
        if kernels_dir is not None:
            orbit = dict(overrides.get("orbit") or {})
            orbit.setdefault("kernels_dir", str(kernels_dir))
            overrides["orbit"] = orbit
        cfg = make_config(size, seed, overrides)
    except (OSError, ValueError, TypeError, yaml.YAMLError) as exc:
        raise PipelineError(f"simulator configuration {config_path}: {exc}") from exc
    out = Path(out_dir)
    summary = simulate(cfg, out)
    made = sorted(im["observation_id"] for im in summary["images"])
    if observation_id not in made:
        raise PipelineError(f"the simulation of {observation_id} produced observation(s) "
                            f"{made}: fix the sheet's id or the simulator configuration")
    faults = json.loads((out / "truth" / "faults.json").read_text())
    stage = {"stage": "simulate", "observation_id": observation_id, "size": size, "seed": seed,
             "config": Path(config_path).name if config_path else None,
             "observations": made, "files": summary["files"],
             "calibration": summary["calibration"]["dir"], "n_faults": faults["n_faults"],
             "compression_ratio": summary["compression"]["ratio"]}
    if stage_json is not None:
        write_json(stage_json, stage)
    return stage
