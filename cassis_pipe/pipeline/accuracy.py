"""Stage "accuracy": map products of a simulated observation against the simulator's truth.

* geolocation: per band, the sub-pixel shift (map pixels) between the product and the truth
  I/F map resampled onto the product grid;
* I/F bias per band: median of product / truth - 1 over pixels valid in both;
* band-to-band misregistration: shift of every band against PAN, measured on the products;
* rotation offset error: recovered - true offset (deg).

Shifts: normalised cross-correlation of gradient images (insensitive to gain and offset), FFT,
parabolic peak refinement, then ``iterations`` passes that resample the second image by the
estimate and add the residual; large products are measured on up to 8 tiles of 1024 x 1024 px
(median), which bounds memory and time. Pure functions; :func:`accuracy` only reads the truth files.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np
from scipy import fft, ndimage
from scipy.fft import next_fast_len

from cassis_pipe.mapping.grid import MapGrid

#: Minimum number of pixels valid in both images for a shift or bias figure.
MIN_VALID = 256


class AccuracyError(ValueError):
    """Truth files unreadable, or too little overlap to measure."""


def _truth_maps(truth_dir: str | Path, filters: list[str]) -> tuple[dict, dict[str, np.ndarray]]:
    d = Path(truth_dir) / "maps"
    try:
        g = json.loads((d / "grid.json").read_text())
        bands = {f: np.load(d / f"iof_{f}.npy") for f in filters}
        _ = (g["lat_max_deg"], g["dlat_deg"], g["lon_min_deg"], g["dlon_deg"])
    except (OSError, ValueError, KeyError) as exc:
        raise AccuracyError(f"cannot read the truth maps in {d}: {exc}") from exc
    return g, bands


def truth_bands_on_grid(truth_dir: str | Path, grid: MapGrid, filters: list[str],
                        block_lines: int = 512, where: np.ndarray | None = None
                        ) -> dict[str, np.ndarray]:
    """Truth I/F of every filter in ``filters`` (``truth/maps/iof_<F>.npy`` on the simulator's
    lat/lon grid) bilinearly sampled at every pixel centre of ``grid`` (float32, NaN outside
    the truth or next to a truth cell without value). Computed in blocks of ``block_lines``
    map lines so memory stays ~block size whatever the grid; only at the pixels where
    ``where`` (bool, grid shape) is True, if given."""
    g, bands = _truth_maps(truth_dir, filters)
    out = {f: np.full(grid.shape, np.nan, dtype=np.float32) for f in filters}
    cols = np.arange(grid.samples, dtype=np.float64)
    for r0 in range(0, grid.lines, block_lines):
        r1 = min(r0 + block_lines, grid.lines)
        li, si = np.meshgrid(np.arange(r0, r1, dtype=np.float64), cols, indexing="ij")
        sel = np.ones(li.shape, dtype=bool) if where is None else where[r0:r1]
        if not sel.any():
            continue
        lat, lon = grid.index_to_latlon(li[sel], si[sel])
        i = (g["lat_max_deg"] - lat) / g["dlat_deg"] - 0.5
        j = (np.mod(lon - g["lon_min_deg"] + 180.0, 360.0) - 180.0) / g["dlon_deg"] - 0.5
        for f, band in bands.items():
            # NaN cells propagate to every point that has them as a neighbour
            val = ndimage.map_coordinates(band, [i, j], order=1, mode="constant", cval=np.nan)
            out[f][r0:r1][sel] = val
    return out


def truth_on_grid(truth_dir: str | Path, grid: MapGrid, filter_name: str) -> np.ndarray:
    """Truth I/F of one filter on ``grid`` (see :func:`truth_bands_on_grid`)."""
    return truth_bands_on_grid(truth_dir, grid, [filter_name])[filter_name]


def _gradient(img: np.ndarray, ok: np.ndarray) -> np.ndarray:
    a = np.where(ok, img, 0.0)
    gl = np.zeros_like(a)
    gs = np.zeros_like(a)
    gl[1:-1] = 0.5 * (a[2:] - a[:-2])
    gs[:, 1:-1] = 0.5 * (a[:, 2:] - a[:, :-2])
    inner = ndimage.binary_erosion(ok, iterations=2)
    g = (gl + 1j * gs) * inner
    return g / (np.sqrt(np.mean(np.abs(g[inner]) ** 2)) + 1e-30) * inner


def _parabola(cm: float, c0: float, cp: float) -> float:
    den = cm - 2.0 * c0 + cp
    return 0.0 if den >= 0 else float(np.clip(0.5 * (cm - cp) / den, -0.5, 0.5))


def _one_shift(a: np.ndarray, b: np.ndarray, ok: np.ndarray, max_shift_px: int
               ) -> tuple[float, float, float]:
    """(dl, ds, peak) with b(l, s) ~ a(l - dl, s - ds), over the common valid mask ``ok``."""
    ga, gb = _gradient(a, ok), _gradient(b, ok)
    nl, ns = a.shape
    fl, fs = next_fast_len(nl + max_shift_px), next_fast_len(ns + max_shift_px)
    xc = fft.ifft2(np.conj(fft.fft2(ga, (fl, fs), workers=-1)) * fft.fft2(gb, (fl, fs),
                                                                       workers=-1),
                   workers=-1).real
    xc /= max(float(np.count_nonzero(ok)), 1.0)
    idx = np.r_[0:max_shift_px + 1, -max_shift_px:0]
    sub = xc[np.ix_(idx % fl, idx % fs)]
    pi, pj = np.unravel_index(int(np.argmax(sub)), sub.shape)
    li, sj = int(idx[pi]), int(idx[pj])
    c0 = float(xc[li % fl, sj % fs])
    dl = li + _parabola(xc[(li - 1) % fl, sj % fs], c0, xc[(li + 1) % fl, sj % fs])
    ds = sj + _parabola(xc[li % fl, (sj - 1) % fs], c0, xc[li % fl, (sj + 1) % fs])
    return dl, ds, c0


def measure_shift(a: np.ndarray, b: np.ndarray, max_shift_px: int = 8, iterations: int = 3
                  ) -> dict[str, float]:
    """Sub-pixel translation (px) of ``b`` relative to ``a`` (same grid; NaN = no data):
    ``b(l, s) ~ a(l - dl, s - ds)``. Returns {dl, ds, magnitude, peak, n_valid}; raises
    :class:`AccuracyError` when fewer than :data:`MIN_VALID` pixels are valid in both."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise AccuracyError(f"shapes differ: {a.shape} vs {b.shape}")
    both = np.isfinite(a) & np.isfinite(b)
    if np.count_nonzero(both) < MIN_VALID:
        raise AccuracyError(f"only {np.count_nonzero(both)} pixels valid in both images")
    rows, cols = np.flatnonzero(both.any(axis=1)), np.flatnonzero(both.any(axis=0))
    pad = max_shift_px + 4
    box = (slice(max(rows[0] - pad, 0), rows[-1] + pad + 1),
           slice(max(cols[0] - pad, 0), cols[-1] + pad + 1))
    a, b = a[box], b[box]
    dl = ds = 0.0
    peak = 0.0
    n = 0
    for it in range(max(1, iterations)):
        if it == 0:
            bb = b
        else:
            okb = np.isfinite(b).astype(np.float64)
            bb = ndimage.shift(np.nan_to_num(b), (-dl, -ds), order=3, mode="constant",
                               cval=0.0)
            wb = ndimage.shift(okb, (-dl, -ds), order=1, mode="constant", cval=0.0)
            bb = np.where(wb > 0.999, bb, np.nan)
        ok = np.isfinite(a) & np.isfinite(bb)
        n = int(np.count_nonzero(ok))
        if n < MIN_VALID:
            raise AccuracyError(f"only {n} pixels valid in both images")
        r_l, r_s, peak = _one_shift(a, bb, ok, max_shift_px if it == 0 else 2)
        dl += r_l
        ds += r_s
        if abs(r_l) < 1e-4 and abs(r_s) < 1e-4:
            break
    return {"dl": float(dl), "ds": float(ds), "magnitude": float(np.hypot(dl, ds)),
            "peak": float(peak), "n_valid": n}


