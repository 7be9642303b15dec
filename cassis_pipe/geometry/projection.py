"""Fused numba kernels of the frame camera: image <-> Mars ellipsoid (the hot path). The point
kernels here are the one copy of the camera math: the array kernels below, ``FrameCamera`` and
the map projector (:mod:`cassis_pipe.mapping.project`) all call them.

A camera reaches the kernels as one :class:`CameraArrays` tuple, built once per camera by
:meth:`FrameCamera.arrays <cassis_pipe.geometry.camera.FrameCamera.arrays>`: optics
``p = [focal_mm, pitch_mm, bs_line, bs_sample]``, distortion sets ``corr`` / ``dist`` (3, 6)
and Newton ``iterations``; ``m`` the 3x3 matrix taking FSA-frame vectors to body-fixed;
``origin`` the sensor position (km, body-fixed); ellipsoid radii ``a``, ``c`` (km); ``win =
[row0, col0, binning, lines, samples]`` the window (detector <-> window image). Detector
coordinates are 0-based with integer pixel centres; window-image coordinates are binned, also
0-based with integer pixel centres. Kernels are ``cache=True``; point kernels are
``inline="always"``, array kernels parallel (prange over points).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numba import njit, prange

from ..instrument.optics import pixel_to_ideal_point, ray_to_pixel_point
from .ellipsoid import ray_hit


class CameraArrays(NamedTuple):
    """A frame camera as the kernels take it (numba-friendly tuple; km, mm, radians)."""

    p: np.ndarray
    corr: np.ndarray
    dist: np.ndarray
    iterations: int
    m: np.ndarray
    origin: np.ndarray
    a: float
    c: float
    win: np.ndarray


def stack_cameras(cams: Sequence[CameraArrays]) -> CameraArrays:
    """Cameras of equal array sizes and equal radii as one tuple of stacked arrays (leading
    axis = camera; ``a``, ``c`` those of the first camera); see :func:`camera_at`."""
    def stack(name: str, dtype: type = np.float64) -> np.ndarray:
        return np.ascontiguousarray(np.stack([np.asarray(getattr(ca, name), dtype)
                                              for ca in cams]))

    return CameraArrays(stack("p"), stack("corr"), stack("dist"), stack("iterations", np.int64),
                        stack("m"), stack("origin"), cams[0].a, cams[0].c, stack("win"))


@njit(cache=True, inline="always")
def camera_at(cams: CameraArrays, k: int) -> CameraArrays:
    """Camera ``k`` of a :func:`stack_cameras` tuple."""
    return CameraArrays(cams.p[k], cams.corr[k], cams.dist[k], cams.iterations[k], cams.m[k],
                        cams.origin[k], cams.a, cams.c, cams.win[k])


@njit(cache=True, inline="always")
def _detector_to_ground(line: float, sample: float, p: np.ndarray, corr: np.ndarray,
                        m: np.ndarray, o: np.ndarray, a: float, c: float
                        ) -> tuple[float, float, float]:
    u, v = pixel_to_ideal_point(line, sample, p, corr)
    f = p[0]
    dx = m[0, 0] * u + m[0, 1] * v + m[0, 2] * f
    dy = m[1, 0] * u + m[1, 1] * v + m[1, 2] * f
    dz = m[2, 0] * u + m[2, 1] * v + m[2, 2] * f
    nrm = np.sqrt(dx * dx + dy * dy + dz * dz)
    dx /= nrm
    dy /= nrm
    dz /= nrm
    t = ray_hit(o[0], o[1], o[2], dx, dy, dz, a, c)
    return o[0] + t * dx, o[1] + t * dy, o[2] + t * dz


@njit(cache=True, inline="always")
def _ground_to_detector(gx: float, gy: float, gz: float, p: np.ndarray, corr: np.ndarray,
                        dist: np.ndarray, iterations: int, m: np.ndarray, o: np.ndarray,
                        a: float, c: float, check_visible: bool) -> tuple[float, float]:
    vx = gx - o[0]
    vy = gy - o[1]
    vz = gz - o[2]
    if check_visible:
        nd = -(gx * vx + gy * vy) / (a * a) - gz * vz / (c * c)
        if not nd > 0.0:
            return np.nan, np.nan
    # body-fixed -> FSA is the transpose of m
    fx = m[0, 0] * vx + m[1, 0] * vy + m[2, 0] * vz
    fy = m[0, 1] * vx + m[1, 1] * vy + m[2, 1] * vz
    fz = m[0, 2] * vx + m[1, 2] * vy + m[2, 2] * vz
    return ray_to_pixel_point(fx, fy, fz, p, corr, dist, iterations)


@njit(cache=True, inline="always")
def detector_to_ground_point(line: float, sample: float, cam: CameraArrays
                             ) -> tuple[float, float, float]:
    """Detector (line, sample) -> body-fixed km on the ellipsoid; NaN off-planet."""
    return _detector_to_ground(line, sample, cam.p, cam.corr, cam.m, cam.origin, cam.a, cam.c)


@njit(cache=True, inline="always")
def ground_to_detector_point(gx: float, gy: float, gz: float, cam: CameraArrays,
                             check_visible: bool) -> tuple[float, float]:
    """Body-fixed ground point (km) -> detector (line, sample); NaN if it lies behind the
    camera or (``check_visible``) faces away from the sensor (ellipsoid normal test)."""
    return _ground_to_detector(gx, gy, gz, cam.p, cam.corr, cam.dist, cam.iterations, cam.m,
                               cam.origin, cam.a, cam.c, check_visible)


@njit(cache=True, inline="always")
def detector_to_window_point(line: float, sample: float, win: np.ndarray
                             ) -> tuple[float, float]:
    """Detector (line, sample) -> window-image (line, sample) (``Window.from_detector``)."""
    b = win[2]
    return (line - win[0] + 0.5) / b - 0.5, (sample - win[1] + 0.5) / b - 0.5


@njit(cache=True, inline="always")
def ground_to_image_point(gx: float, gy: float, gz: float, cam: CameraArrays
                          ) -> tuple[float, float]:
    """Body-fixed ground point (km) -> window-image (line, sample); NaN if it faces away from
    the sensor or lies behind the camera."""
    line, sample = ground_to_detector_point(gx, gy, gz, cam, True)
    return detector_to_window_point(line, sample, cam.win)


# The array kernels unpack the tuple before the prange loop: numba does not hoist a tuple's
# attribute reads out of a parallel loop body (measured +15 % time per point otherwise).
@njit(cache=True, parallel=True)
def detector_to_ground(line: np.ndarray, sample: np.ndarray, cam: CameraArrays) -> np.ndarray:
    """Detector (line, sample) -> (n, 3) body-fixed km on the ellipsoid; NaN rows off-planet."""
    n = line.size
    out = np.empty((n, 3))
    p, corr, m, o, a, c = cam.p, cam.corr, cam.m, cam.origin, cam.a, cam.c
    for k in prange(n):
        out[k, 0], out[k, 1], out[k, 2] = _detector_to_ground(line[k], sample[k], p, corr, m, o,
                                                              a, c)
    return out


@njit(cache=True, parallel=True)
def ground_to_detector(xyz: np.ndarray, cam: CameraArrays, check_visible: bool
                       ) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) body-fixed km -> detector (line, sample). NaN where the point is behind the camera
    or (``check_visible``) faces away from the sensor (ellipsoid normal test)."""
    n = xyz.shape[0]
    line = np.empty(n)
    sample = np.empty(n)
    p, corr, dist, it, m, o, a, c = (cam.p, cam.corr, cam.dist, cam.iterations, cam.m,
                                     cam.origin, cam.a, cam.c)
    for k in prange(n):
        line[k], sample[k] = _ground_to_detector(xyz[k, 0], xyz[k, 1], xyz[k, 2], p, corr, dist,
                                                 it, m, o, a, c, check_visible)
    return line, sample
