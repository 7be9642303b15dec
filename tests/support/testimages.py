"""Deterministic synthetic images for codec tests and benchmarks (pure numpy, no I/O).

Sample values are DN in 0..2**bits - 1.
"""

from __future__ import annotations

import numpy as np

KINDS = ("flat", "noisy", "saturated", "terrain")


def terrain(shape: tuple[int, int], bits: int, seed: int = 0, noise_dn: float = 0.0) -> np.ndarray:
    """Fractal (1/f-like) relief scaled to 10..90 % of full scale, plus Gaussian noise (DN rms)."""
    h, w = shape
    rng = np.random.default_rng(seed)
    maxval = (1 << bits) - 1
    field = np.zeros((h, w))
    for octave in range(1, 8):
        cells = 2 ** octave
        gh, gw = max(2, h * cells // max(h, w) + 2), max(2, w * cells // max(h, w) + 2)
        grid = rng.standard_normal((gh, gw)) / octave
        yi = np.linspace(0, gh - 1.001, h)
        xi = np.linspace(0, gw - 1.001, w)
        y0, x0 = yi.astype(int), xi.astype(int)
        fy, fx = (yi - y0)[:, None], (xi - x0)[None, :]
        g00 = grid[np.ix_(y0, x0)]
        g01 = grid[np.ix_(y0, x0 + 1)]
        g10 = grid[np.ix_(y0 + 1, x0)]
        g11 = grid[np.ix_(y0 + 1, x0 + 1)]
        field += (g00 * (1 - fx) + g01 * fx) * (1 - fy) + (g10 * (1 - fx) + g11 * fx) * fy
    span = np.ptp(field) or 1.0
    img = 0.1 * maxval + 0.8 * maxval * (field - field.min()) / span
    if noise_dn > 0:
        img = img + rng.normal(0.0, noise_dn, size=img.shape)
    return np.clip(np.rint(img), 0, maxval).astype(np.uint8 if bits <= 8 else np.uint16)


def make(kind: str, shape: tuple[int, int], bits: int, seed: int = 0) -> np.ndarray:
    """Image of one of :data:`KINDS`: flat (one value), noisy (uniform random), saturated
    (terrain clipped at full scale and zero in places), terrain (relief + a few DN of noise)."""
    rng = np.random.default_rng(seed)
    maxval = (1 << bits) - 1
    dt = np.uint8 if bits <= 8 else np.uint16
    if kind == "flat":
        return np.full(shape, int(rng.integers(0, maxval + 1)), dtype=dt)
    if kind == "noisy":
        return rng.integers(0, maxval + 1, size=shape).astype(dt)
    if kind == "saturated":
        t = terrain(shape, bits, seed, noise_dn=max(1.0, maxval / 500)).astype(np.int64)
        t = (t - maxval // 2) * 3
        return np.clip(t, 0, maxval).astype(dt)
    if kind == "terrain":
        return terrain(shape, bits, seed, noise_dn=max(0.5, maxval / 2000))
    raise ValueError(f"unknown image kind {kind!r}")
