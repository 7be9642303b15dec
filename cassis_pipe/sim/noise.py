"""Deterministic lattice hashing and 2-D value noise (numba), with analytic gradients.

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
_LO32 = np.uint64(0xFFFFFFFF)
_INV32 = 1.0 / 4294967296.0


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


@nb.njit(cache=True)
def value_noise2_pair(x: float, y: float, seed: np.uint64) -> tuple[float, float]:
    """Two independent 2-D value noises (no gradients) from one set of lattice hashes: the high
    and low 32 bits of each corner hash give the two fields."""
    fx, fy = np.floor(x), np.floor(y)
    ix, iy = np.int64(fx), np.int64(fy)
    ux, _ = _fade(x - fx)
    uy, _ = _fade(y - fy)
    ha = hash2(ix, iy, seed)
    hb = hash2(ix + 1, iy, seed)
    hc = hash2(ix, iy + 1, seed)
    hd = hash2(ix + 1, iy + 1, seed)
    out1 = 0.0
    out2 = 0.0
    for k in range(2):
        sh = np.uint64(32 * k)
        a = 2.0 * float((ha >> sh) & _LO32) * _INV32 - 1.0
        b = 2.0 * float((hb >> sh) & _LO32) * _INV32 - 1.0
        c = 2.0 * float((hc >> sh) & _LO32) * _INV32 - 1.0
        d = 2.0 * float((hd >> sh) & _LO32) * _INV32 - 1.0
        v = a + (b - a) * ux + (c - a) * uy + (a - b - c + d) * ux * uy
        if k == 0:
            out1 = v
        else:
            out2 = v
    return out1, out2
