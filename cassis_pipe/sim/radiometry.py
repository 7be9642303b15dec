"""I/F -> detector DN: exposure, absolute calibration, flat, straylight, noise, bias, ADC.

Signal chain for one window at full resolution (per pixel):

    S_dn  = I/F * t_exp / (K * r_h^2)                     scene signal, DN
    e     = (S_dn + stray_dn) * flat * gain                photo-electrons
    e'    = e + sqrt(e) * g1 + read_noise_e * g2           shot (Gaussian approx.) + read noise
    DN    = clip(round(e' / gain + bias + hot), 0, 16383)  14-bit ADC

``g1``, ``g2`` are standard normals from a counter-based hash of (row, col, seed), so results do
not depend on thread scheduling. On-board 2x2 binning is applied to DN afterwards.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.sim.noise import hash3, unit_float

DN_MAX = 16383


@nb.njit(cache=True, inline="always")
def _gauss_pair(r: np.int64, c: np.int64, seed: np.uint64) -> tuple[float, float]:
    """Two independent standard normals (Box-Muller) for detector pixel (r, c)."""
    u1 = unit_float(hash3(r, c, np.int64(0), seed))
    u2 = unit_float(hash3(r, c, np.int64(1), seed))
    rad = np.sqrt(-2.0 * np.log(1.0 - u1))
    return rad * np.cos(2.0 * np.pi * u2), rad * np.sin(2.0 * np.pi * u2)


@nb.njit(cache=True, parallel=True)
def expose(iof: np.ndarray, dn_per_iof: float, stray_dn: np.ndarray, flat: np.ndarray,
           bias: np.ndarray, hot: np.ndarray, gain_e_per_dn: float, read_noise_e: float,
           seed: int, row0: int, col0: int) -> np.ndarray:
    """DN (uint16) of a window; all inputs (H, W) float32 window cut-outs; ``row0``/``col0``
    place the window on the detector so the noise of a pixel is tied to its detector position."""
    h, w = iof.shape
    out = np.empty((h, w), dtype=np.uint16)
    useed = np.uint64(seed)
    for i in nb.prange(h):
        for j in range(w):
            s = iof[i, j] * dn_per_iof
            if not s >= 0.0:      # NaN (off-planet) or negative
                s = 0.0
            e = (s + stray_dn[i, j]) * flat[i, j] * gain_e_per_dn
            g1, g2 = _gauss_pair(np.int64(row0 + i), np.int64(col0 + j), useed)
            e = e + np.sqrt(max(e, 0.0)) * g1 + read_noise_e * g2
            v = np.floor(e / gain_e_per_dn + bias[i, j] + hot[i, j] + 0.5)
            if v < 0.0:
                v = 0.0
            elif v > DN_MAX:
                v = DN_MAX
            out[i, j] = np.uint16(v)
    return out


def bin2x2(dn: np.ndarray, mode: str) -> np.ndarray:
    """On-board 2x2 binning of DN: "sum" (saturating at 14 bit) or "mean" (rounded)."""
    h, w = dn.shape
    s = dn[: h - h % 2, : w - w % 2].astype(np.uint32).reshape(h // 2, 2, w // 2, 2).sum((1, 3))
    if mode == "sum":
        return np.minimum(s, DN_MAX).astype(np.uint16)
    if mode == "mean":
        return ((s + 2) // 4).astype(np.uint16)
    raise ValueError(f"binning mode {mode!r} not 'sum' or 'mean'")


def dn_per_iof(t_exp_s: float, k: float, r_h_au: float) -> float:
    """DN produced by I/F = 1 (before flat): t_exp / (K r_h^2)."""
    return t_exp_s / (k * r_h_au * r_h_au)
