"""Absolute calibration: DN per detector pixel -> I/F.

    I/F = DN * K * r_h^2 / t_exp

K is the per-filter constant in (I/F) s / (DN AU^2) from the versioned K table, ``r_h`` the
heliocentric distance in AU and ``t_exp`` the exposure time in s. The Bern level-1b labels
store the factor K r_h^2 / t_exp as ABSOLUTE_CALIBRATION (I/F per DN).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from cassis_pipe.calibrate._stack import as_stack, unstack

#: one unit of the commanded T_exp parameter, s
T_EXP_UNIT_S = 9.6e-6


def exposure_time_s(t_exp_units: int) -> float:
    """Exposure time in s from the commanded ``T_exp`` (units of 9.6 us)."""
    return float(t_exp_units) * T_EXP_UNIT_S


def iof_per_dn(k: float, r_h_au: float, t_exp_s: float) -> float:
    """The factor K r_h^2 / t_exp, I/F per DN (what the Bern labels call ABSOLUTE_CALIBRATION)."""
    if not (k > 0 and r_h_au > 0 and t_exp_s > 0):
        raise ValueError(f"K, r_h and t_exp must be positive (got {k}, {r_h_au}, {t_exp_s})")
    return float(k) * float(r_h_au) ** 2 / float(t_exp_s)


def k_from_factor(iof_per_dn_factor: float, r_h_au: float, t_exp_s: float) -> float:
    """Invert :func:`iof_per_dn`: K in (I/F) s / (DN AU^2) from a label factor."""
    return float(iof_per_dn_factor) * float(t_exp_s) / float(r_h_au) ** 2


@nb.njit(cache=True, parallel=True)
def _scale(dn: np.ndarray, factors: np.ndarray, out: np.ndarray) -> None:
    n, h, w = dn.shape
    for idx in nb.prange(n * h):
        k = idx // h
        i = idx - k * h
        f = factors[k]
        for j in range(w):
            out[k, i, j] = np.float32(dn[k, i, j] * f)


def to_iof(dn: np.ndarray, factor: float | np.ndarray) -> np.ndarray:
    """DN per detector pixel x ``factor`` (I/F per DN; a scalar or one per framelet) -> I/F,
    float32."""
    stack, single = as_stack(dn)
    f = np.broadcast_to(np.asarray(factor, dtype=np.float64), (stack.shape[0],)).copy()
    out = np.empty(stack.shape, dtype=np.float32)
    _scale(stack, f, out)
    return unstack(out, single)
