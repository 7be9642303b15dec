"""SPICE kernels of a simulated observation: binary SPK and CK plus a meta-kernel, written next
to the telemetry in ``<raw_dir>/kernels/`` (layout in docs/sim.md).

The simulated world: Mars at rest relative to the solar-system barycentre (so light time moves
nothing and the SPICE provider's light-time-to-surface convention reproduces the simulator's
geometric truth), TGO on the simulator's circular orbit, the Sun at the simulator's body-fixed
direction (rotating with Mars, as the scene's illumination is defined). CKs are built the way
flown ones are: spacecraft attitude (J2000 -> TGO_SPACECRAFT) and the telescope at the
COMMANDED rotation angle (TGO_CASSIS_CRU -> TGO_CASSIS_TEL, as from the step counter), so the
true rotation offset stays in ``truth/`` only. Encoded SCLK = on-board seconds x 65536 (TGO
clock partition 1 starts at 0).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from cassis_pipe.geometry.interp import matrix_to_quat
from cassis_pipe.geometry.kernels.daf import write_daf
from cassis_pipe.geometry.kernels.kernelset import write_meta_kernel
from cassis_pipe.geometry.kernels.segments import ck3_array, ck_file, spk13_array, spk_file
from cassis_pipe.instrument.constants import (
    AU_KM,
    KERNELS_DIR,
    NAIF_CRU_FRAME,
    NAIF_J2000,
    NAIF_MARS,
    NAIF_TEL_FRAME,
    NAIF_TGO,
    NAIF_TGO_SPACECRAFT_FRAME,
)
from cassis_pipe.instrument.frames import default_frames
from cassis_pipe.sim.acquisition import Plan, bf_from_j2000, on_grid, sclk_to_et
from cassis_pipe.sim.config import SimConfig
from cassis_pipe.sim.orbit import sc_attitude, state_bf

NAIF_SUN, NAIF_SSB = 10, 0
TICKS_PER_S = 65536.0
SAMPLE_STEP_S = 0.25
MARGIN_S = 2.0
TEXT_KERNELS = ("naif0012.tls", "em16_tgo_step_20190823.tsc", "pck00010.tpc", "em16_tgo_v18.tf",
                "em16_tgo_cassis_v07.ti", "tgoCassisAddendum007.ti")
SPK_NAME, CK_NAME, META_NAME = "sim_tgo.bsp", "sim_tgo.bc", "sim.tm"


def sample_sclk(plan: Plan) -> np.ndarray:
    """On-board sample times (s, time-code grid) covering every image +/- MARGIN_S."""
    lo = min(float(im.sclk_s[0]) for im in plan.images) - MARGIN_S
    hi = max(float(im.sclk_s[-1]) for im in plan.images) + MARGIN_S + plan.t_exp_s
    n = int(np.ceil((hi - lo) / SAMPLE_STEP_S)) + 1
    return np.array([on_grid(lo + k * SAMPLE_STEP_S) for k in range(n)])


def tgo_states_j2000(cfg: SimConfig, plan: Plan, et: np.ndarray) -> np.ndarray:
    """TGO state relative to Mars (N, 6), J2000 km and km/s (inertial velocity)."""
    t = et - plan.et_ref
    pos, vel = state_bf(plan.elements, t)
    w = plan.elements.mars_rate_rad_s
    jbf = np.transpose(bf_from_j2000(et, plan.et_ref, w), (0, 2, 1))
    vel_in = vel + w * np.stack([-pos[:, 1], pos[:, 0], np.zeros(len(t))], -1)
    return np.hstack([np.einsum("nij,nj->ni", jbf, pos), np.einsum("nij,nj->ni", jbf, vel_in)])


def sun_states_j2000(cfg: SimConfig, plan: Plan, et: np.ndarray) -> np.ndarray:
    """Sun state relative to Mars (N, 6), J2000: fixed body-fixed direction, so it turns with
    Mars' spin (velocity = spin x position)."""
    w = plan.elements.mars_rate_rad_s
    jbf = np.transpose(bf_from_j2000(et, plan.et_ref, w), (0, 2, 1))
    pos = np.einsum("nij,j->ni", jbf, plan.sun_bf) * cfg.orbit.heliocentric_au * AU_KM
    spin = np.einsum("nij,j->ni", jbf, np.array([0.0, 0.0, w]))
    return np.hstack([pos, np.cross(spin, pos)])


