"""Procedural Mars surface: I/F in the four CaSSIS bands at body-fixed ground points.

The surface is a height field (multi-octave value noise, ridged noise, bowl craters with raised
rims, dune trains) over the reference spheroid, with colour units (bright dust, intermediate,
dark basalt, olivine-bearing, optional ice) mixed by low-frequency noise. I/F is Lambertian:
I/F = A_band * max(0, n . s) + 0.02 * A_band (diffuse sky light), with n the local surface normal
and s the unit vector to the Sun. Bands are ordered as :data:`config.FILTERS` (PAN, RED, NIR,
BLU). The same kernel renders framelet ground points and truth map grids.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.sim.noise import hash3, unit_float, value_noise3

#: normal albedo of each colour unit in (PAN, RED, NIR, BLU) = 677, 835, 940, 497 nm
UNIT_ALBEDO = np.array([
    [0.30, 0.40, 0.42, 0.12],   # bright dust
    [0.22, 0.30, 0.31, 0.09],   # intermediate
    [0.12, 0.15, 0.16, 0.07],   # dark basaltic sand
    [0.15, 0.17, 0.14, 0.08],   # olivine-bearing (NIR absorption)
    [0.55, 0.52, 0.48, 0.58],   # water ice / frost
], dtype=np.float64)

_N_OCT = 10            # height octaves: wavelengths 8 km, 4 km, ... 15.6 m
_LAMBDA0_M = 8000.0
_CRATER_CELL_M = np.array([6000.0, 1500.0, 400.0, 100.0, 30.0])


@nb.njit(cache=True)
def _height(x: float, y: float, z: float, seed: np.uint64, crater_density: float,
            dune_w: float) -> tuple[float, float, float, float, float]:
    """Height (m) and its gradient (dimensionless, per metre) at a BF point (m).

    Also returns a crater-floor darkening factor in [0.9, 1].
    """
    h = 0.0
    gx = gy = gz = 0.0
    lam = _LAMBDA0_M
    for o in range(_N_OCT):
        v, dx, dy, dz = value_noise3(x / lam, y / lam, z / lam, seed + np.uint64(o))
        amp = 0.025 * lam
        h += amp * v
        gx += amp * dx / lam
        gy += amp * dy / lam
        gz += amp * dz / lam
        lam *= 0.5
    # ridged noise at two scales: sharp crests
    lam = 2500.0
    for o in range(2):
        v, dx, dy, dz = value_noise3(x / lam, y / lam, z / lam, seed + np.uint64(40 + o))
        sgn = 1.0 if v >= 0.0 else -1.0
        amp = 0.04 * lam
        h += amp * (1.0 - abs(v))
        gx -= amp * sgn * dx / lam
        gy -= amp * sgn * dy / lam
        gz -= amp * sgn * dz / lam
        lam *= 0.3
    # dunes: a sinusoidal train (wavelength 60 m) where dune_w > 0
    if dune_w > 0.0:
        lam_d = 60.0
        ph, px, py, pz = value_noise3(x / 700.0, y / 700.0, z / 700.0, seed + np.uint64(50))
        arg = 2.0 * np.pi * ((0.8 * x + 0.6 * z) / lam_d + 1.5 * ph)
        amp = 2.5 * dune_w
        c = np.cos(arg) * amp * 2.0 * np.pi
        h += amp * np.sin(arg)
        gx += c * (0.8 / lam_d + 1.5 * px / 700.0)
        gy += c * (1.5 * py / 700.0)
        gz += c * (0.6 / lam_d + 1.5 * pz / 700.0)
    # craters: at most one per lattice cell per scale, fully inside its cell
    floor = 1.0
    for s in range(_CRATER_CELL_M.shape[0]):
        cell = _CRATER_CELL_M[s]
        cx, cy, cz = np.floor(x / cell), np.floor(y / cell), np.floor(z / cell)
        hh = hash3(np.int64(cx), np.int64(cy), np.int64(cz), seed + np.uint64(60 + s))
        if unit_float(hh) > 0.35 * crater_density:
            continue
        u1 = unit_float(hash3(np.int64(cx), np.int64(cy), np.int64(cz), seed + np.uint64(70)))
        u2 = unit_float(hash3(np.int64(cx), np.int64(cy), np.int64(cz), seed + np.uint64(71)))
        u3 = unit_float(hash3(np.int64(cx), np.int64(cy), np.int64(cz), seed + np.uint64(72)))
        u4 = unit_float(hash3(np.int64(cx), np.int64(cy), np.int64(cz), seed + np.uint64(73)))
        rad = cell * (0.08 + 0.12 * u4)
        ox = (cx + 0.4 + 0.2 * u1) * cell
        oy = (cy + 0.4 + 0.2 * u2) * cell
        oz = (cz + 0.4 + 0.2 * u3) * cell
        ex, ey, ez = x - ox, y - oy, z - oz
        d = np.sqrt(ex * ex + ey * ey + ez * ez)
        rho = d / rad
        if rho >= 3.0 or d == 0.0:
            continue
        depth = 0.4 * rad
        rim = 0.08 * rad
        if rho < 1.0:
            hv = depth * (rho * rho - 1.0) + rim
            dh = 2.0 * depth * rho
            floor = min(floor, 0.9 + 0.1 * rho)
        else:
            tap = (3.0 - rho) / 2.0
            ex_ = np.exp(-4.0 * (rho - 1.0))
            hv = rim * ex_ * tap
            dh = rim * (-4.0 * ex_ * tap - ex_ * 0.5)
        h += hv
        k = dh / (rad * d)
        gx += k * ex
        gy += k * ey
        gz += k * ez
    return h, gx, gy, gz, floor


@nb.njit(cache=True, inline="always")
def _sig(v: float) -> float:
    return 1.0 / (1.0 + np.exp(-v))


@nb.njit(cache=True)
def _units(x: float, y: float, z: float, seed: np.uint64, ice: bool, dune_frac: float
           ) -> tuple[float, float, float, float, float]:
    """Mixed albedo in the 4 bands and the dune weight in [0, 1] at a BF point (m)."""
    n1, _, _, _ = value_noise3(x / 9000.0, y / 9000.0, z / 9000.0, seed + np.uint64(80))
    n1b, _, _, _ = value_noise3(x / 2300.0, y / 2300.0, z / 2300.0, seed + np.uint64(81))
    n2, _, _, _ = value_noise3(x / 5000.0, y / 5000.0, z / 5000.0, seed + np.uint64(82))
    n3, _, _, _ = value_noise3(x / 3000.0, y / 3000.0, z / 3000.0, seed + np.uint64(83))
    w0 = _sig(8.0 * (n1 + 0.35 * n1b - 0.1))          # bright dust
    w2 = (1.0 - w0) * _sig(8.0 * n2)                  # dark basalt
    w1 = 1.0 - w0 - w2                                # intermediate
    w3 = 0.6 * w1 * _sig(10.0 * (n3 - 0.35))          # olivine-bearing inside intermediate
    w1 -= w3
    w4 = 0.0
    if ice:
        ni, _, _, _ = value_noise3(x / 1200.0, y / 1200.0, z / 1200.0, seed + np.uint64(84))
        w4 = _sig(14.0 * (ni - 0.45))
        w0 *= 1.0 - w4
        w1 *= 1.0 - w4
        w2 *= 1.0 - w4
        w3 *= 1.0 - w4
    a = UNIT_ALBEDO
    b0 = w0 * a[0, 0] + w1 * a[1, 0] + w2 * a[2, 0] + w3 * a[3, 0] + w4 * a[4, 0]
    b1 = w0 * a[0, 1] + w1 * a[1, 1] + w2 * a[2, 1] + w3 * a[3, 1] + w4 * a[4, 1]
    b2 = w0 * a[0, 2] + w1 * a[1, 2] + w2 * a[2, 2] + w3 * a[3, 2] + w4 * a[4, 2]
    b3 = w0 * a[0, 3] + w1 * a[1, 3] + w2 * a[2, 3] + w3 * a[3, 3] + w4 * a[4, 3]
    dune = 0.0
    if dune_frac > 0.0 and n2 > 1.0 - 2.0 * dune_frac:
        dune = min(1.0, 2.0 * w2)
    return b0, b1, b2, b3, dune


@nb.njit(cache=True)
def _iof_point(x: float, y: float, z: float, sun: np.ndarray, inv_a2: float, inv_b2: float,
               seed: np.uint64, ice: bool, crater_density: float, dune_frac: float
               ) -> tuple[float, float, float, float]:
    b0, b1, b2, b3, dune_w = _units(x, y, z, seed, ice, dune_frac)
    _, gx, gy, gz, floor = _height(x, y, z, seed, crater_density, dune_w)
    # spheroid normal
    nx, ny, nz = x * inv_a2, y * inv_a2, z * inv_b2
    nn = np.sqrt(nx * nx + ny * ny + nz * nz)
    nx, ny, nz = nx / nn, ny / nn, nz / nn
    gn = gx * nx + gy * ny + gz * nz
    sx, sy, sz = nx - (gx - gn * nx), ny - (gy - gn * ny), nz - (gz - gn * nz)
    ss = np.sqrt(sx * sx + sy * sy + sz * sz)
    mu0 = max(0.0, (sx * sun[0] + sy * sun[1] + sz * sun[2]) / ss)
    tex, _, _, _ = value_noise3(x / 35.0, y / 35.0, z / 35.0, seed + np.uint64(90))
    fac = floor * (1.0 + 0.06 * tex) * (mu0 + 0.02)
    return b0 * fac, b1 * fac, b2 * fac, b3 * fac


@nb.njit(cache=True, parallel=True)
def render_iof(points_m: np.ndarray, sun: np.ndarray, radii_m: np.ndarray, seed: int,
               ice: bool, crater_density: float, dune_frac: float) -> np.ndarray:
    """I/F (N, 4) float32 at N body-fixed points in metres; NaN rows where points are NaN."""
    n = points_m.shape[0]
    out = np.empty((n, 4), dtype=np.float32)
    inv_a2 = 1.0 / (radii_m[0] * radii_m[0])
    inv_b2 = 1.0 / (radii_m[1] * radii_m[1])
    useed = np.uint64(seed)
    for i in nb.prange(n):
        x, y, z = points_m[i, 0], points_m[i, 1], points_m[i, 2]
        if np.isnan(x):
            out[i, 0] = out[i, 1] = out[i, 2] = out[i, 3] = np.nan
            continue
        v0, v1, v2, v3 = _iof_point(x, y, z, sun, inv_a2, inv_b2, useed, ice, crater_density,
                                    dune_frac)
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = v0, v1, v2, v3
    return out


def sun_vector(lat_deg: float, lon_deg: float, incidence_deg: float, azimuth_deg: float
               ) -> np.ndarray:
    """Unit BF vector towards the Sun for a given incidence and azimuth at a ground point."""
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    up = np.array([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)])
    east = np.array([-np.sin(lo), np.cos(lo), 0.0])
    north = np.cross(up, east)
    i, a = np.radians(incidence_deg), np.radians(azimuth_deg)
    v = np.cos(i) * up + np.sin(i) * (np.cos(a) * north + np.sin(a) * east)
    return v / np.linalg.norm(v)
