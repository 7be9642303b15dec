"""CaSSIS optics: detector pixel <-> focal plane (mm) <-> camera-frame ray, with the EPFL
rational distortion model (OD_A*_CORR / OD_A*_DIST) of the ISIS addendum kernel.

Chain (all in the TGO_CASSIS_FSA frame, mm on the focal plane):
``x = (sample - bs_sample) * pitch``, ``y = (line - bs_line) * pitch`` (distorted);
undistorted ``(u, v) = A1·chi / A3·chi, A2·chi / A3·chi`` with ``chi = [x², xy, y², x, y, 1]``
(CORR set); ray ``= normalise(u, v, f)``. The inverse uses the DIST set as the first guess and
then Newton iterations on the CORR model, so pixel -> ray -> pixel is exact (< 1e-6 px).
Pixel coordinates are detector 0-based with integer pixel centres (ISIS 1-based value - 1).
The point kernels :func:`pixel_to_ideal_point` and :func:`ray_to_pixel_point` are the one copy
of this chain in numba (the array kernels here and :mod:`cassis_pipe.geometry.projection` call
them); all kernels ``cache=True``, array kernels parallel (prange over points).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numba import njit, prange

from .constants import DETECTOR_LINES, DETECTOR_SAMPLES, PIXEL_PITCH_MM
from .kernels import KernelPool, get_float, get_floats, read_text_kernel

CASSIS_IK_ID = -143400


@njit(cache=True, inline="always")
def _chi_dot(a: np.ndarray, x: float, y: float) -> float:
    return a[0] * x * x + a[1] * x * y + a[2] * y * y + a[3] * x + a[4] * y + a[5]


@njit(cache=True)
def undistort_point(x: float, y: float, corr: np.ndarray) -> tuple[float, float]:
    """Distorted focal-plane mm -> ideal mm (CORR rational model)."""
    d = _chi_dot(corr[2], x, y)
    return _chi_dot(corr[0], x, y) / d, _chi_dot(corr[1], x, y) / d


@njit(cache=True)
def distort_point(u: float, v: float, corr: np.ndarray, dist: np.ndarray,
                  iterations: int) -> tuple[float, float]:
    """Ideal focal-plane mm -> distorted mm: DIST model, then ``iterations`` Newton steps that
    make it the exact inverse of the CORR model."""
    d = _chi_dot(dist[2], u, v)
    x = _chi_dot(dist[0], u, v) / d
    y = _chi_dot(dist[1], u, v) / d
    for _ in range(iterations):
        n1 = _chi_dot(corr[0], x, y)
        n2 = _chi_dot(corr[1], x, y)
        dd = _chi_dot(corr[2], x, y)
        f1 = n1 / dd - u
        f2 = n2 / dd - v
        # partial derivatives of chi·a w.r.t. x and y
        a, b, c = corr[0], corr[1], corr[2]
        n1x = 2 * a[0] * x + a[1] * y + a[3]
        n1y = a[1] * x + 2 * a[2] * y + a[4]
        n2x = 2 * b[0] * x + b[1] * y + b[3]
        n2y = b[1] * x + 2 * b[2] * y + b[4]
        dx_ = 2 * c[0] * x + c[1] * y + c[3]
        dy_ = c[1] * x + 2 * c[2] * y + c[4]
        j11 = (n1x * dd - n1 * dx_) / (dd * dd)
        j12 = (n1y * dd - n1 * dy_) / (dd * dd)
        j21 = (n2x * dd - n2 * dx_) / (dd * dd)
        j22 = (n2y * dd - n2 * dy_) / (dd * dd)
        det = j11 * j22 - j12 * j21
        x -= (j22 * f1 - j12 * f2) / det
        y -= (-j21 * f1 + j11 * f2) / det
    return x, y


@njit(cache=True)
def _distort_many(u: np.ndarray, v: np.ndarray, corr: np.ndarray, dist: np.ndarray,
                  iterations: int) -> tuple[np.ndarray, np.ndarray]:
    xs = np.empty(u.size)
    ys = np.empty(u.size)
    for k in range(u.size):
        xs[k], ys[k] = distort_point(u[k], v[k], corr, dist, iterations)
    return xs, ys


@njit(cache=True, inline="always")
def pixel_to_ideal_point(line: float, sample: float, p: np.ndarray, corr: np.ndarray
                         ) -> tuple[float, float]:
    """Detector (line, sample) -> ideal (undistorted) focal-plane (u, v) mm.
    ``p = [focal_mm, pitch_mm, bs_line, bs_sample]``."""
    x = (sample - p[3]) * p[1]
    y = (line - p[2]) * p[1]
    return undistort_point(x, y, corr)


@njit(cache=True, inline="always")
def ray_to_pixel_point(rx: float, ry: float, rz: float, p: np.ndarray, corr: np.ndarray,
                       dist: np.ndarray, iterations: int) -> tuple[float, float]:
    """FSA-frame direction -> detector (line, sample); NaN where it does not point forward
    (z <= 0)."""
    if not rz > 0.0:
        return np.nan, np.nan
    u = rx * p[0] / rz
    v = ry * p[0] / rz
    x, y = distort_point(u, v, corr, dist, iterations)
    return y / p[1] + p[2], x / p[1] + p[3]


@njit(cache=True, parallel=True)
def pixels_to_rays(line: np.ndarray, sample: np.ndarray, p: np.ndarray, corr: np.ndarray
                   ) -> np.ndarray:
    """Detector (line, sample) arrays -> (n, 3) unit rays in the FSA frame.
    ``p = [focal_mm, pitch_mm, bs_line, bs_sample]``."""
    n = line.size
    out = np.empty((n, 3))
    for k in prange(n):
        u, v = pixel_to_ideal_point(line[k], sample[k], p, corr)
        nrm = np.sqrt(u * u + v * v + p[0] * p[0])
        out[k, 0] = u / nrm
        out[k, 1] = v / nrm
        out[k, 2] = p[0] / nrm
    return out


@njit(cache=True, parallel=True)
def rays_to_pixels(rays: np.ndarray, p: np.ndarray, corr: np.ndarray, dist: np.ndarray,
                   iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) FSA-frame directions -> detector (line, sample); NaN where the ray does not point
    forward (z <= 0)."""
    n = rays.shape[0]
    line = np.empty(n)
    sample = np.empty(n)
    for k in prange(n):
        line[k], sample[k] = ray_to_pixel_point(rays[k, 0], rays[k, 1], rays[k, 2], p, corr,
                                                dist, iterations)
    return line, sample


