"""Sub-pixel translation between two images of one map grid (accuracy stage).

Normalised cross-correlation of gradient images (insensitive to gain and offset): the line and
sample gradients, zeroed within 2 px of any pixel not valid in both images, are packed into one
complex image (``gl + i gs``), so one complex FFT correlation sums both directions. The integer
peak within ``max_shift_px`` is refined by a parabola through its neighbours, then by up to
:data:`REFINE_STEPS` parabola steps on the correlation evaluated at the estimate and +-1 px by
the Fourier shift theorem (band-limited interpolation of the same spectrum: no resampling, no
new FFT), until the step is below :data:`TOL_PX`. When the refined shift exceeds
:data:`RESAMPLE_PX`, the second image is resampled by it (cubic spline) and the residual is
measured again, so the valid-pixel mask stays aligned with the content.

Large images are measured on up to ``max_tiles`` tiles (median), chosen from per half-tile
valid-pixel counts; tiles are measured in worker threads (numba's thread count). Arithmetic
in float32/complex64 except the sums (float64). Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
from numba import njit
from scipy import fft, ndimage

#: Minimum number of pixels valid in both images for a shift or bias figure.
MIN_VALID = 256
#: Fourier-shift refinement stops when both parabola residuals are below this (px) ...
TOL_PX = 1e-4
#: ... or after this many steps.
REFINE_STEPS = 6
#: A refined shift larger than this (px) is measured again on ``b`` resampled by it.
RESAMPLE_PX = 0.05
#: Default tile side (px) of :func:`measure_map_shift_tiled`.
TILE_PX = 1024


class AccuracyError(ValueError):
    """Truth files unreadable, or too little overlap to measure."""


@njit(cache=True, nogil=True)
def _inner(ok: np.ndarray) -> np.ndarray:
    """``ok`` eroded twice by the 4-neighbour cross (border counts as invalid): the pixels
    whose L1 neighbourhood of radius 2 is valid and inside the image."""
    nl, ns = ok.shape
    e1 = np.zeros((nl, ns), np.bool_)
    for i in range(1, nl - 1):
        for j in range(1, ns - 1):
            e1[i, j] = (ok[i, j] and ok[i - 1, j] and ok[i + 1, j] and ok[i, j - 1]
                        and ok[i, j + 1])
    e2 = np.zeros((nl, ns), np.bool_)
    for i in range(2, nl - 2):
        for j in range(2, ns - 2):
            e2[i, j] = (e1[i, j] and e1[i - 1, j] and e1[i + 1, j] and e1[i, j - 1]
                        and e1[i, j + 1])
    return e2


@njit(cache=True, nogil=True)
def _gradient(img: np.ndarray, inner: np.ndarray, out: np.ndarray) -> float:
    """Write the gradient image (central differences, line + i sample, complex64) on the
    ``inner`` pixels into the top-left corner of the zeroed ``out`` (zero elsewhere);
    returns its RMS over the ``inner`` pixels."""
    nl, ns = img.shape
    acc = 0.0
    n = 0
    for i in range(1, nl - 1):
        for j in range(1, ns - 1):
            if inner[i, j]:
                gl = 0.5 * (np.float64(img[i + 1, j]) - img[i - 1, j])
                gs = 0.5 * (np.float64(img[i, j + 1]) - img[i, j - 1])
                out[i, j] = complex(gl, gs)
                acc += gl * gl + gs * gs
                n += 1
    return np.sqrt(acc / n) if n > 0 else 0.0


def _spectrum(img: np.ndarray, inner: np.ndarray, shape: tuple[int, int]
              ) -> tuple[np.ndarray, float]:
    """2-D FFT (``shape``, zero-padded) of the gradient image, and its RMS."""
    buf = np.zeros(shape, np.complex64)
    rms = _gradient(img, inner, buf)
    return fft.fft2(buf, overwrite_x=True, workers=1), rms


@njit(cache=True, nogil=True)
def _both_valid_blocks(a: np.ndarray, b: np.ndarray, half: int, same: bool) -> np.ndarray:
    """Pixels finite in both ``a`` and ``b`` (only ``a`` when ``same``) per block of
    ``half`` x ``half`` px (int64)."""
    nl, ns = a.shape
    nbs = (ns + half - 1) // half
    out = np.zeros(((nl + half - 1) // half, nbs), np.int64)
    for i in range(nl):
        bi = i // half
        for jb in range(nbs):
            c = 0
            if same:
                for j in range(jb * half, min(jb * half + half, ns)):
                    c += np.isfinite(a[i, j])
            else:
                for j in range(jb * half, min(jb * half + half, ns)):
                    c += np.isfinite(a[i, j]) & np.isfinite(b[i, j])
            out[bi, jb] += c
    return out


def _fft_len(n: int) -> int:
    """Smallest multiple of 32 >= ``n`` whose prime factors are <= 11 (fast FFT sizes)."""
    m = -(-n // 32) * 32
    while True:
        r = m
        for p in (2, 3, 5, 7, 11):
            while r % p == 0:
                r //= p
        if r == 1:
            return m
        m += 32


def _parabola(cm: float, c0: float, cp: float) -> float:
    den = cm - 2.0 * c0 + cp
    return 0.0 if den >= 0 else float(np.clip(0.5 * (cm - cp) / den, -0.5, 0.5))


def _xc_at(spec: np.ndarray, dl: float, ds: float, norm: float) -> tuple[float, ...]:
    """Cross-correlation of spectrum ``spec`` at (dl, ds), (dl +- 1, ds), (dl, ds +- 1) px by
    the Fourier shift theorem (two matrix-vector products over the spectrum); returns
    (c0, c_l-, c_l+, c_s-, c_s+) on the scale of the inverse FFT divided by ``norm``."""
    fl, fs = spec.shape
    ramp_l = np.exp(fft.fftfreq(fl) * (2j * np.pi * dl)).astype(np.complex64)
    ramp_s = np.exp(fft.fftfreq(fs) * (2j * np.pi * ds)).astype(np.complex64)
    along_l = spec @ ramp_s                 # (fl,): summed over sample frequencies at ds
    along_s = ramp_l @ spec                 # (fs,): summed over line frequencies at dl
    step_l = np.exp(fft.fftfreq(fl) * (2j * np.pi)).astype(np.complex64)
    step_s = np.exp(fft.fftfreq(fs) * (2j * np.pi)).astype(np.complex64)
    w_l = ramp_l * along_l
    w_s = ramp_s * along_s
    scale = 1.0 / (norm * fl * fs)
    c0 = float(np.sum(w_l).real) * scale
    lm = float(np.sum(w_l * np.conj(step_l)).real) * scale
    lp = float(np.sum(w_l * step_l).real) * scale
    sm = float(np.sum(w_s * np.conj(step_s)).real) * scale
    sp = float(np.sum(w_s * step_s).real) * scale
    return c0, lm, lp, sm, sp


def _resampled(b: np.ndarray, dl: float, ds: float) -> np.ndarray:
    """``b`` moved by (-dl, -ds) px (cubic spline; NaN where the shifted valid-pixel weight
    is below 0.999)."""
    okb = np.isfinite(b).astype(np.float32)
    bb = ndimage.shift(np.nan_to_num(b), (-dl, -ds), order=3, mode="constant", cval=0.0)
    wb = ndimage.shift(okb, (-dl, -ds), order=1, mode="constant", cval=0.0)
    return np.where(wb > 0.999, bb, np.nan).astype(np.float32)


def _refine(spec: np.ndarray, dl: float, ds: float, norm: float) -> tuple[float, float, float]:
    """Fourier-shift refinement of the correlation peak near (dl, ds): (dl, ds, peak)."""
    peak = 0.0
    for _ in range(REFINE_STEPS):
        c0, lm, lp, sm, sp = _xc_at(spec, dl, ds, norm)
        r_l, r_s = _parabola(lm, c0, lp), _parabola(sm, c0, sp)
        dl += r_l
        ds += r_s
        peak = c0
        if abs(r_l) < TOL_PX and abs(r_s) < TOL_PX:
            break
    return dl, ds, peak


def _correlation(a: np.ndarray, b: np.ndarray, ok: np.ndarray, max_shift_px: int
                 ) -> tuple[np.ndarray, float]:
    """Cross spectrum of the gradient images of ``a`` and ``b`` on the valid pixels ``ok``
    (zero-padded by ``max_shift_px``) and its normalisation (valid count x gradient RMSs)."""
    nl, ns = a.shape
    fl, fs = _fft_len(nl + max_shift_px), _fft_len(ns + max_shift_px)
    inner = _inner(ok)
    sa, ra = _spectrum(a, inner, (fl, fs))
    spec, rb = _spectrum(b, inner, (fl, fs))
    spec *= np.conj(sa)
    return spec, float(np.count_nonzero(ok)) * (ra * rb + 1e-30)


def measure_map_shift(a: np.ndarray, b: np.ndarray, max_shift_px: int = 8, iterations: int = 3
                  ) -> dict[str, float]:
    """Sub-pixel translation (px) of ``b`` relative to ``a`` (same grid; NaN = no data):
    ``b(l, s) ~ a(l - dl, s - ds)``. Integer peak + parabola, then Fourier-shift refinement;
    while the refined shift exceeds :data:`RESAMPLE_PX` (at most ``iterations - 1`` times),
    ``b`` is resampled by the estimate (cubic) and the residual measured on the realigned
    pair, so the valid-pixel masks stay aligned with the content (a shifted mask would bias
    the estimate by ~3 % of the shift). Returns {dl, ds, magnitude, peak, n_valid}; raises
    :class:`AccuracyError` when fewer than :data:`MIN_VALID` pixels are valid in both."""
    a = np.asarray(a, dtype=np.float32)
    b = np.asarray(b, dtype=np.float32)
    if a.shape != b.shape:
        raise AccuracyError(f"shapes differ: {a.shape} vs {b.shape}")
    ok = np.isfinite(a) & np.isfinite(b)
    n = int(np.count_nonzero(ok))
    if n < MIN_VALID:
        raise AccuracyError(f"only {n} pixels valid in both images")
    rows, cols = np.flatnonzero(ok.any(axis=1)), np.flatnonzero(ok.any(axis=0))
    pad = max_shift_px + 4
    box = (slice(max(rows[0] - pad, 0), rows[-1] + pad + 1),
           slice(max(cols[0] - pad, 0), cols[-1] + pad + 1))
    a, b, ok = a[box], b[box], ok[box]
    spec, norm = _correlation(a, b, ok, max_shift_px)
    fl, fs = spec.shape
    xc = fft.ifft2(spec, workers=1).real
    xc /= norm
    idx = np.r_[0:max_shift_px + 1, -max_shift_px:0]
    sub = xc[np.ix_(idx % fl, idx % fs)]
    pi, pj = np.unravel_index(int(np.argmax(sub)), sub.shape)
    li, sj = int(idx[pi]), int(idx[pj])
    c0 = float(xc[li % fl, sj % fs])
    r_l = li + _parabola(float(xc[(li - 1) % fl, sj % fs]), c0, float(xc[(li + 1) % fl, sj % fs]))
    r_s = sj + _parabola(float(xc[li % fl, (sj - 1) % fs]), c0, float(xc[li % fl, (sj + 1) % fs]))
    del xc
    dl = ds = 0.0
    for it in range(max(1, iterations)):
        r_l, r_s, peak = _refine(spec, r_l, r_s, norm)
        dl += r_l
        ds += r_s
        if np.hypot(r_l, r_s) <= RESAMPLE_PX or it == max(1, iterations) - 1:
            break
        bb = _resampled(b, dl, ds)
        ok = np.isfinite(a) & np.isfinite(bb)
        n = int(np.count_nonzero(ok))
        if n < MIN_VALID:
            raise AccuracyError(f"only {n} pixels valid in both images")
        spec, norm = _correlation(a, bb, ok, 2)
        r_l = r_s = 0.0
    return {"dl": float(dl), "ds": float(ds), "magnitude": float(np.hypot(dl, ds)),
            "peak": float(peak), "n_valid": n}


def pick_tiles(a: np.ndarray, b: np.ndarray, tile: int = TILE_PX, max_tiles: int = 8,
               min_fraction: float = 0.5) -> list[tuple[int, int]]:
    """Upper-left corners (line, sample) of up to ``max_tiles`` tiles of ``tile`` x ``tile`` px
    (``tile`` even) on a half-tile lattice, among those with at least ``min_fraction`` of
    their pixels finite in both ``a`` and ``b``, spread evenly over the candidates (row-major
    order); empty when none qualifies."""
    if tile < 2 or tile % 2:
        raise ValueError(f"tile must be even and >= 2, got {tile}")
    half = tile // 2
    counts = _both_valid_blocks(a, b, half, a is b)
    nl, ns = a.shape
    cands = []
    for i in range(0, max(nl - tile, 0) + 1, half):
        for j in range(0, max(ns - tile, 0) + 1, half):
            c = counts[i // half:i // half + 2, j // half:j // half + 2].sum()
            if c / float(tile * tile) >= min_fraction:
                cands.append((i, j))
    if not cands:
        return []
    return [cands[k] for k in np.unique(np.linspace(0, len(cands) - 1, max_tiles).round()
                                        .astype(int))]


def valid_box(a: np.ndarray, b: np.ndarray) -> tuple[slice, slice]:
    """Bounding box of the pixels finite in both images (whole image when none)."""
    both = np.isfinite(a) & np.isfinite(b)
    rows, cols = np.flatnonzero(both.any(axis=1)), np.flatnonzero(both.any(axis=0))
    if rows.size == 0:
        return slice(0, a.shape[0]), slice(0, a.shape[1])
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _one(pair: Callable[[], tuple[np.ndarray, np.ndarray]], max_shift_px: int
         ) -> dict[str, float] | None:
    try:
        return measure_map_shift(*pair(), max_shift_px)
    except AccuracyError:
        return None


def measure_pairs(pairs: list[Callable[[], tuple[np.ndarray, np.ndarray]]],
                  max_shift_px: int = 8) -> dict[str, float]:
    """:func:`measure_map_shift` of every ``pair()`` -> (a, b) in numba's thread count of worker
    threads (FFT, gradient kernel and sorting release the GIL; same figures whatever the
    count); tiles that cannot be measured are left out. Returns the median shift, plus
    ``tiles`` (measured) and ``spread_px`` (largest deviation of a tile from the median)."""
    n = max(1, min(numba.get_num_threads(), len(pairs)))
    if n == 1:
        got = [_one(p, max_shift_px) for p in pairs]
    else:
        with ThreadPoolExecutor(max_workers=n) as pool:
            got = list(pool.map(lambda p: _one(p, max_shift_px), pairs))
    res = [r for r in got if r is not None]
    if not res:
        raise AccuracyError("no tile could be measured")
    if len(pairs) == 1:
        return {**res[0], "tiles": 1, "spread_px": 0.0}
    dl = float(np.median([r["dl"] for r in res]))
    ds = float(np.median([r["ds"] for r in res]))
    spread = max(float(np.hypot(r["dl"] - dl, r["ds"] - ds)) for r in res)
    return {"dl": dl, "ds": ds, "magnitude": float(np.hypot(dl, ds)),
            "peak": float(np.median([r["peak"] for r in res])),
            "n_valid": int(sum(r["n_valid"] for r in res)), "tiles": len(res),
            "spread_px": spread}


def measure_map_shift_tiled(a: np.ndarray, b: np.ndarray, max_shift_px: int = 8,
                        tile: int = TILE_PX, max_tiles: int = 8, min_fraction: float = 0.5
                        ) -> dict[str, float]:
    """:func:`measure_map_shift` on large images, bounded in memory and time: on the tiles of
    :func:`pick_tiles` (median, see :func:`measure_pairs`). Images that fit in one tile, or
    with no qualifying tile, are measured whole (their common valid bounding box)."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise AccuracyError(f"shapes differ: {a.shape} vs {b.shape}")
    nl, ns = a.shape
    picks = [] if nl <= tile and ns <= tile else pick_tiles(a, b, tile, max_tiles, min_fraction)
    if not picks:
        return {**measure_map_shift(a, b, max_shift_px), "tiles": 1, "spread_px": 0.0}
    return measure_pairs([lambda i=i, j=j: (a[i:i + tile, j:j + tile], b[i:i + tile, j:j + tile])
                          for i, j in picks], max_shift_px)
