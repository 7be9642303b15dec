"""A tiny synthetic raw observation directory without the simulator (tests, quick checks):
tc.bin and science.bin from ``level0.synth`` plus a flat calibration set, so every stage of the
workflow can run in seconds. Scene DN are synthetic; there is no geometry (give r_h)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

from cassis_pipe.calibrate import CalSet, write_calset
from cassis_pipe.instrument.constants import K_TABLE
from cassis_pipe.level0.pseudo import Key
from cassis_pipe.sim.synthetic.level0 import Observation, build_observation, make_table

#: K of the synthetic calibration set, (I/F) s / (DN AU^2) (the flown table)
BIAS_DN = 100.0


def write_synthetic_raw(out: str | Path, *, num_exp: int = 3, version: str = "synth-v1",
                        drop: Collection[Key] = (), seed: int = 0) -> Observation:
    """Write ``out/tc.bin``, ``out/science.bin`` (without the frames of ``drop`` framelets) and
    ``out/calibration/<version>/`` (bias 100 DN, flat 1, no bad pixels). Returns the
    observation (true DN per framelet in ``.dn``)."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    obs = build_observation(table=make_table(num_exp=num_exp), max_frame_data=512, seed=seed)
    dropped = set(drop)
    (d / "tc.bin").write_bytes(obs.tc)
    (d / "science.bin").write_bytes(b"".join(b for k, _, b in obs.frames if k not in dropped))
    n = 2048
    write_calset(d, CalSet(version, np.full((n, n), BIAS_DN, np.float32),
                           np.ones((n, n), np.float32), np.zeros((n, n), np.uint8),
                           dict(K_TABLE), binning_mode="mean", created="2026-01-01"))
    return obs
