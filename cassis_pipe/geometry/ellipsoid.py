"""Mars ellipsoid (body-fixed, km): ray intersection, optional DEM refinement, planetocentric
latitude / longitude (deg, east-positive, 0-360) and local surface normals."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numba import njit, prange

from ..imaging.resample import bilinear_blend
from ..instrument.constants import MARS_RADII_KM

MARS_A_KM: float = MARS_RADII_KM[0]
MARS_C_KM: float = MARS_RADII_KM[2]

HeightFn = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Height above the ellipsoid (km) from planetocentric (lat_deg, lon_deg) arrays."""


@njit(cache=True, inline="always")
def ray_hit(ox: float, oy: float, oz: float, dx: float, dy: float, dz: float,
            a: float, c: float) -> float:
    """Smallest positive distance along the ray to the ellipsoid, NaN if missed."""
    ia2 = 1.0 / (a * a)
    ic2 = 1.0 / (c * c)
    qa = (dx * dx + dy * dy) * ia2 + dz * dz * ic2
    qb = 2.0 * ((ox * dx + oy * dy) * ia2 + oz * dz * ic2)
    qc = (ox * ox + oy * oy) * ia2 + oz * oz * ic2 - 1.0
    disc = qb * qb - 4.0 * qa * qc
    if disc < 0.0:
        return np.nan
    sq = np.sqrt(disc)
    # numerically stable roots
    qq = -0.5 * (qb + sq) if qb >= 0 else -0.5 * (qb - sq)
    t1 = qq / qa
    t2 = qc / qq if qq != 0.0 else np.nan
    lo = min(t1, t2)
    hi = max(t1, t2)
    if lo > 0.0:
        return lo
    if hi > 0.0:
        return hi
    return np.nan


@njit(cache=True, parallel=True)
def intersect_rays(origin: np.ndarray, dirs: np.ndarray, a: float, c: float) -> np.ndarray:
    """Intersect rays from one ``origin`` (3,) along ``dirs`` (n, 3) with the ellipsoid of
    radii (a, a, c) km; (n, 3) points, NaN rows where the ray misses."""
    n = dirs.shape[0]
    out = np.empty((n, 3))
    for k in prange(n):
        t = ray_hit(origin[0], origin[1], origin[2], dirs[k, 0], dirs[k, 1], dirs[k, 2], a, c)
        out[k, 0] = origin[0] + t * dirs[k, 0]
        out[k, 1] = origin[1] + t * dirs[k, 1]
        out[k, 2] = origin[2] + t * dirs[k, 2]
    return out


