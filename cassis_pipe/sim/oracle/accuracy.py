"""Stage "accuracy": map products of a simulated observation against the simulator's truth.

* geolocation: per band, the sub-pixel shift (map pixels) between the product and the truth
  I/F map bilinearly sampled at the product's pixel centres, measured on up to 8 tiles of
  1024 x 1024 px (median; the tiles with the most valid product pixels, spread over the
  footprint); the truth is sampled only on those tiles;
* I/F bias per band: median of product / truth - 1 over the pixels valid in both, on a
  regular lattice of every :data:`BIAS_STEP_PX`-th line and sample for grids larger than
  :data:`BIAS_FULL_MAX_PX` (every pixel below);
* band-to-band misregistration: shift of every band against PAN, measured on the products
  (same tiling);
* rotation offset error: recovered - true offset (deg).

Shifts: :mod:`~cassis_pipe.register.mapshift` (gradient NCC, FFT, Fourier-shift
refinement). Pure functions; :func:`accuracy` only reads the truth files.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit

from cassis_pipe.imaging.resample import bilinear_blend
from cassis_pipe.mapping.grid import MapGrid
from cassis_pipe.mapping.projections import EQUIRECTANGULAR, inverse_point
from cassis_pipe.register.mapshift import (
    MIN_VALID,
    AccuracyError,
    measure_map_shift,
    measure_pairs,
    pick_tiles,
    valid_box,
)
from cassis_pipe.register.quality import (
    SHIFT_TILE_PX,
    band_misregistration,
    largest_measured,
    measured,
)

__all__ = ["accuracy", "geolocation", "iof_bias", "iof_bias_sampled", "truth_bands_on_grid",
           "truth_on_grid", "TruthMaps"]

#: Lattice step (px) of the I/F bias on grids larger than :data:`BIAS_FULL_MAX_PX` pixels.
BIAS_STEP_PX = 4
BIAS_FULL_MAX_PX = 4_000_000


@njit(cache=True, nogil=True, inline="always")
def _bilerp(band: np.ndarray, x: float, y: float) -> float:
    """``band`` at fractional cell (x, y): NaN outside ``[0, n - 1]`` on either axis or when
    any of the 4 neighbour cells is NaN (needs at least 2 x 2 cells)."""
    n0, n1 = band.shape
    if not (0.0 <= x <= n0 - 1 and 0.0 <= y <= n1 - 1):
        return np.nan
    i0, j0 = min(int(x), n0 - 2), min(int(y), n1 - 2)
    fx, fy = x - i0, y - j0
    return bilinear_blend(band[i0, j0], band[i0, j0 + 1], band[i0 + 1, j0], band[i0 + 1, j0 + 1],
                          fx, fy)


@njit(cache=True, nogil=True, inline="always")
def _cell(line: float, sample: float, geo: np.ndarray, prm: np.ndarray, tg: np.ndarray
          ) -> tuple[float, float]:
    """Truth cell (row, col) of map pixel (line, sample); ``geo`` = (ulx, uly, pixel) m,
    ``tg`` = truth (lat_max, dlat, lon_min, dlon) deg."""
    lat, lon = inverse_point(geo[0] + (sample + 0.5) * geo[2], geo[1] - (line + 0.5) * geo[2],
                             prm)
    lat, lon = np.degrees(lat), np.degrees(lon)
    return ((tg[0] - lat) / tg[1] - 0.5,
            (np.mod(lon - tg[2] + 180.0, 360.0) - 180.0) / tg[3] - 0.5)


@njit(cache=True, nogil=True)
def _cells(lines: np.ndarray, samples: np.ndarray, geo: np.ndarray, prm: np.ndarray,
           tg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i = np.empty(lines.size)
    j = np.empty(lines.size)
    for k in range(lines.size):
        i[k], j[k] = _cell(lines[k], samples[k], geo, prm, tg)
    return i, j


@njit(cache=True, nogil=True)
def _sample(band: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    out = np.empty(i.size, np.float32)
    for k in range(i.size):
        out[k] = _bilerp(band, i[k], j[k])
    return out


@njit(cache=True, nogil=True)
def _window(band: np.ndarray, r0: int, c0: int, where: np.ndarray, geo: np.ndarray,
            prm: np.ndarray, tg: np.ndarray, separable: bool) -> np.ndarray:
    """Truth of ``band`` on the map window at (r0, c0) where ``where`` is finite. With
    ``separable`` (equirectangular: latitude depends on the line only, longitude on the
    sample only) the cells are computed once per line and per sample: same values."""
    nl, ns = where.shape
    out = np.full((nl, ns), np.nan, np.float32)
    if separable:
        ci = np.empty(nl)
        cj = np.full(ns, np.nan)
        ref = -1
        for a in range(nl):
            ci[a] = _cell(float(r0 + a), float(c0), geo, prm, tg)[0]
            if ref < 0 and np.isfinite(ci[a]):
                ref = a
        if ref >= 0:
            for b in range(ns):
                cj[b] = _cell(float(r0 + ref), float(c0 + b), geo, prm, tg)[1]
        for a in range(nl):
            if np.isfinite(ci[a]):
                for b in range(ns):
                    if np.isfinite(where[a, b]):
                        out[a, b] = _bilerp(band, ci[a], cj[b])
        return out
    for a in range(nl):
        for b in range(ns):
            if np.isfinite(where[a, b]):
                x, y = _cell(float(r0 + a), float(c0 + b), geo, prm, tg)
                out[a, b] = _bilerp(band, x, y)
    return out


class TruthMaps:
    """The simulator's truth I/F maps (``truth/maps/iof_<F>.npy`` on its lat/lon grid,
    ``grid.json``: cell centre lat = lat_max - (i + 0.5) dlat, lon = lon_min + (j + 0.5)
    dlon), sampled bilinearly at map-grid pixel centres on demand (float32; NaN outside the
    truth or next to a truth cell without value). Thread-safe (numba ``nogil`` kernels)."""

    def __init__(self, truth_dir: str | Path, filters: list[str]) -> None:
        d = Path(truth_dir) / "maps"
        try:
            g = json.loads((d / "grid.json").read_text())
            self.bands = {f: np.ascontiguousarray(np.load(d / f"iof_{f}.npy"), np.float32)
                          for f in filters}
            self._tg = np.array([g["lat_max_deg"], g["dlat_deg"], g["lon_min_deg"],
                                 g["dlon_deg"]], dtype=np.float64)
        except (OSError, ValueError, KeyError) as exc:
            raise AccuracyError(f"cannot read the truth maps in {d}: {exc}") from exc
        if any(b.ndim != 2 or min(b.shape) < 2 for b in self.bands.values()):
            raise AccuracyError(f"truth maps in {d} must be 2-D with at least 2 x 2 cells")

    @staticmethod
    def _geo(grid: MapGrid) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([grid.ulx_m, grid.uly_m, grid.pixel_m], dtype=np.float64),
                np.asarray(grid.projection.params, dtype=np.float64))

    def cells(self, grid: MapGrid, lines: np.ndarray, samples: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
        """Fractional truth cells (row, col; centres on integers) of the map pixel centres
        (``lines``, ``samples``: 1-D)."""
        geo, prm = self._geo(grid)
        return _cells(np.ascontiguousarray(lines, np.float64),
                      np.ascontiguousarray(samples, np.float64), geo, prm, self._tg)

    def sample(self, f: str, cells: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Truth I/F of filter ``f`` at ``cells`` (1-D, from :meth:`cells`)."""
        return _sample(self.bands[f], *cells)

    def window(self, f: str, grid: MapGrid, rows: slice, cols: slice,
               where: np.ndarray | None = None) -> np.ndarray:
        """Truth I/F of filter ``f`` on the map-grid window ``rows`` x ``cols`` (slices with
        start and stop); only where ``where`` (window shape) is finite if given, NaN
        elsewhere."""
        geo, prm = self._geo(grid)
        if where is None:
            where = np.zeros((rows.stop - rows.start, cols.stop - cols.start), np.float32)
        return _window(self.bands[f], rows.start, cols.start, where, geo, prm, self._tg,
                       grid.projection.kind == EQUIRECTANGULAR)


