"""Straylight: a smooth additive field per exposure, fitted on pixels that see no scene.

Model: after bias subtraction and flat division, a pixel holds scene + straylight, in DN per
detector pixel. The straylight is a low-order polynomial surface over the detector,

    S(r, c) = sum_{p + q <= order} a_pq u^p v^q,   u = (r - m) / h,  v = (c - m) / h,

with m = (n - 1) / 2 and h = n / 2 for an n x n detector (u, v in [-1, 1]). It is fitted by
least squares to *dark samples*: pixels of the same exposure that receive straylight but no
scene light — the control windows (flown windows 5 and 6: rows 200-208, cols 640-767 and rows
1850-1858, cols 1280-1407) and any other masked areas read out (rows between the filter
strips, dark reference columns). Outliers (hot pixels, cosmic rays) are rejected by iterative
sigma clipping around the fit (robust sigma from the median absolute deviation).

The requested order is lowered automatically when the sample geometry cannot constrain it:
the noise gain (:func:`noise_gain`, worst-case error of the fitted surface anywhere on the
detector relative to the error of the plain sample mean) must stay <= ``max_gain`` (100).
Two flown-like control windows constrain a plane (gain 39) but not a quadratic (gain 1657);
a quadratic needs dark samples spread over the detector in both directions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cassis_pipe.instrument.detector import Window

DETECTOR_PX = 2048
MAX_NOISE_GAIN = 100.0


def poly_terms(order: int) -> list[tuple[int, int]]:
    """Exponents (p, q) of u^p v^q with p + q <= ``order``, in a fixed order."""
    return [(p, d - p) for d in range(order + 1) for p in range(d, -1, -1)]


def _norm(x: np.ndarray, detector_px: int) -> np.ndarray:
    return (np.asarray(x, dtype=np.float64) - 0.5 * (detector_px - 1)) / (0.5 * detector_px)


def design_matrix(rows: np.ndarray, cols: np.ndarray, order: int,
                  detector_px: int = DETECTOR_PX) -> np.ndarray:
    """Polynomial design matrix (M, T) at detector (row, col) positions (px)."""
    u = _norm(rows, detector_px).ravel()
    v = _norm(cols, detector_px).ravel()
    return np.stack([u ** p * v ** q for p, q in poly_terms(order)], axis=1)


@dataclass(frozen=True)
class StrayModel:
    """Fitted straylight surface of one exposure (DN per detector pixel)."""

    order: int
    coeffs: tuple[float, ...]
    detector_px: int = DETECTOR_PX
    rms_dn: float = 0.0
    n_used: int = 0
    n_rejected: int = 0
    requested_order: int = 0

    @classmethod
    def zero(cls, detector_px: int = DETECTOR_PX) -> StrayModel:
        """No straylight."""
        return cls(0, (0.0,), detector_px)

    def evaluate(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """Straylight (DN per detector pixel) at detector positions; float64 of rows' shape."""
        r = np.asarray(rows, dtype=np.float64)
        a = design_matrix(r, cols, self.order, self.detector_px)
        return (a @ np.asarray(self.coeffs)).reshape(r.shape)

    def window_field(self, window: Window) -> np.ndarray:
        """Straylight at every data pixel centre of ``window`` (binned pixels at the centre of
        their b x b block), float32 of ``window.binned_shape``."""
        r, c = window.centre_axes()
        if self.order > 1:
            rr, cc = np.meshgrid(r, c, indexing="ij")
            return self.evaluate(rr, cc).astype(np.float32)
        # order <= 1: the design matrix columns are exactly 1, u, v (u^1 = u, u^0 = 1), built
        # from the row and column coordinates without full-size powers; the same matrix
        # product as :meth:`evaluate`, hence the same values
        terms = poly_terms(self.order)
        a = np.empty((r.size, c.size, len(terms)))
        u = _norm(r, self.detector_px)[:, None]
        v = _norm(c, self.detector_px)[None, :]
        for t, (p, q) in enumerate(terms):
            a[:, :, t] = u if p else (v if q else 1.0)
        field = a.reshape(-1, len(terms)) @ np.asarray(self.coeffs)
        return field.reshape(r.size, c.size).astype(np.float32)

    @property
    def mean_dn(self) -> float:
        """Mean over the whole detector, DN per pixel (odd powers average to ~0)."""
        g = np.linspace(0, self.detector_px - 1, 65)
        rr, cc = np.meshgrid(g, g, indexing="ij")
        return float(self.evaluate(rr, cc).mean())


