"""Observation planning: times, rotation angles, exposure step and the commanded-angle ISD.

Time base: the observation reference ``t = 0`` is the on-board time ``centre_sclk_s``; every
exposure has an on-board time on the 2^-24 s time-code grid, and its ephemeris time (TDB s past
J2000) comes from the TGO SCLK + leap-second kernels through the same conversion the pipeline
uses (:func:`cassis_pipe.telemetry.timecode.timecode_to_et`). Physical time for the orbit is
``et - et_ref``. Without kernels a linear SCLK -> ET relation is used (documented fallback).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cassis_pipe.geometry.builder import build_isd, tel_from_j2000
from cassis_pipe.geometry.interp import matrix_to_quat
from cassis_pipe.geometry.isd import Isd
from cassis_pipe.instrument.constants import AU_KM, KERNELS_DIR
from cassis_pipe.instrument.detector import Window
from cassis_pipe.instrument.frames import default_frames, frame_rotation
from cassis_pipe.labels.ids import ObservationId, observation_id_to_uid, orbit_phase_from_latitude
from cassis_pipe.sim.config import SimConfig, WindowConfig
from cassis_pipe.sim.orbit import (
    OrbitElements,
    aim_orbit,
    pixel_ground,
    sc_attitude,
    state_bf,
    surface_point,
)
from cassis_pipe.telemetry.timecode import encode_timecode, timecode_to_et

T_EXP_UNIT_S = 9.6e-6
#: Mars pole and prime meridian (pck00010): RA, Dec (deg, + rate per century), W (deg, deg/day)
POLE_RA = (317.68143, -0.1061)
POLE_DEC = (52.8865, -0.0609)
PRIME_W = (176.630, 350.89198226)
LSK_NAME = "naif0012.tls"
SCLK_NAME = "em16_tgo_step_20190823.tsc"
#: ET minus SCLK seconds used when no kernels are available (approximate, 2019)
FALLBACK_ET_MINUS_SCLK = 511176804.0


@dataclass
class ImagePlan:
    """One take-image command: its exposures and geometry (commanded angle)."""

    index: int
    uid: int
    obs_id: str
    angle_cmd_deg: float
    angle_true_deg: float
    sclk_s: np.ndarray          # exposure start, on-board seconds (N,)
    et: np.ndarray              # exposure start, TDB s past J2000 (N,)
    isd: Isd
    t_exp_s: float = 0.0        # exposure time (s): the image time is et + t_exp_s / 2

    def image_et(self, k: int) -> float:
        """Image time of exposure ``k`` (TDB s): mid-exposure, start + t_exp / 2 (the ISIS
        ``TgoCassisCamera`` convention the SPICE provider follows)."""
        return float(self.et[k]) + self.t_exp_s / 2.0


@dataclass
class Plan:
    """Whole observation (one or two images)."""

    elements: OrbitElements
    step_us: int
    t_exp_s: float
    sclk_ref_s: float
    et_ref: float
    sun_bf: np.ndarray          # unit vector to the Sun, body-fixed
    images: list[ImagePlan]
    kernels: tuple[str, str] | None




def find_kernels(cfg: SimConfig) -> tuple[str, str] | None:
    """(sclk, lsk) kernel paths, or None when they are not available."""
    base = Path(cfg.orbit.kernels_dir) if cfg.orbit.kernels_dir else KERNELS_DIR
    sclk, lsk = base / SCLK_NAME, base / LSK_NAME
    return (str(sclk), str(lsk)) if sclk.is_file() and lsk.is_file() else None


def on_grid(sclk_s: float) -> float:
    """Round on-board seconds to the 2^-24 s time-code grid."""
    return round(sclk_s * 16777216.0) / 16777216.0


def sclk_to_et(sclk_s: np.ndarray, kernels: tuple[str, str] | None) -> np.ndarray:
    """ET of on-board times (through the time code, as the pipeline converts them)."""
    s = np.atleast_1d(np.asarray(sclk_s, float))
    if kernels is None:
        return s + FALLBACK_ET_MINUS_SCLK
    return np.array([timecode_to_et(encode_timecode(float(v)), kernels[0], kernels[1])
                     for v in s])


def bf_from_j2000(et: np.ndarray, et_ref: float, rate_rad_s: float) -> np.ndarray:
    """J2000 -> body-fixed matrices (N, 3, 3): IAU pole at ``et_ref``, uniform spin after."""
    cent = et_ref / (86400.0 * 36525.0)
    ra = POLE_RA[0] + POLE_RA[1] * cent
    dec = POLE_DEC[0] + POLE_DEC[1] * cent
    w_ref = np.mod(PRIME_W[0] + PRIME_W[1] * et_ref / 86400.0, 360.0)
    m_ref = frame_rotation(w_ref, 3) @ frame_rotation(90.0 - dec, 1) @ frame_rotation(
        90.0 + ra, 3)
    t = np.atleast_1d(np.asarray(et, float)) - et_ref
    return np.stack([frame_rotation(np.degrees(rate_rad_s * v), 3) @ m_ref for v in t])


def forward_angle(cfg: SimConfig, el: OrbitElements) -> float:
    """Motor angle (deg) that points the boresight tilt along the ground track (forward)."""
    pos, vel = state_bf(el, np.array([0.0]))
    att = sc_attitude(pos, vel, cfg.orbit.sc_yaw_deg)[0]
    nadir = -pos[0] / np.linalg.norm(pos[0])
    along = vel[0] - (vel[0] @ nadir) * nadir
    along_sc = att @ (along / np.linalg.norm(along))
    frames = default_frames()
    ang = np.arange(0.0, 360.0, 0.25)
    score = [frames.boresight_spacecraft(a) @ along_sc for a in ang]
    a0 = float(ang[int(np.argmax(score))])
    fine = np.arange(a0 - 0.5, a0 + 0.5, 0.001)
    best = float(fine[int(np.argmax([frames.boresight_spacecraft(a) @ along_sc for a in fine]))])
    return float(np.mod(best, 360.0))


def _target_time(cfg: SimConfig, el: OrbitElements, angle: float, guess: float) -> float:
    """Time (s) at which the detector centre sees the target for motor angle ``angle``."""
    target = surface_point(np.array(cfg.orbit.target_lat_deg), np.array(cfg.orbit.target_lon_deg),
                           cfg.orbit.mars_radii_km)
    t = guess
    for _ in range(20):
        g0 = pixel_ground(el, np.array([t, t + 1.0]), angle, cfg.orbit.sc_yaw_deg,
                          cfg.orbit.mars_radii_km)
        v = g0[1] - g0[0]
        dt = float((target - g0[0]) @ v / (v @ v))
        t += dt
        if abs(dt) < 1e-6:
            break
    return t


def exposure_step_us(cfg: SimConfig, el: OrbitElements, angle: float) -> int:
    """Step_exp (us): the smallest filter window advances by (1 - overlap) of its footprint."""
    if cfg.imaging.step_exp_us > 0:
        return int(cfg.imaging.step_exp_us)
    rows = min(w.row1 - w.row0 + 1 for w in cfg.imaging.windows[:4])
    yaw, radii = cfg.orbit.sc_yaw_deg, cfg.orbit.mars_radii_km
    g_lo = pixel_ground(el, np.array([0.0]), angle, yaw, radii, row=1023.5 - rows / 2)[0]
    g_hi = pixel_ground(el, np.array([0.0]), angle, yaw, radii, row=1023.5 + rows / 2)[0]
    g = pixel_ground(el, np.array([0.0, 1.0]), angle, yaw, radii)
    speed = np.linalg.norm(g[1] - g[0])
    step_s = (1.0 - cfg.imaging.overlap) * np.linalg.norm(g_hi - g_lo) / speed
    return int(round(step_s * 1e4)) * 100


def make_uid(cfg: SimConfig, image_type: int) -> int:
    """Take-image UID: operation period, orbit number, orbit phase of the target, image type."""
    phase = orbit_phase_from_latitude(cfg.orbit.target_lat_deg, not cfg.orbit.descending,
                                      cfg.orbit.inclination_deg)
    return observation_id_to_uid(ObservationId(cfg.orbit.period, cfg.orbit.orbit_number,
                                               int(phase) % 360, image_type))


def build_image_isd(cfg: SimConfig, plan: Plan, et: np.ndarray, angle_deg: float, extra: dict,
                    window: Window | None = None) -> Isd:
    """ISD of one image at the COMMANDED angle, sampled at the exposure times (+/- one step),
    assembled by :func:`cassis_pipe.geometry.builder.build_isd`."""
    step = plan.step_us * 1e-6
    times = np.concatenate([[et[0] - step], et, [et[-1] + step]])
    t = times - plan.et_ref
    pos, vel = state_bf(plan.elements, t)
    w = plan.elements.mars_rate_rad_s
    bfj = bf_from_j2000(times, plan.et_ref, w)
    jbf = np.transpose(bfj, (0, 2, 1))
    vel_in = vel + w * np.stack([-pos[:, 1], pos[:, 0], np.zeros(len(t))], -1)
    pos_j = np.einsum("nij,nj->ni", jbf, pos)
    vel_j = np.einsum("nij,nj->ni", jbf, vel_in)
    sc_bf = sc_attitude(pos, vel, cfg.orbit.sc_yaw_deg)
    q_tel = np.array([matrix_to_quat(tel_from_j2000(sc_bf[k] @ bfj[k], angle_deg))
                      for k in range(len(t))])
    q_bf = np.array([matrix_to_quat(m) for m in bfj])
    sun_j = np.einsum("nij,j->ni", jbf, plan.sun_bf) * cfg.orbit.heliocentric_au * AU_KM
    spin = np.tile(jbf[0] @ np.array([0.0, 0.0, w]), (len(t), 1))
    return build_isd(float(et[len(et) // 2]), times, pos_j, vel_j, q_tel, q_bf, sun_j,
                     body_angular_velocities=spin, cassis=extra, window=window)


def window_isd(cfg: SimConfig, plan: Plan, image: ImagePlan, w: WindowConfig) -> Isd:
    """ISD of one filter window of an image (window-image coordinates, binning applied)."""
    extra = {**image.isd.cassis, "filter": w.name}
    return build_image_isd(cfg, plan, image.et, image.angle_cmd_deg, extra, window=w.window)


def make_plan(cfg: SimConfig, sun_bf: np.ndarray) -> Plan:
    """Orbit, exposure times and commanded-angle ISDs for the configured observation."""
    oc, ic = cfg.orbit, cfg.imaging
    kernels = find_kernels(cfg)
    el0 = aim_orbit(oc, 0.0)
    angle = ic.rotation_deg if ic.rotation_deg is not None else forward_angle(cfg, el0)
    angle = round(float(np.mod(angle, 360.0)) * 1000.0) / 1000.0     # motor resolution: mdeg
    el = aim_orbit(oc, angle)
    step_us = exposure_step_us(cfg, el, angle)
    sclk_ref = on_grid(oc.centre_sclk_s)
    et_ref = float(sclk_to_et(np.array([sclk_ref]), kernels)[0])
    plan = Plan(el, step_us, ic.t_exp_units * T_EXP_UNIT_S, sclk_ref, et_ref, sun_bf, [],
                kernels)
    angles = [angle]
    centres = [0.0]
    if ic.stereo:
        a2 = round(float(np.mod(angle + 180.0, 360.0)) * 1000.0) / 1000.0
        gap = ic.stereo_gap_s
        if gap <= 0.0:
            guess = 2.0 * oc.altitude_km * np.tan(np.radians(10.0)) / 3.0
            gap = _target_time(cfg, el, a2, guess)
        angles.append(a2)
        centres.append(float(gap))
    n = ic.num_exp
    for k, (a, tc) in enumerate(zip(angles, centres, strict=True)):
        image_type = 0 if not ic.stereo else k + 1
        uid = make_uid(cfg, image_type)
        start = on_grid(sclk_ref + tc - 0.5 * (n - 1) * step_us * 1e-6)
        sclk = np.array([on_grid(start + i * step_us * 1e-6) for i in range(n)])
        et = sclk_to_et(sclk, kernels)
        obs = str(ObservationId(oc.period, oc.orbit_number, (uid >> 2) & 511, image_type))
        extra = {"commanded_rotation_deg": a, "uid": uid, "observation_id": obs,
                 "exposure_ets": et.tolist(), "exposure_time_s": plan.t_exp_s,
                 "step_exp_us": step_us}
        isd = build_image_isd(cfg, plan, et, a, extra)
        plan.images.append(ImagePlan(k, uid, obs, a, a + ic.rotation_offset_deg, sclk, et, isd,
                                     plan.t_exp_s))
    return plan
