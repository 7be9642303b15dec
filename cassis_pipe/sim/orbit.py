"""Circular orbit, nadir attitude, ray/ellipsoid intersection and observation planning.

Frames: ``MI`` is a Mars-centred inertial frame with +Z along the spin axis; the body-fixed frame
(``BF``, IAU_MARS-like) coincides with MI at the observation reference time ``t_ref`` and rotates
at ``mars_rate_rad_s`` about +Z. Times are seconds relative to ``t_ref``; distances in km.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cassis_pipe.instrument.frames import default_frames
from cassis_pipe.instrument.optics import default_optics
from cassis_pipe.sim.config import OrbitConfig


@dataclass(frozen=True)
class OrbitElements:
    """Circular orbit: radius (km), inclination, node and argument of latitude at t=0 (rad)."""

    radius_km: float
    incl_rad: float
    node_rad: float
    u0_rad: float
    mean_motion_rad_s: float
    mars_rate_rad_s: float


def _rz(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    m = np.zeros(np.shape(angle) + (3, 3))
    m[..., 0, 0], m[..., 0, 1], m[..., 1, 0], m[..., 1, 1], m[..., 2, 2] = c, -s, s, c, 1.0
    return m


def state_bf(el: OrbitElements, t_s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Spacecraft position (km) and velocity (km/s) in the body-fixed frame at times ``t_s``."""
    t = np.atleast_1d(np.asarray(t_s, float))
    u = el.u0_rad + el.mean_motion_rad_s * t
    ci, si, cn, sn = np.cos(el.incl_rad), np.sin(el.incl_rad), np.cos(el.node_rad), np.sin(
        el.node_rad)
    cu, su = np.cos(u), np.sin(u)
    pos = el.radius_km * np.stack([cn * cu - sn * su * ci, sn * cu + cn * su * ci, su * si], -1)
    dpos = el.radius_km * el.mean_motion_rad_s * np.stack(
        [-cn * su - sn * cu * ci, -sn * su + cn * cu * ci, cu * si], -1)
    w = el.mars_rate_rad_s
    rot = _rz(-w * t)                                  # MI -> BF
    vel_rel = dpos - w * np.stack([-pos[:, 1], pos[:, 0], np.zeros(len(t))], -1)
    return np.einsum("nij,nj->ni", rot, pos), np.einsum("nij,nj->ni", rot, vel_rel)


def sc_attitude(pos: np.ndarray, vel: np.ndarray, yaw_deg: float) -> np.ndarray:
    """Body-fixed -> TGO_SPACECRAFT matrices (N, 3, 3) for a nadir-pointed spacecraft.

    -Y_sc points to the Mars centre; +X_sc is the ground-track direction yawed by ``yaw_deg``
    about -Y_sc (positive = towards +Z_sc).
    """
    nadir = -pos / np.linalg.norm(pos, axis=-1, keepdims=True)
    along = vel - np.sum(vel * nadir, -1, keepdims=True) * nadir
    along /= np.linalg.norm(along, axis=-1, keepdims=True)
    cross = np.cross(along, -nadir)                      # completes (along, up, cross)
    y = np.radians(yaw_deg)
    x_sc = np.cos(y) * along + np.sin(y) * cross
    y_sc = -nadir
    z_sc = np.cross(x_sc, y_sc)
    return np.stack([x_sc, y_sc, z_sc], axis=-2)


def intersect_ellipsoid(origin: np.ndarray, dirs: np.ndarray, radii_km: tuple[float, float]
                        ) -> tuple[np.ndarray, np.ndarray]:
    """First intersection of rays with the spheroid (a, a, b) in km; returns (points, hit mask)."""
    a, b = radii_km
    scale = np.array([1.0 / a, 1.0 / a, 1.0 / b])
    o = np.asarray(origin, float) * scale
    d = np.asarray(dirs, float) * scale
    qa = np.sum(d * d, -1)
    qb = 2.0 * np.sum(o * d, -1)
    qc = np.sum(o * o, -1) - 1.0
    disc = qb * qb - 4.0 * qa * qc
    hit = disc >= 0.0
    tt = (-qb - np.sqrt(np.where(hit, disc, 0.0))) / (2.0 * qa)
    hit &= tt > 0
    pts = np.asarray(origin, float) + tt[..., None] * np.asarray(dirs, float)
    return pts, hit