def measure_shift_tiled(a: np.ndarray, b: np.ndarray, max_shift_px: int = 8, tile: int = 1024,
                        max_tiles: int = 8, min_fraction: float = 0.5) -> dict[str, float]:
    """:func:`measure_shift` on large images, bounded in memory and time: on up to
    ``max_tiles`` tiles of ``tile`` x ``tile`` px with the largest shares (at least
    ``min_fraction``) of pixels valid in both images, spread evenly over the candidates;
    returns the median shift, plus ``tiles`` and ``spread_px`` (largest deviation of a tile
    from the median). Images that fit in one tile are measured whole."""
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        raise AccuracyError(f"shapes differ: {a.shape} vs {b.shape}")
    nl, ns = a.shape
    if nl <= tile and ns <= tile:
        return {**measure_shift(a, b, max_shift_px), "tiles": 1, "spread_px": 0.0}
    both = np.isfinite(a) & np.isfinite(b)
    cands = []
    for i in range(0, max(nl - tile, 0) + 1, tile // 2):
        for j in range(0, max(ns - tile, 0) + 1, tile // 2):
            frac = float(both[i:i + tile, j:j + tile].mean())
            if frac >= min_fraction:
                cands.append((i, j))
    if not cands:
        return {**measure_shift(a, b, max_shift_px), "tiles": 1, "spread_px": 0.0}
    pick = [cands[k] for k in np.unique(np.linspace(0, len(cands) - 1, max_tiles).round()
                                        .astype(int))]
    res = []
    for i, j in pick:
        try:
            res.append(measure_shift(a[i:i + tile, j:j + tile], b[i:i + tile, j:j + tile],
                                     max_shift_px))
        except AccuracyError:
            continue
    if not res:
        raise AccuracyError("no tile could be measured")
    dl = float(np.median([r["dl"] for r in res]))
    ds = float(np.median([r["ds"] for r in res]))
    spread = max(float(np.hypot(r["dl"] - dl, r["ds"] - ds)) for r in res)
    return {"dl": dl, "ds": ds, "magnitude": float(np.hypot(dl, ds)),
            "peak": float(np.median([r["peak"] for r in res])),
            "n_valid": int(sum(r["n_valid"] for r in res)), "tiles": len(res),
            "spread_px": spread}


def iof_bias(product: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Median relative I/F difference (product / truth - 1) over pixels valid in both."""
    ok = np.isfinite(product) & np.isfinite(truth) & (truth > 1e-4)
    n = int(np.count_nonzero(ok))
    if n < MIN_VALID:
        raise AccuracyError(f"only {n} pixels valid in product and truth")
    rel = product[ok].astype(np.float64) / truth[ok] - 1.0
    return {"median_relative": float(np.median(rel)),
            "mad_relative": float(np.median(np.abs(rel - np.median(rel)))), "n_valid": n}


def _measured(fn: Any, *args: Any) -> dict[str, Any]:
    """``fn(*args)``, or ``{"measured": False, "reason": ...}`` when it cannot be measured
    (e.g. two bands that see no common ground in a short observation): reported, not raised."""
    try:
        return fn(*args)
    except AccuracyError as exc:
        return {"measured": False, "reason": str(exc)}


def largest_measured(values: Any, key: Any) -> float | None:
    """Largest ``key(v)`` over the measured records (None when nothing could be measured)."""
    got = [key(v) for v in values if v.get("measured", True)]
    return max(got) if got else None


def band_misregistration(mosaics: dict[str, np.ndarray], reference: str = "PAN",
                         max_shift_px: int = 8) -> dict[str, dict[str, Any]]:
    """Shift (map px) of every other band against ``reference``, measured on the products;
    a band with no usable common ground is reported unmeasured."""
    ref = mosaics[reference]
    return {f: _measured(measure_shift_tiled, ref, m, max_shift_px)
            for f, m in mosaics.items() if f != reference}


def accuracy(mosaics: dict[str, np.ndarray], grid: MapGrid, truth_dir: str | Path,
             recovered_offset_deg: float, true_offset_deg: float,
             max_shift_px: int = 8,
             misregistration: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The accuracy record of one observation (JSON-ready; shifts in map pixels of
    ``grid.pixel_m`` m, I/F bias relative, offsets in degrees). ``misregistration``: the
    :func:`band_misregistration` of these mosaics against the reference band if already
    measured (the map stage does), else it is measured here."""
    geo: dict[str, Any] = {}
    bias: dict[str, Any] = {}
    anyvalid = np.zeros(grid.shape, dtype=bool)
    for m in mosaics.values():
        anyvalid |= np.isfinite(m)
    truths = truth_bands_on_grid(truth_dir, grid, list(mosaics), where=anyvalid)
    del anyvalid
    # bands are independent and FFT, ndimage and sorting release the GIL: measure them in
    # numba's thread count of worker threads (same figures whatever the count)
    with ThreadPoolExecutor(max_workers=max(1, numba.get_num_threads())) as pool:
        futs = {f: (pool.submit(_measured, measure_shift_tiled, truths[f], m, max_shift_px),
                    pool.submit(_measured, iof_bias, m, truths[f])) for f, m in mosaics.items()}
        for f, (g, b) in futs.items():
            geo[f], bias[f] = g.result(), b.result()
    del truths
    ref = "PAN" if "PAN" in mosaics else next(iter(mosaics))
    mis = (misregistration if misregistration is not None
           else band_misregistration(mosaics, ref, max_shift_px))
    return {
        "pixel_m": grid.pixel_m,
        "projection": grid.projection.kind,
        "rotation_offset": {"recovered_deg": float(recovered_offset_deg),
                            "true_deg": float(true_offset_deg),
                            "error_deg": float(recovered_offset_deg - true_offset_deg)},
        "geolocation_px": geo,
        "max_geolocation_px": largest_measured(geo.values(), lambda v: v["magnitude"]),
        "iof_bias": bias,
        "max_abs_iof_bias": largest_measured(bias.values(), lambda v: abs(v["median_relative"])),
        "band_misregistration_px": {"reference": ref, "bands": mis},
        "max_band_misregistration_px": largest_measured(mis.values(), lambda v: v["magnitude"]),
        "unmeasured": sorted(f"{kind}:{f}" for kind, recs in
                             (("geolocation", geo), ("iof_bias", bias), ("misregistration", mis))
                             for f, v in recs.items() if not v.get("measured", True)),
    }


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as sorted, indented JSON (deterministic bytes)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    return p