def xyz_to_latlon(xyz: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Body-fixed km (..., 3) -> planetocentric latitude (deg), east longitude (deg, 0-360),
    radius (km)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    r = np.sqrt(x * x + y * y + z * z)
    lat = np.degrees(np.arctan2(z, np.hypot(x, y)))
    lon = np.mod(np.degrees(np.arctan2(y, x)), 360.0)
    return lat, lon, r


def latlon_to_xyz(lat_deg: np.ndarray, lon_deg: np.ndarray, radius_km: np.ndarray | float
                  ) -> np.ndarray:
    """Planetocentric latitude / east longitude (deg) and radius (km) -> body-fixed km."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    lon = np.radians(np.asarray(lon_deg, dtype=np.float64))
    r = np.asarray(radius_km, dtype=np.float64)
    cl = np.cos(lat)
    return np.stack(np.broadcast_arrays(r * cl * np.cos(lon), r * cl * np.sin(lon),
                                        r * np.sin(lat)), axis=-1)


def ellipsoid_radius(lat_deg: np.ndarray, a: float = MARS_A_KM, c: float = MARS_C_KM
                     ) -> np.ndarray:
    """Ellipsoid radius (km) at planetocentric latitude (deg)."""
    lat = np.radians(np.asarray(lat_deg, dtype=np.float64))
    return a * c / np.sqrt((c * np.cos(lat)) ** 2 + (a * np.sin(lat)) ** 2)


def surface_point(lat_deg: np.ndarray, lon_deg: np.ndarray, height_km: np.ndarray | float = 0.0,
                  a: float = MARS_A_KM, c: float = MARS_C_KM) -> np.ndarray:
    """Point at ``height_km`` above the ellipsoid *radially* (planetocentric convention, as
    for MOLA radius DEMs relative to the reference ellipsoid)."""
    return latlon_to_xyz(lat_deg, lon_deg, ellipsoid_radius(lat_deg, a, c) + height_km)


def surface_normal(xyz: np.ndarray, a: float = MARS_A_KM, c: float = MARS_C_KM) -> np.ndarray:
    """Unit outward ellipsoid normal (..., 3) at body-fixed points (km)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    n = xyz / np.array([a * a, a * a, c * c])
    return n / np.linalg.norm(n, axis=-1, keepdims=True)


def intersect_dem(origin: np.ndarray, dirs: np.ndarray, height: HeightFn,
                  a: float = MARS_A_KM, c: float = MARS_C_KM, tol_km: float = 1e-6,
                  max_iter: int = 50) -> np.ndarray:
    """Intersect rays with the surface ``radius = ellipsoid_radius(lat) + height(lat, lon)``.

    Iteration: intersect the ellipsoid grown by ``h`` (radii ``a + h``, ``c + h``), compare the
    hit's radius with the DEM surface radius there, correct ``h`` by the difference; stop when
    it is below ``tol_km``. Rays missing the surface, hitting NaN heights or not converging in
    ``max_iter`` (steep terrain at grazing view) give NaN rows."""
    dirs = np.ascontiguousarray(dirs, dtype=np.float64).reshape(-1, 3)
    origin = np.asarray(origin, dtype=np.float64)
    n = len(dirs)
    h = np.zeros(n)
    out = np.full((n, 3), np.nan)
    todo = np.arange(n)
    for _ in range(max_iter):
        pts = intersect_rays_shell(origin, np.ascontiguousarray(dirs[todo]), h[todo], a, c)
        lat, lon, r = xyz_to_latlon(pts)
        resid = ellipsoid_radius(lat, a, c) + np.asarray(height(lat, lon), np.float64) - r
        ok = np.abs(resid) < tol_km
        out[todo[ok]] = pts[ok]
        keep = ~ok & np.isfinite(resid)
        h[todo[keep]] += resid[keep]
        todo = todo[keep]
        if todo.size == 0:
            break
    return out


@njit(cache=True, parallel=True)
def intersect_rays_shell(origin: np.ndarray, dirs: np.ndarray, h: np.ndarray, a: float,
                         c: float) -> np.ndarray:
    """Like :func:`intersect_rays` with per-ray grown radii ``(a + h, a + h, c + h)`` km."""
    n = dirs.shape[0]
    out = np.empty((n, 3))
    for k in prange(n):
        t = ray_hit(origin[0], origin[1], origin[2], dirs[k, 0], dirs[k, 1], dirs[k, 2],
                     a + h[k], c + h[k])
        out[k, 0] = origin[0] + t * dirs[k, 0]
        out[k, 1] = origin[1] + t * dirs[k, 1]
        out[k, 2] = origin[2] + t * dirs[k, 2]
    return out


def grid_height(heights_km: np.ndarray, lat0_deg: float, lon0_deg: float, dlat_deg: float,
                dlon_deg: float) -> HeightFn:
    """Height function bilinearly sampling a regular lat/lon grid: ``heights_km[i, j]`` at
    latitude ``lat0 + i*dlat``, longitude ``lon0 + j*dlon`` (deg). NaN outside the grid."""
    grid = np.asarray(heights_km, dtype=np.float64)

    def fn(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
        fi = (np.asarray(lat) - lat0_deg) / dlat_deg
        fj = np.mod(np.asarray(lon) - lon0_deg, 360.0) / dlon_deg
        return _bilinear(grid, np.ravel(fi), np.ravel(fj)).reshape(np.shape(lat))

    return fn


@njit(cache=True)
def _bilinear(grid: np.ndarray, fi: np.ndarray, fj: np.ndarray) -> np.ndarray:
    n = fi.size
    out = np.empty(n)
    ni, nj = grid.shape
    for k in range(n):
        i, j = fi[k], fj[k]
        if not (0.0 <= i <= ni - 1 and 0.0 <= j <= nj - 1):
            out[k] = np.nan
            continue
        i0 = min(int(i), ni - 2) if ni > 1 else 0
        j0 = min(int(j), nj - 2) if nj > 1 else 0
        di = i - i0
        dj = j - j0
        i1 = min(i0 + 1, ni - 1)
        j1 = min(j0 + 1, nj - 1)
        out[k] = bilinear_blend(grid[i0, j0], grid[i0, j1], grid[i1, j0], grid[i1, j1], di, dj)
    return out
