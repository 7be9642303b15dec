"""Time interpolation of ISD tables and quaternion helpers (numpy, vectorised over times).

Quaternions are SPICE-style ``[w, x, y, z]``; :func:`quat_to_matrix` is SPICE ``q2m`` (the
returned matrix maps the reference frame to the rotated frame when the quaternion comes
from an ISD / CK).
"""

from __future__ import annotations

import numpy as np


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    """Unit quaternion(s) ``[w, x, y, z]`` (..., 4) -> rotation matrices (..., 3, 3)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - w * z)
    m[..., 0, 2] = 2 * (x * z + w * y)
    m[..., 1, 0] = 2 * (x * y + w * z)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - w * x)
    m[..., 2, 0] = 2 * (x * z - w * y)
    m[..., 2, 1] = 2 * (y * z + w * x)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Rotation matrix (3, 3) -> quaternion ``[w, x, y, z]`` with w >= 0 (inverse of
    :func:`quat_to_matrix`)."""
    m = np.asarray(m, dtype=np.float64)
    tr = np.trace(m)
    cands = np.array([1 + tr, 1 + 2 * m[0, 0] - tr, 1 + 2 * m[1, 1] - tr, 1 + 2 * m[2, 2] - tr])
    i = int(np.argmax(cands))
    s = 2.0 * np.sqrt(cands[i])
    if i == 0:
        q = [s / 4, (m[2, 1] - m[1, 2]) / s, (m[0, 2] - m[2, 0]) / s, (m[1, 0] - m[0, 1]) / s]
    elif i == 1:
        q = [(m[2, 1] - m[1, 2]) / s, s / 4, (m[0, 1] + m[1, 0]) / s, (m[0, 2] + m[2, 0]) / s]
    elif i == 2:
        q = [(m[0, 2] - m[2, 0]) / s, (m[0, 1] + m[1, 0]) / s, s / 4, (m[1, 2] + m[2, 1]) / s]
    else:
        q = [(m[1, 0] - m[0, 1]) / s, (m[0, 2] + m[2, 0]) / s, (m[1, 2] + m[2, 1]) / s, s / 4]
    q = np.array(q)
    return q if q[0] >= 0 else -q


def _segments(times: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment index and fraction (may lie outside [0, 1] for extrapolation)."""
    k = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    h = times[k + 1] - times[k]
    return k, (t - times[k]) / h


def interpolate_positions(times: np.ndarray, positions: np.ndarray,
                          velocities: np.ndarray | None, t: np.ndarray | float
                          ) -> tuple[np.ndarray, np.ndarray]:
    """Position (km) and velocity (km/s) at ephemeris times ``t``.

    Cubic Hermite with the sampled velocities when given, else piecewise linear. One sample:
    ``p0 + v0 * (t - t0)`` (constant if no velocity). Outside the table the end segment is
    extrapolated."""
    times = np.asarray(times, dtype=np.float64)
    pos = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    vel = None if velocities is None else np.asarray(velocities, dtype=np.float64).reshape(-1, 3)
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if len(times) == 1:
        v0 = np.zeros(3) if vel is None else vel[0]
        dt = (t - times[0])[:, None]
        return pos[0] + v0 * dt, np.broadcast_to(v0, (len(t), 3)).copy()
    k, s = _segments(times, t)
    h = (times[k + 1] - times[k])[:, None]
    s = s[:, None]
    p0, p1 = pos[k], pos[k + 1]
    if vel is None:
        return p0 + (p1 - p0) * s, (p1 - p0) / h
    m0, m1 = vel[k] * h, vel[k + 1] * h
    s2, s3 = s * s, s * s * s
    p = ((2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * m0 + (-2 * s3 + 3 * s2) * p1
         + (s3 - s2) * m1)
    dp = ((6 * s2 - 6 * s) * p0 + (3 * s2 - 4 * s + 1) * m0 + (-6 * s2 + 6 * s) * p1
          + (3 * s2 - 2 * s) * m1) / h
    return p, dp


def slerp_quaternions(times: np.ndarray, quaternions: np.ndarray, t: np.ndarray | float
                      ) -> np.ndarray:
    """Spherical linear interpolation of ``[w, x, y, z]`` quaternions at times ``t`` (shortest
    arc; one sample -> constant; ends clamp)."""
    times = np.asarray(times, dtype=np.float64)
    q = np.asarray(quaternions, dtype=np.float64).reshape(-1, 4)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    t = np.atleast_1d(np.asarray(t, dtype=np.float64))
    if len(times) == 1:
        return np.broadcast_to(q[0], (len(t), 4)).copy()
    k, s = _segments(times, t)
    s = np.clip(s, 0.0, 1.0)[:, None]
    q0, q1 = q[k], q[k + 1].copy()
    dot = np.sum(q0 * q1, axis=1)
    q1[dot < 0] *= -1
    dot = np.abs(dot)[:, None]
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    small = theta[:, 0] < 1e-10
    sin_t = np.where(small[:, None], 1.0, np.sin(theta))
    w0 = np.where(small[:, None], 1 - s, np.sin((1 - s) * theta) / sin_t)
    w1 = np.where(small[:, None], s, np.sin(s * theta) / sin_t)
    out = w0 * q0 + w1 * q1
    return out / np.linalg.norm(out, axis=1, keepdims=True)
