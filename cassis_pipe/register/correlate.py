"""Sub-pixel translation between two images: normalised cross-correlation of gradient images.

Convention: ``measure_shift(a, b)`` returns ``(dl, ds)`` (px, line and sample) such that
``b(l, s) ~ a(l - dl, s - ds)``, i.e. features of ``a`` appear in ``b`` displaced by
``(dl, ds)``. Both images share one pixel grid; NaN pixels are invalid.

Method: the largest rectangle of (nearly) fully valid rows/columns is cut out; gradients
(central differences) of both images are apodised with a Tukey window, zero-padded and
correlated by FFT; the peak (within ``max_shift_px``) is refined by a parabola through its
neighbours on each axis. ``iterations > 1`` re-samples ``b`` by the estimate (cubic) and
measures the residual, removing most of the parabolic fit's pull towards whole pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.fft as sfft
from numba import njit

from ..imaging.resample import shift_cubic


class RegistrationError(ValueError):
    """Inputs that cannot be registered (shape mismatch, too few valid pixels)."""


@dataclass(frozen=True)
class Shift:
    """Measured translation (px) and quality: ``peak`` is the normalised correlation (-1..1)
    of the gradient images at the peak; ``n_valid`` the pixels used."""

    dl: float
    ds: float
    peak: float
    n_valid: int

    @property
    def magnitude(self) -> float:
        """Length of the shift (px)."""
        return float(np.hypot(self.dl, self.ds))


@njit(cache=True, nogil=True)
def _gradient_at(image: np.ndarray, r: int, c: int) -> tuple[float, float]:
    """Central-difference gradients (per px) at pixel (r, c), one-sided at the edges."""
    nl, ns = image.shape
    r0 = max(r - 1, 0)
    r1 = min(r + 1, nl - 1)
    c0 = max(c - 1, 0)
    c1 = min(c + 1, ns - 1)
    return ((image[r1, c] - image[r0, c]) / max(r1 - r0, 1),
            (image[r, c1] - image[r, c0]) / max(c1 - c0, 1))


@njit(cache=True, nogil=True)
def gradients(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Central-difference gradients (per px) along lines and samples; one-sided at the edges.
    NaN input gives NaN gradients next to it."""
    nl, ns = image.shape
    gl = np.empty((nl, ns), dtype=np.float64)
    gs = np.empty((nl, ns), dtype=np.float64)
    for r in range(nl):
        for c in range(ns):
            gl[r, c], gs[r, c] = _gradient_at(image, r, c)
    return gl, gs


def tukey(n: int, alpha: float) -> np.ndarray:
    """Tukey (tapered cosine) window of ``n`` points, taper fraction ``alpha`` (0..1)."""
    if n <= 1 or alpha <= 0.0:
        return np.ones(max(n, 1))
    x = np.arange(n, dtype=np.float64) / (n - 1)
    w = np.ones(n)
    edge = alpha / 2.0
    lo = x < edge
    hi = x > 1.0 - edge
    w[lo] = 0.5 * (1.0 - np.cos(np.pi * x[lo] / edge))
    w[hi] = 0.5 * (1.0 - np.cos(np.pi * (1.0 - x[hi]) / edge))
    return w


def valid_box(valid: np.ndarray, min_fraction: float = 0.95
              ) -> tuple[slice, slice] | None:
    """A large block of contiguous rows and columns of ``valid`` (bool 2-D) in which every row
    and column is at least ``min_fraction`` valid (rows and columns are trimmed alternately,
    first loosely then to ``min_fraction``); None if fewer than 3 x 3 remain."""
    nl, ns = valid.shape
    integ = _integral(np.ascontiguousarray(valid, dtype=np.bool_))
    r0, r1, c0, c1 = 0, nl, 0, ns
    for frac in (0.5, 0.75, 0.9, min_fraction, min_fraction, min_fraction):
        if r1 - r0 < 3 or c1 - c0 < 3:
            return None
        rows = (integ[r0 + 1:r1 + 1, c1] - integ[r0:r1, c1] - integ[r0 + 1:r1 + 1, c0]
                + integ[r0:r1, c0]) / (c1 - c0)
        a, b = _longest_run(rows >= frac)
        r0, r1 = r0 + a, r0 + b
        if r1 - r0 < 3:
            return None
        cols = (integ[r1, c0 + 1:c1 + 1] - integ[r1, c0:c1] - integ[r0, c0 + 1:c1 + 1]
                + integ[r0, c0:c1]) / (r1 - r0)
        a, b = _longest_run(cols >= frac)
        c0, c1 = c0 + a, c0 + b
    if r1 - r0 < 3 or c1 - c0 < 3:
        return None
    sub = valid[r0:r1, c0:c1]
    if sub.mean(axis=1).min() < min_fraction or sub.mean(axis=0).min() < min_fraction:
        return None
    return slice(r0, r1), slice(c0, c1)


