"""Deterministic 2-D/3-D lattice noise primitives (numba), with analytic gradients.

Coordinates are dimensionless (position divided by the feature wavelength). Values are in
[-1, 1]; the gradient is with respect to the dimensionless coordinates.
"""

from __future__ import annotations

import numba as nb
import numpy as np

_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_PX = np.uint64(0x8CB92BA72F3D8DD7)
_PY = np.uint64(0xD6E8FEB86659FD93)
_PZ = np.uint64(0xA0761D6478BD642F)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


@nb.njit(cache=True, inline="always")
def mix64(x: np.uint64) -> np.uint64:
    """splitmix64 finaliser: a well-mixed 64-bit integer from any 64-bit integer."""
    x = (x ^ (x >> _S30)) * _M2
    x = (x ^ (x >> _S27)) * _M3
    return x ^ (x >> _S31)


@nb.njit(cache=True, inline="always")
def hash3(ix: np.int64, iy: np.int64, iz: np.int64, seed: np.uint64) -> np.uint64:
    """64-bit hash of an integer lattice point and a seed."""
    h = seed * _M1 + np.uint64(ix) * _PX
    h = (h ^ (h >> _S31)) + np.uint64(iy) * _PY
    h = (h ^ (h >> _S27)) + np.uint64(iz) * _PZ
    return mix64(h)


@nb.njit(cache=True, inline="always")
def unit_float(h: np.uint64) -> float:
    """Uniform float in [0, 1) from the top 53 bits of a hash."""
    return float(h >> _S11) * (1.0 / 9007199254740992.0)


@nb.njit(cache=True, inline="always")
def _fade(t: float) -> tuple[float, float]:
    t2 = t * t
    return t2 * t * (t * (t * 6.0 - 15.0) + 10.0), 30.0 * t2 * (t * (t - 2.0) + 1.0)


@nb.njit(cache=True)
def value_noise3(x: float, y: float, z: float, seed: np.uint64
                 ) -> tuple[float, float, float, float]:
    """Quintic-interpolated lattice value noise; returns (value, d/dx, d/dy, d/dz)."""
    fx, fy, fz = np.floor(x), np.floor(y), np.floor(z)
    ix, iy, iz = np.int64(fx), np.int64(fy), np.int64(fz)
    ux, dux = _fade(x - fx)
    uy, duy = _fade(y - fy)
    uz, duz = _fade(z - fz)
    a = 2.0 * unit_float(hash3(ix, iy, iz, seed)) - 1.0
    b = 2.0 * unit_float(hash3(ix + 1, iy, iz, seed)) - 1.0
    c = 2.0 * unit_float(hash3(ix, iy + 1, iz, seed)) - 1.0
    d = 2.0 * unit_float(hash3(ix + 1, iy + 1, iz, seed)) - 1.0
    e = 2.0 * unit_float(hash3(ix, iy, iz + 1, seed)) - 1.0
    f = 2.0 * unit_float(hash3(ix + 1, iy, iz + 1, seed)) - 1.0
    g = 2.0 * unit_float(hash3(ix, iy + 1, iz + 1, seed)) - 1.0
    h = 2.0 * unit_float(hash3(ix + 1, iy + 1, iz + 1, seed)) - 1.0
    k1, k2, k3 = b - a, c - a, e - a
    k4, k5, k6 = a - b - c + d, a - c - e + g, a - b - e + f
    k7 = -a + b + c - d + e - f - g + h
    val = a + k1 * ux + k2 * uy + k3 * uz + k4 * ux * uy + k5 * uy * uz + k6 * uz * ux \
        + k7 * ux * uy * uz
    gx = dux * (k1 + k4 * uy + k6 * uz + k7 * uy * uz)
    gy = duy * (k2 + k5 * uz + k4 * ux + k7 * uz * ux)
    gz = duz * (k3 + k6 * ux + k5 * uy + k7 * ux * uy)
    return val, gx, gy, gz


@nb.njit(cache=True, inline="always")
def hash2(ix: np.int64, iy: np.int64, seed: np.uint64) -> np.uint64:
    """64-bit hash of a 2-D integer lattice point and a seed."""
    h = seed * _M1 + np.uint64(ix) * _PX
    h = (h ^ (h >> _S31)) + np.uint64(iy) * _PY
    return mix64(h)


@nb.njit(cache=True, inline="always")
def _corner(ix: np.int64, iy: np.int64, seed: np.uint64) -> float:
    return 2.0 * unit_float(hash2(ix, iy, seed)) - 1.0


@nb.njit(cache=True)
def value_noise2(x: float, y: float, seed: np.uint64) -> tuple[float, float, float]:
    """Quintic-interpolated 2-D lattice value noise; returns (value, d/dx, d/dy)."""
    fx, fy = np.floor(x), np.floor(y)
    ix, iy = np.int64(fx), np.int64(fy)
    ux, dux = _fade(x - fx)
    uy, duy = _fade(y - fy)
    a = _corner(ix, iy, seed)
    b = _corner(ix + 1, iy, seed)
    c = _corner(ix, iy + 1, seed)
    d = _corner(ix + 1, iy + 1, seed)
    k1, k2, k4 = b - a, c - a, a - b - c + d
    return (a + k1 * ux + k2 * uy + k4 * ux * uy, dux * (k1 + k4 * uy), duy * (k2 + k4 * ux))