def latlon_deg(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Planetocentric latitude and east longitude (degrees, lon in [0, 360)) of BF points."""
    p = np.asarray(points, float)
    lat = np.degrees(np.arctan2(p[..., 2], np.hypot(p[..., 0], p[..., 1])))
    return lat, np.mod(np.degrees(np.arctan2(p[..., 1], p[..., 0])), 360.0)


def surface_point(lat_deg: np.ndarray, lon_deg: np.ndarray, radii_km: tuple[float, float]
                  ) -> np.ndarray:
    """BF point (km) on the spheroid at planetocentric latitude/longitude (degrees)."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    a, b = radii_km
    u = np.stack(np.broadcast_arrays(np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo),
                                     np.sin(la)), -1)
    r = 1.0 / np.sqrt((u[..., 0] ** 2 + u[..., 1] ** 2) / a**2 + u[..., 2] ** 2 / b**2)
    return u * r[..., None]


def pixel_ground(el: OrbitElements, t_s: np.ndarray, angle_deg: float, yaw_deg: float,
                 radii_km: tuple[float, float], row: float = 1023.5, col: float = 1023.5
                 ) -> np.ndarray:
    """Ground point (BF, km) seen by detector pixel (row, col) (0-based) at times ``t_s``."""
    pos, vel = state_bf(el, t_s)
    att = sc_attitude(pos, vel, yaw_deg)
    d_fsa = default_optics().pixel_to_ray(np.array([row]), np.array([col]))[0]
    m = default_frames().fsa_from_sc(angle_deg)
    d_bf = np.einsum("nji,j->ni", att, m.T @ d_fsa)
    pts, hit = intersect_ellipsoid(pos, d_bf, radii_km)
    if not np.all(hit):
        raise ValueError("boresight misses Mars")
    return pts


def make_elements(cfg: OrbitConfig, u0: float, node: float) -> OrbitElements:
    r = cfg.mars_radii_km[0] + cfg.altitude_km
    return OrbitElements(r, np.radians(cfg.inclination_deg), node, u0,
                         float(np.sqrt(cfg.mars_gm_km3_s2 / r**3)), cfg.mars_rate_rad_s)


def aim_orbit(cfg: OrbitConfig, angle_deg: float, t_aim_s: float = 0.0, row: float = 1023.5
              ) -> OrbitElements:
    """Orbit whose detector row ``row`` (centre column) sees the target at time ``t_aim_s``."""
    lat_t, lon_t = cfg.target_lat_deg, cfg.target_lon_deg
    incl = np.radians(cfg.inclination_deg)
    if abs(lat_t) > cfg.inclination_deg:
        raise ValueError("target latitude above the orbit inclination")
    u = np.arcsin(np.clip(np.sin(np.radians(lat_t)) / np.sin(incl), -1, 1))
    if cfg.descending:
        u = np.pi - u
    node = np.radians(lon_t) - np.arctan2(np.sin(u) * np.cos(incl), np.cos(u))
    target = surface_point(np.array(lat_t), np.array(lon_t), cfg.mars_radii_km)
    x = np.array([u, node])

    def miss(xv: np.ndarray) -> np.ndarray:
        el = make_elements(cfg, xv[0] - make_elements(cfg, 0, 0).mean_motion_rad_s * t_aim_s,
                           xv[1])
        g = pixel_ground(el, np.array([t_aim_s]), angle_deg, cfg.sc_yaw_deg,
                         cfg.mars_radii_km, row=row)[0]
        return (g - target)

    for _ in range(8):
        f0 = miss(x)
        if np.linalg.norm(f0) < 1e-4:
            break
        jac = np.empty((3, 2))
        for k in range(2):
            dx = np.zeros(2)
            dx[k] = 1e-5
            jac[:, k] = (miss(x + dx) - f0) / 1e-5
        x = x - np.linalg.lstsq(jac, f0, rcond=None)[0]
    n = make_elements(cfg, 0, 0).mean_motion_rad_s
    return make_elements(cfg, x[0] - n * t_aim_s, x[1])
