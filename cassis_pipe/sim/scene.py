"""Procedural Mars surface: I/F in the four CaSSIS bands at body-fixed ground points.

Scene coordinates: a ground point X (body-fixed, m) is projected orthographically onto the
plane tangent to the spheroid at the scene origin (the target): ``x = (X - O) . E`` (east, m),
``y = (X - O) . N`` (north, m). This is seamless at any latitude, poles included, and a point
always maps to the same (x, y) whichever camera or map grid asked for it.

The surface is a height field h(x, y) (multi-octave value noise, ridged noise, bowl craters with
raised rims, dune trains) with colour units (bright dust, intermediate, dark basalt,
olivine-bearing, optional ice) mixed by low-frequency noise. I/F is Lambertian:
``I/F = A_band * (max(0, n . s) + 0.02) * texture``, n the normal of the height field on the
spheroid, s the unit vector to the Sun, 0.02 diffuse sky light. Bands are ordered as
:data:`config.FILTER_ORDER` (PAN, RED, NIR, BLU). The same kernel renders framelet ground points and
truth map grids.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.sim.noise import hash2, unit_float, value_noise2, value_noise2_pair

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
#: (cos, sin) of a per-octave rotation of the noise lattice (golden-angle steps)
_ROT = np.array([[np.cos(2.39996 * k + 0.3), np.sin(2.39996 * k + 0.3)] for k in range(12)])


@nb.njit(cache=True)
def _height_grad(x: float, y: float, seed: np.uint64, crater_density: float, dune_w: float
                 ) -> tuple[float, float, float]:
    """Gradient (dh/dx, dh/dy, dimensionless) of the height field at (x, y) m, and a
    crater-floor darkening factor in [0.9, 1]."""
    gx = gy = 0.0
    lam = _LAMBDA0_M
    for o in range(_N_OCT):                        # each octave rotated: no lattice alignment
        c, s = _ROT[o, 0], _ROT[o, 1]
        _, dx, dy = value_noise2((c * x - s * y) / lam, (s * x + c * y) / lam,
                                 seed + np.uint64(o))
        gx += 0.025 * (c * dx + s * dy)
        gy += 0.025 * (c * dy - s * dx)
        lam *= 0.5
    lam = 2500.0                                   # ridged noise: sharp crests
    for o in range(2):
        c, s = _ROT[o + 5, 0], _ROT[o + 5, 1]
        v, dx, dy = value_noise2((c * x - s * y) / lam, (s * x + c * y) / lam,
                                 seed + np.uint64(40 + o))
        sgn = 0.04 if v >= 0.0 else -0.04
        gx -= sgn * (c * dx + s * dy)
        gy -= sgn * (c * dy - s * dx)
        lam *= 0.3
    if dune_w > 0.0:                               # dune train, 60 m wavelength
        ph, px, py = value_noise2(x / 700.0, y / 700.0, seed + np.uint64(50))
        arg = 2.0 * np.pi * ((0.8 * x + 0.6 * y) / 60.0 + 1.5 * ph)
        c = np.cos(arg) * 2.5 * dune_w * 2.0 * np.pi
        gx += c * (0.8 / 60.0 + 1.5 * px / 700.0)
        gy += c * (0.6 / 60.0 + 1.5 * py / 700.0)
    floor = 1.0
    for s in range(_CRATER_CELL_M.shape[0]):       # <= 1 crater per cell, inside the cell
        cell = _CRATER_CELL_M[s]
        cx, cy = np.int64(np.floor(x / cell)), np.int64(np.floor(y / cell))
        sd = seed + np.uint64(60 + 8 * s)
        if unit_float(hash2(cx, cy, sd)) > 0.35 * crater_density:
            continue
        rad = cell * (0.08 + 0.12 * unit_float(hash2(cx, cy, sd + np.uint64(1))))
        ex = x - (cx + 0.4 + 0.2 * unit_float(hash2(cx, cy, sd + np.uint64(2)))) * cell
        ey = y - (cy + 0.4 + 0.2 * unit_float(hash2(cx, cy, sd + np.uint64(3)))) * cell
        d = np.sqrt(ex * ex + ey * ey)
        rho = d / rad
        if rho >= 3.0 or d == 0.0:
            continue
        if rho < 1.0:                              # bowl, depth 0.4 R
            dh = 0.8 * rad * rho
            floor = min(floor, 0.9 + 0.1 * rho)
        else:                                      # rim 0.08 R, decaying ejecta blanket
            tap = (3.0 - rho) / 2.0
            e = np.exp(-4.0 * (rho - 1.0))
            dh = 0.08 * rad * (-4.0 * e * tap - 0.5 * e)
        k = dh / (rad * d)
        gx += k * ex
        gy += k * ey
    return gx, gy, floor


@nb.njit(cache=True, inline="always")
def _sig(v: float) -> float:
    return 1.0 / (1.0 + np.exp(-v))


@nb.njit(cache=True)
def _units(x: float, y: float, seed: np.uint64, ice: bool, dune_frac: float
           ) -> tuple[float, float, float, float, float]:
    """Mixed albedo in the 4 bands and the dune weight in [0, 1] at (x, y) m."""
    n1, n2 = value_noise2_pair(x / 7000.0, y / 7000.0, seed + np.uint64(80))
    n1b, n3 = value_noise2_pair(x / 2600.0, y / 2600.0, seed + np.uint64(81))
    w0 = _sig(8.0 * (n1 + 0.35 * n1b - 0.1))          # bright dust
    w2 = (1.0 - w0) * _sig(8.0 * n2)                  # dark basalt
    w1 = 1.0 - w0 - w2                                # intermediate
    w3 = 0.6 * w1 * _sig(10.0 * (n3 - 0.35))          # olivine-bearing inside intermediate
    w1 -= w3
    w4 = 0.0
    if ice:
        ni, _, _ = value_noise2(x / 1200.0, y / 1200.0, seed + np.uint64(84))
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
    if dune_frac > 0.0:
        dune = min(1.0, 2.0 * w2) * _sig(12.0 * (n2 - 1.0 + 2.0 * dune_frac))
    return b0, b1, b2, b3, dune


@nb.njit(cache=True, parallel=True)
def render_iof(points_m: np.ndarray, sun: np.ndarray, frame: np.ndarray, radii_m: np.ndarray,
               seed: int, ice: bool, crater_density: float, dune_frac: float) -> np.ndarray:
    """I/F (N, 4) float32 at N body-fixed points (m); NaN rows where points are NaN.

    ``frame`` rows: scene origin O, east unit vector E, north unit vector N (body-fixed).
    """
    n = points_m.shape[0]
    out = np.empty((n, 4), dtype=np.float32)
    inv_a2 = 1.0 / (radii_m[0] * radii_m[0])
    inv_b2 = 1.0 / (radii_m[1] * radii_m[1])
    useed = np.uint64(seed)
    for i in nb.prange(n):
        px, py, pz = points_m[i, 0], points_m[i, 1], points_m[i, 2]
        if np.isnan(px):
            out[i, 0] = out[i, 1] = out[i, 2] = out[i, 3] = np.nan
            continue
        dx, dy, dz = px - frame[0, 0], py - frame[0, 1], pz - frame[0, 2]
        x = dx * frame[1, 0] + dy * frame[1, 1] + dz * frame[1, 2]
        y = dx * frame[2, 0] + dy * frame[2, 1] + dz * frame[2, 2]
        b0, b1, b2, b3, dune_w = _units(x, y, useed, ice, dune_frac)
        gx, gy, floor = _height_grad(x, y, useed, crater_density, dune_w)
        nx, ny, nz = px * inv_a2, py * inv_a2, pz * inv_b2
        nn = np.sqrt(nx * nx + ny * ny + nz * nz)
        sx = nx / nn - gx * frame[1, 0] - gy * frame[2, 0]
        sy = ny / nn - gx * frame[1, 1] - gy * frame[2, 1]
        sz = nz / nn - gx * frame[1, 2] - gy * frame[2, 2]
        ss = np.sqrt(sx * sx + sy * sy + sz * sz)
        mu0 = max(0.0, (sx * sun[0] + sy * sun[1] + sz * sun[2]) / ss)
        tex, _, _ = value_noise2(x / 35.0, y / 35.0, useed + np.uint64(90))
        fac = floor * (1.0 + 0.06 * tex) * (mu0 + 0.02)
        out[i, 0], out[i, 1], out[i, 2], out[i, 3] = b0 * fac, b1 * fac, b2 * fac, b3 * fac
    return out


def scene_frame(origin_m: np.ndarray) -> np.ndarray:
    """(3, 3) scene frame rows (origin, east, north) for a body-fixed origin point (m)."""
    o = np.asarray(origin_m, float)
    up = o / np.linalg.norm(o)
    east = np.cross([0.0, 0.0, 1.0], up)
    if np.linalg.norm(east) < 1e-9:          # at a pole: any horizontal axis will do
        east = np.array([0.0, 1.0, 0.0])
    east /= np.linalg.norm(east)
    north = np.cross(up, east)
    return np.stack([o, east, north])


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