def spacecraft_quaternions(cfg: SimConfig, plan: Plan, et: np.ndarray) -> np.ndarray:
    """C-matrix quaternions ``[w, x, y, z]`` J2000 -> TGO_SPACECRAFT (N, 4)."""
    t = et - plan.et_ref
    pos, vel = state_bf(plan.elements, t)
    sc_bf = sc_attitude(pos, vel, cfg.orbit.sc_yaw_deg)
    bfj = bf_from_j2000(et, plan.et_ref, plan.elements.mars_rate_rad_s)
    return np.array([matrix_to_quat(sc_bf[k] @ bfj[k]) for k in range(len(et))])


def write_sim_kernels(cfg: SimConfig, plan: Plan, raw_dir: Path) -> Path | None:
    """Write ``kernels/`` (SPK, CK, copies of the text kernels, meta-kernel) under ``raw_dir``;
    returns the meta-kernel path, or None when no SCLK kernel is available (linear fallback
    clock: no CK can be written)."""
    if plan.kernels is None:
        return None
    kdir = Path(raw_dir) / "kernels"
    kdir.mkdir(parents=True, exist_ok=True)
    sclk = sample_sclk(plan)
    et = sclk_to_et(sclk, plan.kernels)
    tgo = tgo_states_j2000(cfg, plan, et)
    # Sun (11 min of light time away) and the resting Mars are given over the samples only:
    # the provider then uses the geometric Sun position, which is the simulator's.
    sun = sun_states_j2000(cfg, plan, et)
    mars = np.tile(np.concatenate([-sun[len(sun) // 2, :3], np.zeros(3)]), (2, 1))
    spk = spk_file([
        spk13_array(NAIF_TGO, NAIF_MARS, NAIF_J2000, et, tgo, 7, "SIM TGO ORBIT"),
        spk13_array(NAIF_SUN, NAIF_MARS, NAIF_J2000, et, sun, 7, "SIM SUN"),
        spk13_array(NAIF_MARS, NAIF_SSB, NAIF_J2000, np.array([et[0] - 1e6, et[-1] + 1e6]),
                    mars, 1, "SIM MARS AT REST"),
    ], "cassis-pipe simulator", [f"Simulated TGO ephemeris, UIDs "
                                 f"{', '.join(str(im.uid) for im in plan.images)}."])
    write_daf(spk, kdir / SPK_NAME)
    ticks = sclk * TICKS_PER_S
    arrays = [ck3_array(NAIF_TGO_SPACECRAFT_FRAME, NAIF_J2000, ticks,
                        spacecraft_quaternions(cfg, plan, et), name="SIM TGO ATTITUDE")]
    frames = default_frames()
    for im in plan.images:
        q = matrix_to_quat(frames.tel_from_cru(im.angle_cmd_deg))
        inside = (sclk >= im.sclk_s[0] - MARGIN_S) & (sclk <= im.sclk_s[-1] + MARGIN_S)
        arrays.append(ck3_array(NAIF_TEL_FRAME, NAIF_CRU_FRAME, ticks[inside],
                                np.tile(q, (int(inside.sum()), 1)),
                                name=f"SIM CASSIS TEL {im.angle_cmd_deg:.3f} DEG"))
    write_daf(ck_file(arrays, "cassis-pipe simulator",
                      ["Simulated TGO attitude; CaSSIS telescope at the commanded angles."]),
              kdir / CK_NAME)
    texts = []
    for name in TEXT_KERNELS:
        src = Path(plan.kernels[0]).parent / name
        src = src if src.is_file() else KERNELS_DIR / name
        shutil.copyfile(src, kdir / name)
        texts.append(kdir / name)
    return write_meta_kernel(kdir / META_NAME, texts + [kdir / SPK_NAME, kdir / CK_NAME],
                             "Kernels of a cassis-pipe simulated observation.")

