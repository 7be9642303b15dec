"""Framelet formation: true-geometry ground points -> scene I/F -> PSF -> detector DN.

The TRUE camera of exposure k is the geometry library's FrameCamera built from the commanded
ISD at the exposure time, with the rotation-mechanism offset applied
(``FrameCamera.with_rotation_offset``) — exactly the model the pipeline must recover.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.instrument.constants import FILTER_ORDER, K_TABLE
from cassis_pipe.instrument.detector import Window
from cassis_pipe.sim.acquisition import ImagePlan, Plan
from cassis_pipe.sim.calibration import DetectorTruth, straylight_pattern
from cassis_pipe.sim.config import SimConfig
from cassis_pipe.sim.orbit import surface_point
from cassis_pipe.sim.radiometry import bin2x2, dn_per_iof, expose
from cassis_pipe.sim.scene import render_iof, scene_frame


def true_camera(image: ImagePlan, k: int, offset_deg: float) -> FrameCamera:
    """FrameCamera of exposure ``k`` (detector coordinates) with the true rotation offset, at
    the image time: mid-exposure (start + t_exp / 2), as the pipeline's cameras are."""
    return FrameCamera.from_isd(image.isd, et=image.image_et(k)).with_rotation_offset(
        offset_deg)


def window_ground_m(cam: FrameCamera, w: Window) -> np.ndarray:
    """Body-fixed ground points (m) of every full-resolution pixel of ``w``: (H*W, 3)."""
    lines = np.arange(w.row0, w.row1 + 1, dtype=np.float64)
    samples = np.arange(w.col0, w.col1 + 1, dtype=np.float64)
    ll, ss = np.meshgrid(lines, samples, indexing="ij")
    return cam.image_to_ground(ll, ss).reshape(-1, 3) * 1000.0


def scene_origin_frame(cfg: SimConfig) -> np.ndarray:
    """Scene frame (origin, east, north) in body-fixed metres, origin at the target."""
    o = surface_point(np.array(cfg.orbit.target_lat_deg), np.array(cfg.orbit.target_lon_deg),
                      cfg.orbit.mars_radii_km) * 1000.0
    return scene_frame(o)


def scene_iof(cfg: SimConfig, plan: Plan, pts_m: np.ndarray) -> np.ndarray:
    """Scene I/F (N, 4) at body-fixed points (m), bands in FILTER_ORDER order."""
    radii = np.array(cfg.orbit.mars_radii_km) * 1000.0
    return render_iof(np.ascontiguousarray(pts_m), plan.sun_bf, scene_origin_frame(cfg), radii,
                      cfg.seed, cfg.scene.ice, cfg.scene.crater_density,
                      cfg.scene.dune_fraction)


@dataclass
class Straylight:
    """Straylight of one image: detector pattern (peak ~1) and amplitude per exposure (DN)."""

    centre_rc: tuple[float, float]
    pattern: np.ndarray
    amplitude_dn: np.ndarray


def image_straylight(cfg: SimConfig, plan: Plan, image: ImagePlan) -> Straylight:
    """Geometry-dependent straylight: the pattern peaks on the detector side facing the Sun;
    the amplitude grows as the boresight turns towards the Sun and scales with t_exp."""
    n = cfg.detector.size_px
    amps = []
    centre = (n / 2.0, n / 2.0)
    for k in range(len(image.et)):
        cam = true_camera(image, k, cfg.imaging.rotation_offset_deg)
        s_fsa = cam.fsa_from_bf @ plan.sun_bf
        look = cam.bf_from_fsa[:, 2]
        g = 0.25 + 0.75 * 0.5 * (1.0 + float(look @ plan.sun_bf))
        amps.append(cfg.detector.straylight_dn * g * plan.t_exp_s / 1e-3)
        if k == len(image.et) // 2:
            d = np.hypot(s_fsa[0], s_fsa[1]) or 1.0
            centre = (n / 2.0 + 1400.0 * s_fsa[1] / d, n / 2.0 + 1400.0 * s_fsa[0] / d)
    return Straylight(centre, straylight_pattern(n, centre), np.array(amps))


def noise_seed(seed: int, image: int, k: int, window: int) -> int:
    """Per-window noise seed (63-bit) from the run seed and the window identity."""
    return (seed * 1_000_003 + image * 100_003 + k * 1_009 + window * 7 + 1) % (1 << 63)


def window_dn(cfg: SimConfig, plan: Plan, det: DetectorTruth, stray: Straylight,
              image: ImagePlan, k: int, wi: int, cam: FrameCamera) -> np.ndarray:
    """Pre-compression DN of window ``wi`` of exposure ``k`` (binned if commanded)."""
    w = cfg.imaging.windows[wi].window
    sl, shape = w.detector_slice(), w.shape     # binned windows have even extents (validate)
    if not w.is_control:
        band = FILTER_ORDER.index(w.filter)
        iof = scene_iof(cfg, plan, window_ground_m(cam, w))[:, band].reshape(shape)
        if cfg.detector.psf_sigma_px > 0:
            iof = gaussian_filter(iof, cfg.detector.psf_sigma_px, mode="nearest")
        scale = dn_per_iof(plan.t_exp_s, K_TABLE[w.filter], cfg.orbit.heliocentric_au)
    else:                      # control window: masked detector area, no scene light
        iof = np.zeros(shape, np.float32)
        scale = 0.0
    stray = (stray.pattern[sl] * np.float32(stray.amplitude_dn[k])).astype(np.float32)
    dn = expose(np.ascontiguousarray(iof, dtype=np.float32), scale, stray, det.flat[sl],
                det.bias_dn[sl], det.hot_dn[sl], cfg.detector.gain_e_per_dn,
                cfg.detector.read_noise_e, noise_seed(cfg.seed, image.index, k, wi),
                w.row0, w.col0)
    if w.binning == 2:
        dn = bin2x2(dn, cfg.detector.binning_mode)
    return dn