def truth_bands_on_grid(truth_dir: str | Path, grid: MapGrid, filters: list[str],
                        block_lines: int = 512, where: np.ndarray | None = None
                        ) -> dict[str, np.ndarray]:
    """Truth I/F of every filter in ``filters`` bilinearly sampled at every pixel centre of
    ``grid`` (float32, NaN outside the truth or next to a truth cell without value; only where
    ``where`` (bool, grid shape) is True, if given), in blocks of ``block_lines`` map lines.
    Full-grid arrays: for checks and small grids; :func:`accuracy` samples only what it uses."""
    truth = TruthMaps(truth_dir, filters)
    out = {f: np.full(grid.shape, np.nan, dtype=np.float32) for f in filters}
    for r0 in range(0, grid.lines, block_lines):
        r1 = min(r0 + block_lines, grid.lines)
        sel = (np.ones((r1 - r0, grid.samples), dtype=bool) if where is None
               else where[r0:r1])
        li, si = np.nonzero(sel)
        if li.size == 0:
            continue
        cells = truth.cells(grid, li + float(r0), si)
        for f in filters:
            out[f][r0:r1][sel] = truth.sample(f, cells)
    return out


def truth_on_grid(truth_dir: str | Path, grid: MapGrid, filter_name: str) -> np.ndarray:
    """Truth I/F of one filter on ``grid`` (see :func:`truth_bands_on_grid`)."""
    return truth_bands_on_grid(truth_dir, grid, [filter_name])[filter_name]


