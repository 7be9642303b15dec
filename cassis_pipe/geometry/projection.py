"""Fused numba kernels of the frame camera: image <-> Mars ellipsoid (the hot path).

Parameters: ``p = [focal_mm, pitch_mm, bs_line, bs_sample]`` (optics), ``m_bf_fsa`` the 3x3
matrix taking FSA-frame vectors to body-fixed, ``origin`` the sensor position (km, body-fixed),
ellipsoid radii ``a``, ``c`` (km). Pixel coordinates are detector 0-based.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ..instrument.optics import distort_point, undistort_point
from .ellipsoid import _ray_hit


@njit(cache=True, parallel=True)
def detector_to_ground(line: np.ndarray, sample: np.ndarray, p: np.ndarray, corr: np.ndarray,
                       m_bf_fsa: np.ndarray, origin: np.ndarray, a: float, c: float
                       ) -> np.ndarray:
    """Detector (line, sample) -> (n, 3) body-fixed km on the ellipsoid; NaN rows off-planet."""
    n = line.size
    out = np.empty((n, 3))
    for k in prange(n):
        x = (sample[k] - p[3]) * p[1]
        y = (line[k] - p[2]) * p[1]
        u, v = undistort_point(x, y, corr)
        f = p[0]
        dx = m_bf_fsa[0, 0] * u + m_bf_fsa[0, 1] * v + m_bf_fsa[0, 2] * f
        dy = m_bf_fsa[1, 0] * u + m_bf_fsa[1, 1] * v + m_bf_fsa[1, 2] * f
        dz = m_bf_fsa[2, 0] * u + m_bf_fsa[2, 1] * v + m_bf_fsa[2, 2] * f
        nrm = np.sqrt(dx * dx + dy * dy + dz * dz)
        dx /= nrm
        dy /= nrm
        dz /= nrm
        t = _ray_hit(origin[0], origin[1], origin[2], dx, dy, dz, a, c)
        out[k, 0] = origin[0] + t * dx
        out[k, 1] = origin[1] + t * dy
        out[k, 2] = origin[2] + t * dz
    return out


@njit(cache=True, parallel=True)
def ground_to_detector(xyz: np.ndarray, p: np.ndarray, corr: np.ndarray, dist: np.ndarray,
                       iterations: int, m_bf_fsa: np.ndarray, origin: np.ndarray, a: float,
                       c: float, check_visible: bool) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) body-fixed km -> detector (line, sample). NaN where the point is behind the camera
    or (``check_visible``) faces away from the sensor (ellipsoid normal test)."""
    n = xyz.shape[0]
    line = np.empty(n)
    sample = np.empty(n)
    ia2 = 1.0 / (a * a)
    ic2 = 1.0 / (c * c)
    for k in prange(n):
        vx = xyz[k, 0] - origin[0]
        vy = xyz[k, 1] - origin[1]
        vz = xyz[k, 2] - origin[2]
        if check_visible:
            nd = -(xyz[k, 0] * vx + xyz[k, 1] * vy) * ia2 - xyz[k, 2] * vz * ic2
            if not nd > 0.0:
                line[k] = np.nan
                sample[k] = np.nan
                continue
        # body-fixed -> FSA is the transpose of m_bf_fsa
        fx = m_bf_fsa[0, 0] * vx + m_bf_fsa[1, 0] * vy + m_bf_fsa[2, 0] * vz
        fy = m_bf_fsa[0, 1] * vx + m_bf_fsa[1, 1] * vy + m_bf_fsa[2, 1] * vz
        fz = m_bf_fsa[0, 2] * vx + m_bf_fsa[1, 2] * vy + m_bf_fsa[2, 2] * vz
        if not fz > 0.0:
            line[k] = np.nan
            sample[k] = np.nan
            continue
        u = fx * p[0] / fz
        v = fy * p[0] / fz
        x, y = distort_point(u, v, corr, dist, iterations)
        sample[k] = x / p[1] + p[3]
        line[k] = y / p[1] + p[2]
    return line, sample
