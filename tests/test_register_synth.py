"""Small synthetic push-frame observations for the register tests (helpers + self-checks).

Geometry: non-rotating Mars (body-fixed = J2000), circular 400 km orbit, nadir-pointed
spacecraft (+X along track, +Y up, as the TGO FK expects: mechanism axis ~ -Y_sc = nadir), the
mechanism angle chosen so the ground runs along detector lines. Scene: a deterministic sum of
oriented sinusoids (wavelengths 20 m .. 800 m) on a local east/north plane, with band-dependent
weights so the four filters differ radiometrically.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import map_coordinates, spline_filter

from cassis_pipe.geometry.builder import build_isd, quaternion_from_matrix, tel_from_j2000
from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.isd import Isd
from cassis_pipe.instrument.constants import MARS_RADII_KM
from cassis_pipe.instrument.detector import Window
from cassis_pipe.model import Framelet

GM_KM3_S2 = 42828.37
ALT_KM = 400.0
BANDS = ("PAN", "RED", "NIR", "BLU")


@dataclass(frozen=True)
class SynthObs:
    isd: Isd
    times: np.ndarray
    """Exposure ETs (s)."""
    windows: dict[str, Window]


_INCL = np.radians(30.0)
_E1 = np.array([1.0, 0.0, 0.0])
_E2 = np.array([0.0, np.cos(_INCL), np.sin(_INCL)])
_E3 = np.cross(_E1, _E2)


def _state(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    r = MARS_RADII_KM[0] + ALT_KM
    n = np.sqrt(GM_KM3_S2 / r**3)
    e1, e2 = _E1, _E2
    c, s = np.cos(n * t)[:, None], np.sin(n * t)[:, None]
    return r * (c * e1 + s * e2), r * n * (-s * e1 + c * e2)


def _sc_from_bf(pos: np.ndarray, vel: np.ndarray) -> np.ndarray:
    up = pos / np.linalg.norm(pos)
    x = vel - (vel @ up) * up
    x /= np.linalg.norm(x)
    return np.stack([x, up, np.cross(x, up)])


def _isd(angle_deg: float, t: np.ndarray, window: Window | None = None) -> Isd:
    pos, vel = _state(t)
    q = np.array([quaternion_from_matrix(tel_from_j2000(_sc_from_bf(p, v), angle_deg))
                  for p, v in zip(pos, vel, strict=True)])
    body = np.tile([1.0, 0.0, 0.0, 0.0], (len(t), 1))
    sun = np.tile([2.0e8, 0.5e8, 0.3e8], (len(t), 1))
    return build_isd(float(np.mean(t)), t, pos, vel, q, body, sun, np.zeros((len(t), 3)),
                     window=window)


def _line_motion(angle_deg: float) -> tuple[float, float]:
    """(lines, samples) per second of the ground seen at the detector centre."""
    t = np.array([-2.0, 0.0, 2.0, 4.0])
    isd = _isd(angle_deg, t)
    c0 = FrameCamera.from_isd(isd, et=0.0)
    c1 = FrameCamera.from_isd(isd, et=1.0)
    g = c0.image_to_ground(np.array([1023.5]), np.array([1023.5]))
    line, sample = c1.ground_to_image(g)
    return float(line[0] - 1023.5), float(sample[0] - 1023.5)


#: mechanism angle (deg) at which the ground moves along detector lines in this geometry
#: (found by scanning |sample drift| / |line drift|; checked in test_push_frame_geometry)
PUSH_ANGLE_DEG = 179.74


def make_obs(n_exp: int = 7, width: int = 384, col0: int = 832, overlap: float = 0.1,
             angle_deg: float | None = None) -> SynthObs:
    """Commanded-angle ISD (one per observation) and exposure times: the 256-line windows
    advance by ``1 - overlap`` of their height between exposures."""
    angle = PUSH_ANGLE_DEG if angle_deg is None else angle_deg
    rate = abs(_line_motion(angle)[0])
    step_s = (1.0 - overlap) * 256.0 / rate
    times = (np.arange(n_exp) - (n_exp - 1) / 2.0) * step_s
    samples = np.arange(times[0] - 1.0, times[-1] + 1.01, 0.5)
    windows = {b: Window.default(b, col0=col0, col1=col0 + width - 1) for b in BANDS}
    return SynthObs(_isd(angle, samples), times, windows)


# -- scene -------------------------------------------------------------------------------------
_RNG = np.random.default_rng(20261121)
_N_WAVES = 48
_WAVELENGTH_M = np.exp(_RNG.uniform(np.log(20.0), np.log(800.0), _N_WAVES))
_THETA = _RNG.uniform(0.0, np.pi, _N_WAVES)
_PHASE = _RNG.uniform(0.0, 2 * np.pi, _N_WAVES)
_AMP = (_WAVELENGTH_M / 800.0) ** 0.6
_BAND_MIX = {"PAN": 0.0, "RED": 0.35, "NIR": 0.5, "BLU": -0.4}
_BAND_LEVEL = {"PAN": 0.20, "RED": 0.26, "NIR": 0.28, "BLU": 0.08}


RASTER_M = 2.5
_RASTERS: dict[tuple[float, float, float, float], tuple[np.ndarray, np.ndarray]] = {}


def _east_north(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scene plane coordinates (m): along the orbit plane and across it (arc lengths)."""
    r = np.linalg.norm(p, axis=-1)
    radius_m = MARS_RADII_KM[0] * 1000.0
    across = np.arcsin(np.clip(p @ _E3 / r, -1.0, 1.0)) * radius_m
    return np.arctan2(p @ _E2, p @ _E1) * radius_m, across