@njit(cache=True, nogil=True)
def _integral(valid: np.ndarray) -> np.ndarray:
    """Summed-area table of ``valid``: ``out[r, c]`` = valid pixels in ``[:r, :c]``."""
    nl, ns = valid.shape
    out = np.zeros((nl + 1, ns + 1), dtype=np.int64)
    for r in range(nl):
        acc = 0
        for c in range(ns):
            acc += valid[r, c]
            out[r + 1, c + 1] = out[r, c + 1] + acc
    return out


def _longest_run(ok: np.ndarray) -> tuple[int, int]:
    """[start, stop) of the longest run of True in ``ok`` ((0, 0) if none)."""
    padded = np.concatenate(([False], ok, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    if edges.size == 0:
        return 0, 0
    starts, stops = edges[::2], edges[1::2]
    k = int(np.argmax(stops - starts))
    return int(starts[k]), int(stops[k])


def _prepared(img: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, float]:
    """Complex gradient image ``(gl + i gs) * window`` (means removed) and its energy."""
    gl, gs = gradients(img)
    gl = np.where(np.isfinite(gl), gl, 0.0)
    gs = np.where(np.isfinite(gs), gs, 0.0)
    g = ((gl - gl.mean()) + 1j * (gs - gs.mean())) * win
    return g, float(np.sum(g.real ** 2 + g.imag ** 2))


def _parabola(m1: float, c0: float, p1: float) -> float:
    den = m1 - 2.0 * c0 + p1
    if den >= 0.0 or not np.isfinite(den):
        return 0.0
    return float(np.clip(0.5 * (m1 - p1) / den, -0.5, 0.5))


def _correlate(a: np.ndarray, b: np.ndarray, max_shift_px: float, taper: float,
               single: bool = False) -> tuple[float, float, float]:
    nl, ns = a.shape
    ml = int(min(max_shift_px, nl - 2))
    ms = int(min(max_shift_px, ns - 2))
    fl = sfft.next_fast_len(nl + ml + 2)
    fs = sfft.next_fast_len(ns + ms + 2)
    if single:
        return _correlate_single(a, b, ml, ms, fl, fs, taper)
    win = np.outer(tukey(nl, taper), tukey(ns, taper))
    ga, ea = _prepared(a, win)
    gb, eb = _prepared(b, win)
    if ea <= 0.0 or eb <= 0.0:
        return 0.0, 0.0, 0.0
    # Re(conj(A) B) of complex gradients = correlation of gl plus correlation of gs
    spec = np.conj(sfft.fft2(ga, (fl, fs))) * sfft.fft2(gb, (fl, fs))
    corr = sfft.ifft2(spec).real / np.sqrt(ea * eb)
    return _peak(corr, ml, ms)


def _correlate_single(a: np.ndarray, b: np.ndarray, ml: int, ms: int, fl: int, fs: int,
                      taper: float) -> tuple[float, float, float]:
    """:func:`_correlate` with complex64 spectra: gradients, window and zero padding in one
    numba pass per image (float64 sums), FFTs in place."""
    wl = tukey(a.shape[0], taper)
    ws = tukey(a.shape[1], taper)
    ga = np.zeros((fl, fs), dtype=np.complex64)
    gb = np.zeros((fl, fs), dtype=np.complex64)
    ea = _prepare_into(a, wl, ws, ga)
    eb = _prepare_into(b, wl, ws, gb)
    if ea <= 0.0 or eb <= 0.0:
        return 0.0, 0.0, 0.0
    fa = sfft.fft2(ga, overwrite_x=True)
    fb = sfft.fft2(gb, overwrite_x=True)
    np.conjugate(fa, out=fa)
    fb *= fa
    corr = sfft.ifft2(fb, overwrite_x=True).real
    return _peak(corr, ml, ms, 1.0 / np.sqrt(ea * eb))


@njit(cache=True, nogil=True)
def _prepare_into(img: np.ndarray, wl: np.ndarray, ws: np.ndarray, out: np.ndarray) -> float:
    """Write ``(gl + i gs) * window`` (means removed, non-finite gradients 0, as
    :func:`_prepared`) into the top-left corner of ``out``; return its energy."""
    nl, ns = img.shape
    sl = 0.0
    ss = 0.0
    for r in range(nl):
        for c in range(ns):
            gl, gs = _gradient_at(img, r, c)
            if np.isfinite(gl):
                sl += gl
            if np.isfinite(gs):
                ss += gs
    ml = sl / (nl * ns)
    ms = ss / (nl * ns)
    energy = 0.0
    for r in range(nl):
        for c in range(ns):
            gl, gs = _gradient_at(img, r, c)
            w = wl[r] * ws[c]
            x = ((gl if np.isfinite(gl) else 0.0) - ml) * w
            y = ((gs if np.isfinite(gs) else 0.0) - ms) * w
            out[r, c] = complex(x, y)
            energy += x * x + y * y
    return energy


def _peak(corr: np.ndarray, ml: int, ms: int, scale: float = 1.0
          ) -> tuple[float, float, float]:
    """Integer peak of ``corr`` (circular lags within +/- ``ml``, ``ms``) refined by a
    parabola per axis; returns (dl, ds, peak * ``scale``)."""
    fl, fs = corr.shape
    lags_l = np.r_[0:ml + 1, -ml:0]
    lags_s = np.r_[0:ms + 1, -ms:0]
    sub = corr[np.ix_(lags_l % fl, lags_s % fs)]
    k = np.unravel_index(int(np.argmax(sub)), sub.shape)
    pl, ps = int(lags_l[k[0]]), int(lags_s[k[1]])
    c0 = float(corr[pl % fl, ps % fs]) * scale
    fl_off = _parabola(float(corr[(pl - 1) % fl, ps % fs]) * scale, c0,
                       float(corr[(pl + 1) % fl, ps % fs]) * scale)
    fs_off = _parabola(float(corr[pl % fl, (ps - 1) % fs]) * scale, c0,
                       float(corr[pl % fl, (ps + 1) % fs]) * scale)
    return pl + fl_off, ps + fs_off, c0


def measure_shift(a: np.ndarray, b: np.ndarray, max_shift_px: float = 32.0,
                  iterations: int = 2, taper: float = 0.3, min_valid: int = 64,
                  single: bool = False) -> Shift:
    """Translation ``(dl, ds)`` px of ``b`` relative to ``a`` (see module docstring).

    ``max_shift_px`` bounds the integer peak search; ``taper`` is the Tukey taper fraction;
    ``single``: correlate in complex64 (about 1.7 times as fast; shifts differ by < 1e-6 px).
    Raises :class:`RegistrationError` on a shape mismatch or fewer than ``min_valid`` usable
    pixels (e.g. no overlap)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim != 2 or a.shape != b.shape:
        raise RegistrationError(f"images must be 2-D of one shape, got {a.shape} and {b.shape}")
    box = valid_box(np.isfinite(a) & np.isfinite(b))
    if box is None:
        raise RegistrationError("no valid overlap between the images")
    a = a[box]
    b = b[box]
    n_valid = int(a.size)
    if n_valid < min_valid:
        raise RegistrationError(f"only {n_valid} valid pixels (< {min_valid})")
    a = _fill(a)
    b = _fill(b)
    dl, ds, peak = _correlate(a, b, max_shift_px, taper, single)
    for _ in range(max(iterations, 1) - 1):
        # b moved back by the estimate should match a up to a small residual
        back = shift_cubic(b, -dl, -ds, b.shape[0], b.shape[1], 0.0, 0.0)
        ok = np.isfinite(back)
        sub = valid_box(ok)
        if sub is None or back[sub].size < min_valid:
            break
        rl, rs, peak = _correlate(a[sub], _fill(back[sub]), 2.0, taper, single)
        dl += rl
        ds += rs
        if abs(rl) < 1e-3 and abs(rs) < 1e-3:
            break
    return Shift(float(dl), float(ds), float(peak), n_valid)


def _fill(img: np.ndarray) -> np.ndarray:
    """Replace the few NaN left inside the valid box by the mean of the finite pixels."""
    bad = ~np.isfinite(img)
    if not bad.any():
        return img
    out = img.copy()
    out[bad] = float(np.mean(img[~bad])) if (~bad).any() else 0.0
    return out


@njit(cache=True, nogil=True)
def _blur_rows(img: np.ndarray, kern: np.ndarray) -> np.ndarray:
    nl, ns = img.shape
    h = kern.shape[0] // 2
    out = np.empty((nl, ns), dtype=np.float64)
    for r in range(nl):
        for c in range(ns):
            acc = 0.0
            for k in range(-h, h + 1):
                cc = min(max(c + k, 0), ns - 1)
                acc += kern[k + h] * img[r, cc]
            out[r, c] = acc
    return out


def smooth(img: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian smoothing (sigma in px, edges replicated); NaN propagates."""
    if sigma_px <= 0.0:
        return np.asarray(img, dtype=np.float64)
    h = max(int(np.ceil(3.0 * sigma_px)), 1)
    x = np.arange(-h, h + 1, dtype=np.float64)
    kern = np.exp(-0.5 * (x / sigma_px) ** 2)
    kern /= kern.sum()
    tmp = _blur_rows(np.ascontiguousarray(img, dtype=np.float64), kern)
    return np.ascontiguousarray(_blur_rows(np.ascontiguousarray(tmp.T), kern).T)