@dataclass(frozen=True)
class Optics:
    """CaSSIS camera optics. Lengths in mm, pixel coordinates 0-based detector."""

    focal_length_mm: float = 874.9
    pixel_pitch_mm: float = PIXEL_PITCH_MM
    boresight_line: float = 1023.5
    """Optical-centre detector line, 0-based (ISIS BORESIGHT_LINE 1024.5 minus 1)."""
    boresight_sample: float = 1023.5
    corr: np.ndarray = field(default_factory=lambda: np.zeros((3, 6)))
    """(3, 6) OD_A1..A3_CORR: distorted -> ideal."""
    dist: np.ndarray = field(default_factory=lambda: np.zeros((3, 6)))
    """(3, 6) OD_A1..A3_DIST: ideal -> distorted (approximate inverse)."""
    newton_iterations: int = 4

    @classmethod
    def from_pool(cls, pool: KernelPool | dict, ik: int = CASSIS_IK_ID) -> Optics:
        """Build from a kernel pool (or an ISD ``naif_keywords`` dict) for instrument ``ik``."""
        pfx = f"INS{ik}_"

        def vals(key: str) -> list[float]:
            v = pool[pfx + key]
            return [float(x) for x in (v if isinstance(v, list | tuple) else [v])]

        corr = np.array([vals(f"OD_A{i}_CORR") for i in (1, 2, 3)], dtype=np.float64)
        dist = np.array([vals(f"OD_A{i}_DIST") for i in (1, 2, 3)], dtype=np.float64)
        return cls(focal_length_mm=vals("FOCAL_LENGTH")[0], pixel_pitch_mm=vals("PIXEL_PITCH")[0],
                   boresight_line=vals("BORESIGHT_LINE")[0] - 1.0,
                   boresight_sample=vals("BORESIGHT_SAMPLE")[0] - 1.0, corr=corr, dist=dist)

    @classmethod
    def from_kernel(cls, path: str | Path, ik: int = CASSIS_IK_ID) -> Optics:
        """Build from the ISIS addendum kernel (tgoCassisAddendum007.ti)."""
        pool = read_text_kernel(path)
        get_float(pool, f"INS{ik}_FOCAL_LENGTH")
        get_floats(pool, f"INS{ik}_OD_A1_CORR")
        return cls.from_pool(pool, ik)

    @property
    def params(self) -> np.ndarray:
        """``[focal_mm, pitch_mm, bs_line, bs_sample]`` for the numba kernels."""
        return np.array([self.focal_length_mm, self.pixel_pitch_mm, self.boresight_line,
                         self.boresight_sample], dtype=np.float64)

    @property
    def ifov_rad(self) -> float:
        """Nominal instantaneous field of view of one pixel (rad)."""
        return self.pixel_pitch_mm / self.focal_length_mm

    # -- focal plane --------------------------------------------------------------------
    def pixel_to_focal(self, line: np.ndarray, sample: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """Detector (line, sample) -> distorted focal-plane (x, y) mm."""
        return ((np.asarray(sample, dtype=np.float64) - self.boresight_sample)
                * self.pixel_pitch_mm,
                (np.asarray(line, dtype=np.float64) - self.boresight_line) * self.pixel_pitch_mm)

    def focal_to_pixel(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distorted focal-plane (x, y) mm -> detector (line, sample)."""
        return (np.asarray(y, dtype=np.float64) / self.pixel_pitch_mm + self.boresight_line,
                np.asarray(x, dtype=np.float64) / self.pixel_pitch_mm + self.boresight_sample)

    def undistort(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distorted focal-plane mm -> ideal mm (CORR model)."""
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        d = _chi_np(self.corr[2], x, y)
        return _chi_np(self.corr[0], x, y) / d, _chi_np(self.corr[1], x, y) / d

    def distort(self, u: np.ndarray, v: np.ndarray, exact: bool = True
                ) -> tuple[np.ndarray, np.ndarray]:
        """Ideal focal-plane mm -> distorted mm. ``exact=False`` applies only the published DIST
        model (~0.02 px from the CORR inverse at the corners)."""
        u = np.ascontiguousarray(u, dtype=np.float64)
        v = np.ascontiguousarray(v, dtype=np.float64)
        it = self.newton_iterations if exact else 0
        u, v = np.broadcast_arrays(u, v)
        xs, ys = _distort_many(np.ascontiguousarray(u).ravel(), np.ascontiguousarray(v).ravel(),
                               self.corr, self.dist, it)
        return xs.reshape(u.shape), ys.reshape(v.shape)

    # -- rays -----------------------------------------------------------------------------
    def pixel_to_ray(self, line: np.ndarray, sample: np.ndarray) -> np.ndarray:
        """Detector (line, sample) -> unit rays (..., 3) in the TGO_CASSIS_FSA frame."""
        line, sample = np.broadcast_arrays(np.asarray(line, dtype=np.float64),
                                           np.asarray(sample, dtype=np.float64))
        rays = pixels_to_rays(np.ascontiguousarray(line).ravel(),
                              np.ascontiguousarray(sample).ravel(), self.params, self.corr)
        return rays.reshape(line.shape + (3,))

    def ray_to_pixel(self, rays: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Directions (..., 3) in the FSA frame -> detector (line, sample); NaN if z <= 0."""
        rays = np.asarray(rays, dtype=np.float64)
        shape = rays.shape[:-1]
        line, sample = rays_to_pixels(np.ascontiguousarray(rays.reshape(-1, 3)), self.params,
                                      self.corr, self.dist, self.newton_iterations)
        return line.reshape(shape), sample.reshape(shape)

    def detector_corners(self) -> tuple[np.ndarray, np.ndarray]:
        """Detector (line, sample) of the four outer pixel corners."""
        l1, s1 = DETECTOR_LINES - 0.5, DETECTOR_SAMPLES - 0.5
        return np.array([-0.5, -0.5, l1, l1]), np.array([-0.5, s1, s1, -0.5])


def _chi_np(a: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return a[0] * x * x + a[1] * x * y + a[2] * y * y + a[3] * x + a[4] * y + a[5]


def default_optics() -> Optics:
    """Optics with the published tgoCassisAddendum007 values (no file needed)."""
    corr = np.array([
        [0.00376130530948266, -0.0134154156065812, -1.86749521007237e-05, 1.00021352681836,
         -0.000432362371703953, -0.000948065735350123],
        [9.9842559363676e-05, 0.00373543707958162, -0.0133299918873929, -0.000215311328389359,
         0.995296015537294, -0.0183542717710778],
        [-3.13320167004204e-05, -7.35655125749807e-06, -1.57664245066771e-05,
         0.00373549465439151, -0.0141671946930935, 1.0]])
    dist = np.array([
        [0.00213658795560622, -0.00711785765064197, 1.10355974742147e-05, 0.573607182625377,
         0.000250884350194894, 0.000550623913037132],
        [-5.69725741015406e-05, 0.00215155905679149, -0.00716392991767185, 0.000124152787728634,
         0.576459544392426, 0.010576940564854],
        [1.78250771483506e-05, 4.24592743471094e-06, 9.51220699036653e-06, 0.00215158425420738,
         -0.0066835595774833, 0.573741540971609]])
    return Optics(corr=corr, dist=dist)
