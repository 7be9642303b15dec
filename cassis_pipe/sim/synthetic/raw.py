"""A tiny synthetic raw observation directory without the simulator (tests, quick checks):
tc.bin and science.bin from ``level0.synth``, a nominal 1 Hz hk.bin, a flat calibration set,
so every stage of the workflow can run in seconds. Scene DN are synthetic; there is no geometry
(give r_h)."""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import numpy as np

from cassis_pipe.calibrate import CalSet, write_calset
from cassis_pipe.instrument.constants import K_TABLE
from cassis_pipe.level0.pseudo import Key
from cassis_pipe.sim.synthetic.level0 import Observation, build_observation, make_table
from cassis_pipe.telemetry.hk import encode_hk
from cassis_pipe.telemetry.timecode import encode_timecode

#: K of the synthetic calibration set, (I/F) s / (DN AU^2) (the flown table)
BIAS_DN = 100.0


def synthetic_hk(start_s: float, seconds: int) -> bytes:
    """Nominal housekeeping at 1 Hz for ``seconds`` s from on-board time ``start_s``: every
    frame type but imaging, zone temperatures inside their target ranges, rotation at 0."""
    out = []
    for i in range(seconds):
        ts = encode_timecode(start_s + i)
        zones = {f"Z{z}_CALC_TEMP": 2730 + 10 * z for z in range(1, 6)}
        zones.update({f"Z{z}_MIN_TEMP": 2700 + 10 * z for z in range(1, 6)})
        zones.update({f"Z{z}_MAX_TEMP": 2760 + 10 * z for z in range(1, 6)})
        zones["FPGA_COMM_STAT"] = 1
        out += [encode_hk(0x00, ts, {"PT_FPA_1": 2731}), encode_hk(0x01, ts, zones),
                encode_hk(0x02, ts, {"U_3V3_PE": 3300}), encode_hk(0x03, ts, {"PE_HK_STAT": 1}),
                encode_hk(0x10, ts, {"FSW_UPTIME": 86400 + i}), encode_hk(0x11, ts, {})]
    return b"".join(out)


def write_synthetic_raw(out: str | Path, *, num_exp: int = 3, version: str = "synth-v1",
                        drop: Collection[Key] = (), seed: int = 0,
                        uid: int = 272536398) -> Observation:
    """Write ``out/tc.bin``, ``out/science.bin`` (without the frames of ``drop`` framelets),
    ``out/hk.bin`` (nominal, from 5 s before to 5 s after the exposures) and
    ``out/calibration/<version>/`` (bias 100 DN, flat 1, no bad pixels). Returns the
    observation (true DN per framelet in ``.dn``); ``uid`` names the observation (default
    272536398 = MY34_002002_211_2)."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    obs = build_observation(uid=uid, table=make_table(num_exp=num_exp), max_frame_data=512,
                            seed=seed)
    dropped = set(drop)
    (d / "tc.bin").write_bytes(obs.tc)
    (d / "science.bin").write_bytes(b"".join(b for k, _, b in obs.frames if k not in dropped))
    (d / "hk.bin").write_bytes(synthetic_hk(100_000_000.0 - 5, 11 + num_exp))
    n = 2048
    write_calset(d, CalSet(version, np.full((n, n), BIAS_DN, np.float32),
                           np.ones((n, n), np.float32), np.zeros((n, n), np.uint8),
                           dict(K_TABLE), binning_mode="mean", created="2026-01-01"))
    return obs