def window_samples(img: np.ndarray, window: Window, valid: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dark samples (rows, cols, values) from a bias- and flat-corrected window (H, W) in DN
    per detector pixel; ``valid`` (H, W) bool selects usable pixels (default: finite ones)."""
    a = np.asarray(img, dtype=np.float64)
    if a.shape != window.binned_shape:
        raise ValueError(f"sample image shape {a.shape} != window shape {window.binned_shape}")
    r, c = window.centre_axes()
    rr, cc = np.meshgrid(r, c, indexing="ij")
    ok = np.isfinite(a) if valid is None else (np.asarray(valid, bool) & np.isfinite(a))
    return rr[ok], cc[ok], a[ok]


def noise_gain(rows: np.ndarray, cols: np.ndarray, order: int,
               detector_px: int = DETECTOR_PX) -> float:
    """How much worse than the mean of the samples the fitted surface can be anywhere on the
    detector: max over a 33 x 33 grid of sqrt(M x^T (A^T A)^-1 x) for M samples (1 for a
    constant; inf when the fit is singular)."""
    a = design_matrix(rows, cols, order, detector_px)
    if a.shape[0] < a.shape[1]:
        return float("inf")
    g = np.linspace(0.0, detector_px - 1.0, 33)
    gr, gc = np.meshgrid(g, g, indexing="ij")
    x = design_matrix(gr, gc, order, detector_px)
    try:
        inv = np.linalg.inv(a.T @ a)
    except np.linalg.LinAlgError:
        return float("inf")
    q = np.einsum("ij,jk,ik->i", x, inv, x)
    if not np.all(np.isfinite(q)) or q.min() < 0:
        return float("inf")
    return float(np.sqrt(a.shape[0] * q.max()))


def _usable_order(rows: np.ndarray, cols: np.ndarray, order: int, detector_px: int,
                  max_gain: float) -> int:
    for o in range(order, -1, -1):
        if noise_gain(rows, cols, o, detector_px) <= max_gain:
            return o
    raise ValueError("no dark samples usable for a straylight fit")


def fit_straylight(rows: np.ndarray, cols: np.ndarray, values: np.ndarray, order: int = 1,
                   detector_px: int = DETECTOR_PX, clip_sigma: float = 4.0,
                   max_iterations: int = 5, max_gain: float = MAX_NOISE_GAIN
                   ) -> StrayModel:
    """Robust least-squares polynomial fit of dark samples (DN per detector pixel).

    ``rows``/``cols`` are detector positions (px) of the samples. Returns the model with the
    order actually used (possibly lower than ``order``, see the module docstring).
    """
    r = np.asarray(rows, dtype=np.float64).ravel()
    c = np.asarray(cols, dtype=np.float64).ravel()
    y = np.asarray(values, dtype=np.float64).ravel()
    if not (r.size == c.size == y.size):
        raise ValueError("rows, cols and values must have the same length")
    if order < 0:
        raise ValueError("order must be >= 0")
    fin = np.isfinite(y)
    r, c, y = r[fin], c[fin], y[fin]
    if y.size == 0:
        raise ValueError("no dark samples usable for a straylight fit")
    used = _usable_order(r, c, order, detector_px, max_gain)
    a = design_matrix(r, c, used, detector_px)
    keep = np.ones(y.size, dtype=bool)
    coef = np.zeros(a.shape[1])
    sigma = 0.0
    for _ in range(max_iterations + 1):
        coef = np.linalg.lstsq(a[keep], y[keep], rcond=None)[0]
        res = y - a @ coef
        sigma = 1.4826 * float(np.median(np.abs(res[keep] - np.median(res[keep]))))
        if sigma == 0.0:
            break
        new_keep = np.abs(res) <= clip_sigma * sigma
        if new_keep.sum() < a.shape[1] or np.array_equal(new_keep, keep):
            break
        keep = new_keep
    rms = float(np.sqrt(np.mean((y[keep] - a[keep] @ coef) ** 2)))
    return StrayModel(used, tuple(float(x) for x in coef), detector_px, rms,
                      int(keep.sum()), int((~keep).sum()), order)