def _rasters(box: tuple[float, float, float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Texture and colour fields on a RASTER_M grid over ``box`` (east0, north0, east1,
    north1; m): sums of oriented sinusoids, built separably."""
    if box not in _RASTERS:
        e = np.arange(box[0], box[2] + RASTER_M, RASTER_M)
        n = np.arange(box[1], box[3] + RASTER_M, RASTER_M)
        tex = np.zeros((n.size, e.size))
        col = np.zeros((n.size, e.size))
        for k in range(_N_WAVES):
            ka = 2 * np.pi * np.cos(_THETA[k]) / _WAVELENGTH_M[k]
            kb = 2 * np.pi * np.sin(_THETA[k]) / _WAVELENGTH_M[k]
            part = _AMP[k] * (np.outer(np.cos(kb * n + _PHASE[k]), np.sin(ka * e))
                              + np.outer(np.sin(kb * n + _PHASE[k]), np.cos(ka * e)))
            if k % 3 == 0:
                col += part
            else:
                tex += part
        _RASTERS[box] = (spline_filter(tex), spline_filter(col))
    return _RASTERS[box]


def scene(xyz_km: np.ndarray, band: str, box: tuple[float, float, float, float]
          ) -> np.ndarray:
    """Deterministic textured I/F-like field at body-fixed ground points (km) inside ``box``
    (local east/north metres), cubic-interpolated from the separable wave rasters."""
    p = np.asarray(xyz_km, dtype=np.float64) * 1000.0
    east, north = _east_north(p)
    tex, col = _rasters(box)
    coords = np.stack([(north.ravel() - box[1]) / RASTER_M, (east.ravel() - box[0]) / RASTER_M])
    t = map_coordinates(tex, coords, order=3, mode="nearest", prefilter=False).reshape(east.shape)
    c = map_coordinates(col, coords, order=3, mode="nearest", prefilter=False).reshape(east.shape)
    lvl = _BAND_LEVEL[band]
    return lvl * (1.0 + 0.15 * t + 0.1 * _BAND_MIX[band] * c)


def scene_box(obs: SynthObs, margin_m: float = 600.0) -> tuple[float, float, float, float]:
    """East/north box (m) covering every window of every exposure, with a margin."""
    pts = []
    for t in (obs.times[0], obs.times[-1]):
        cam = FrameCamera.from_isd(obs.isd, et=float(t))
        ll = np.array([354.0, 354.0, 1664.0, 1664.0])
        cols = [w.col0 for w in obs.windows.values()] + [w.col1 for w in obs.windows.values()]
        ss = np.array([min(cols), max(cols)] * 2, dtype=float)
        pts.append(cam.image_to_ground(ll, ss) * 1000.0)
    east, north = _east_north(np.concatenate(pts))
    return (float(np.floor(east.min() - margin_m)), float(np.floor(north.min() - margin_m)),
            float(np.ceil(east.max() + margin_m)), float(np.ceil(north.max() + margin_m)))


def render(obs: SynthObs, true_delta_deg: float, bands: tuple[str, ...] = BANDS
           ) -> list[Framelet]:
    """Framelets rendered with the TRUE offset; their cameras carry the commanded ISD only."""
    out = []
    box = scene_box(obs)
    for k, t in enumerate(obs.times):
        base = FrameCamera.from_isd(obs.isd, et=float(t))
        for b in bands:
            w = obs.windows[b]
            cam = base.with_window(w)
            nl, ns = w.binned_shape
            ll, ss = np.meshgrid(np.arange(nl, dtype=float), np.arange(ns, dtype=float),
                                 indexing="ij")
            g = cam.with_rotation_offset(true_delta_deg).image_to_ground(ll, ss)
            out.append(Framelet(b, k, scene(g, b, box), cam))
    return out


# -- self-checks -------------------------------------------------------------------------------
def test_push_frame_geometry() -> None:
    """The chosen angle makes the ground move along lines, and consecutive framelets overlap
    by about the requested fraction."""
    obs = make_obs(n_exp=3)
    dl, ds = _line_motion(PUSH_ANGLE_DEG)
    assert abs(ds) < 1e-3 * abs(dl)
    for off in (-1.0, 1.0):
        assert abs(_line_motion(PUSH_ANGLE_DEG + off)[1]) > 1e-3 * abs(dl)
    c0 = FrameCamera.from_isd(obs.isd, et=float(obs.times[0])).with_window(obs.windows["RED"])
    c1 = FrameCamera.from_isd(obs.isd, et=float(obs.times[1])).with_window(obs.windows["RED"])
    g = c1.image_to_ground(np.array([128.0]), np.array([192.0]))
    line, sample = c0.ground_to_image(g)
    shift = abs(float(line[0]) - 128.0)
    assert 0.85 * 256 < shift < 0.95 * 256
    assert abs(float(sample[0]) - 192.0) < 0.05 * shift


def test_scene_is_deterministic_and_textured() -> None:
    obs = make_obs(n_exp=1)
    f = render(obs, 0.0, ("PAN",))[0]
    assert f.image.shape == (280, 384)
    assert np.isfinite(f.image).all()
    assert 0.05 < f.image.std() / f.image.mean() < 0.5
    np.testing.assert_array_equal(f.image, render(obs, 0.0, ("PAN",))[0].image)
    assert f.image.std() > 0.5 * f.image[:, :20].std() > 0.0
