"""Synthetic detector for the calibration tests (imported by the other test_calibrate files).

Physics as in the simulator: DN = round((S + stray) * flat + noise + bias + hot), 14-bit
clipped, then 2 x 2 sum or mean binning on board. S = I/F t_exp / (K r_h^2) in DN per detector
pixel; noise = shot (Gaussian approximation, gain in e-/DN) + read noise.
"""

from __future__ import annotations

import numpy as np

from cassis_pipe.calibrate.calfiles import CalSet
from cassis_pipe.instrument.detector import Window

K_REF = {"PAN": 1.341e-8, "RED": 3.497e-8, "NIR": 3.645e-8, "BLU": 2.658e-8}
GAIN_E_PER_DN = 7.0
READ_NOISE_E = 61.0
DN_MAX = 16383

#: the flown window table (0-based, inclusive): 4 filters + control windows 5 and 6
FLOWN_WINDOWS = (
    Window("PAN", 354, 633, 0, 2047, 1),
    Window("RED", 712, 967, 0, 2047, 1),
    Window("NIR", 1048, 1303, 0, 2047, 2),
    Window("BLU", 1409, 1664, 0, 2047, 1),
    Window("CTL1", 200, 208, 640, 767, 1),
    Window("CTL2", 1850, 1858, 1280, 1407, 1),
)


def make_truth(n: int = 256, seed: int = 0, mode: str = "sum", n_dead: int = 10,
               n_hot: int = 10) -> tuple[CalSet, np.ndarray]:
    """A calibration set that is exactly the detector truth, and the hot-pixel DN field."""
    rng = np.random.default_rng(seed)
    col = rng.normal(0.0, 6.0, n)
    row = rng.normal(0.0, 2.0, n)
    bias = (300.0 + col[None, :] + row[:, None]).astype(np.float32)
    rr, cc = np.mgrid[0:n, 0:n].astype(np.float32)
    c0 = (n - 1) / 2.0
    vign = 1.0 - 0.08 * ((rr - c0) ** 2 + (cc - c0) ** 2) / (2 * c0 * c0)
    flat = (vign * (1.0 + 0.01 * rng.standard_normal((n, n)))).astype(np.float32)
    flat /= np.median(flat)
    bad = np.zeros((n, n), np.uint8)
    idx = rng.choice(n * n, n_dead + n_hot, replace=False)
    bad.flat[idx[:n_dead]] = 1
    bad.flat[idx[n_dead:]] = 2
    flat.flat[idx[:n_dead]] = 0.0
    hot = np.zeros((n, n), np.float32)
    hot.flat[idx[n_dead:]] = rng.uniform(1500.0, 9000.0, n_hot)
    return CalSet("test-v1", bias, flat, bad, dict(K_REF), binning_mode=mode), hot


def expose(iof: np.ndarray, window: Window, cal: CalSet, hot: np.ndarray, t_exp_s: float,
           r_h_au: float, stray_dn: np.ndarray | float = 0.0, noise: bool = True,
           seed: int = 1, k: float | None = None) -> np.ndarray:
    """Raw DN (uint16) of ``window`` for a full-resolution I/F field (``window.used_shape``)
    and an additive straylight field in DN per detector pixel."""
    sl = window.detector_slice()
    kk = cal.k(window.filter) if k is None else k
    s = np.asarray(iof, np.float64) * t_exp_s / (kk * r_h_au * r_h_au)
    e = (s + stray_dn) * cal.flat[sl].astype(np.float64) * GAIN_E_PER_DN
    if noise:
        rng = np.random.default_rng(seed)
        e = e + np.sqrt(np.maximum(e, 0.0)) * rng.standard_normal(e.shape)
        e = e + READ_NOISE_E * rng.standard_normal(e.shape)
    dn = np.clip(np.floor(e / GAIN_E_PER_DN + cal.bias_dn[sl] + hot[sl] + 0.5), 0, DN_MAX)
    if window.binning == 1:
        return dn.astype(np.uint16)
    h, w = window.binned_shape
    tot = dn.astype(np.uint32).reshape(h, 2, w, 2).sum(axis=(1, 3))
    if cal.binning_mode == "sum":
        return np.minimum(tot, DN_MAX).astype(np.uint16)
    return ((tot + 2) // 4).astype(np.uint16)


def smooth_scene(window: Window, mean_iof: float = 0.2, seed: int = 0) -> np.ndarray:
    """A smooth I/F field (full resolution) for ``window``: mean + two sinusoids."""
    r = np.arange(window.used_shape[0], dtype=np.float64)[:, None] + window.row0
    c = np.arange(window.used_shape[1], dtype=np.float64)[None, :] + window.col0
    ph = np.random.default_rng(seed).uniform(0, 2 * np.pi, 2)
    return mean_iof * (1.0 + 0.1 * np.sin(r / 37.0 + ph[0]) * np.cos(c / 53.0 + ph[1]))


def block_mean(a: np.ndarray, b: int) -> np.ndarray:
    """Mean over b x b blocks (edges cropped)."""
    h, w = (a.shape[0] // b) * b, (a.shape[1] // b) * b
    return a[:h, :w].reshape(h // b, b, w // b, b).mean(axis=(1, 3))


def test_synthetic_detector_is_deterministic() -> None:
    cal, hot = make_truth(64, seed=3)
    w = Window.from_extent(8, 8, 16, 16, filter="PAN")
    a = expose(smooth_scene(w), w, cal, hot, 1e-3, 1.4, seed=5)
    b = expose(smooth_scene(w), w, cal, hot, 1e-3, 1.4, seed=5)
    assert a.dtype == np.uint16 and np.array_equal(a, b)
    assert np.count_nonzero(cal.bad_pixels) == 20 and np.count_nonzero(cal.flat == 0) == 10