def geolocation(mosaic: np.ndarray, truth: TruthMaps, f: str, grid: MapGrid,
                max_shift_px: int = 8, tile: int = SHIFT_TILE_PX, max_tiles: int = 8
                ) -> dict[str, float]:
    """Shift (map px) of product ``mosaic`` of filter ``f`` against the truth on ``grid``:
    on the :func:`~.accuracy_shift.pick_tiles` tiles of the product's valid pixels (median;
    truth sampled there, at the valid product pixels only), or on the valid bounding box when
    it fits in one tile or no tile qualifies. Truth sampling and correlation of the tiles run
    in worker threads."""
    nl, ns = mosaic.shape
    picks = [] if nl <= tile and ns <= tile else pick_tiles(mosaic, mosaic, tile, max_tiles)
    if not picks:
        rows, cols = valid_box(mosaic, mosaic)
        m = mosaic[rows, cols]
        return {**measure_map_shift(truth.window(f, grid, rows, cols, m), m, max_shift_px),
                "tiles": 1, "spread_px": 0.0}
    pairs = []
    for i, j in picks:
        rows, cols = slice(i, i + tile), slice(j, j + tile)
        pairs.append(lambda m=mosaic[rows, cols], rows=rows, cols=cols:
                     (truth.window(f, grid, rows, cols, m), m))
    return measure_pairs(pairs, max_shift_px)


def iof_bias(product: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Median relative I/F difference (product / truth - 1) over pixels valid in both."""
    ok = np.isfinite(product) & np.isfinite(truth) & (truth > 1e-4)
    n = int(np.count_nonzero(ok))
    if n < MIN_VALID:
        raise AccuracyError(f"only {n} pixels valid in product and truth")
    rel = product[ok].astype(np.float64) / truth[ok] - 1.0
    return {"median_relative": float(np.median(rel)),
            "mad_relative": float(np.median(np.abs(rel - np.median(rel)))), "n_valid": n}


def iof_bias_sampled(mosaics: dict[str, np.ndarray], truth: TruthMaps, grid: MapGrid
                     ) -> dict[str, dict[str, Any]]:
    """:func:`iof_bias` of every band on the regular lattice of every ``step``-th line and
    sample (``step`` = :data:`BIAS_STEP_PX` on grids larger than :data:`BIAS_FULL_MAX_PX`,
    else 1; lattice offset ``step // 2``); the truth is sampled only there. Each record also
    holds ``lattice_step_px``. Unmeasurable bands are reported as by :func:`_measured`. Bands
    are evaluated in numba's thread count of worker threads (same figures)."""
    step = BIAS_STEP_PX if grid.lines * grid.samples > BIAS_FULL_MAX_PX else 1
    sub = {f: m[step // 2::step, step // 2::step] for f, m in mosaics.items()}
    anyv = np.zeros(next(iter(sub.values())).shape, dtype=bool)
    for m in sub.values():
        anyv |= np.isfinite(m)
    li, si = np.nonzero(anyv)
    cells = truth.cells(grid, li * float(step) + step // 2, si * float(step) + step // 2)

    def one(f: str) -> dict[str, Any]:
        rec = measured(iof_bias, sub[f][li, si], truth.sample(f, cells))
        return {**rec, "lattice_step_px": step} if rec.get("measured", True) else rec

    with ThreadPoolExecutor(max_workers=max(1, numba.get_num_threads())) as pool:
        return dict(zip(sub, pool.map(one, sub), strict=True))


def accuracy(mosaics: dict[str, np.ndarray], grid: MapGrid, truth_dir: str | Path,
             recovered_offset_deg: float, true_offset_deg: float,
             max_shift_px: int = 8,
             misregistration: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The accuracy record of one observation (JSON-ready; shifts in map pixels of
    ``grid.pixel_m`` m, I/F bias relative, offsets in degrees). ``misregistration``: the
    :func:`band_misregistration` of these mosaics against the reference band if already
    measured (the map stage does), else it is measured here."""
    truth = TruthMaps(truth_dir, list(mosaics))
    geo = {f: measured(geolocation, m, truth, f, grid, max_shift_px)
           for f, m in mosaics.items()}
    bias = iof_bias_sampled(mosaics, truth, grid)
    del truth
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
