"""Truth reflectance on a map grid: the scene I/F rendered directly (no instrument).

Only cells inside the (grown) convex hull of all framelet footprints are rendered; the others
are NaN.

Grid: planetocentric equirectangular, row 0 = northernmost; cell centres at
``lat = lat_max - (i + 0.5) * dlat`` and ``lon = lon_min + (j + 0.5) * dlon`` (degrees, east);
ground points on the reference spheroid. Same scene kernel as the framelets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from cassis_pipe.sim.orbit import latlon_deg, surface_point


@dataclass(frozen=True)
class TruthGrid:
    """The simulator's lat/lon truth grid, equirectangular in degrees (not the pipeline's map
    grid, :class:`cassis_pipe.mapping.grid.MapGrid`); ``scale_m`` is the nominal cell size on
    the ground."""

    lat_max_deg: float
    lon_min_deg: float
    dlat_deg: float
    dlon_deg: float
    rows: int
    cols: int
    scale_m: float

    def as_dict(self) -> dict:
        return {**asdict(self), "convention": "cell centre lat = lat_max - (i + 0.5) dlat, "
                "lon = lon_min + (j + 0.5) dlon; planetocentric, east longitude, spheroid"}

    def fractional_index(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of points in cell units, cell centres at integers."""
        i = (self.lat_max_deg - lat) / self.dlat_deg - 0.5
        j = (np.mod(lon - self.lon_min_deg + 180.0, 360.0) - 180.0) / self.dlon_deg - 0.5
        return i, j


def grid_for_points(points_km: np.ndarray, scale_m: float, radius_km: float,
                    margin_m: float = 200.0) -> TruthGrid:
    """Grid covering ``points_km`` (BF) plus a margin, at ``scale_m`` per cell."""
    lat, lon = latlon_deg(points_km)
    lon0 = float(lon.flat[0])
    dl = np.mod(lon - lon0 + 180.0, 360.0) - 180.0
    dlat = np.degrees(scale_m / (radius_km * 1000.0))
    lat_c = np.radians(0.5 * (lat.max() + lat.min()))
    dlon = dlat / max(np.cos(lat_c), 0.05)
    mlat = np.degrees(margin_m / (radius_km * 1000.0))
    mlon = mlat / max(np.cos(lat_c), 0.05)
    lat_max = float(lat.max() + mlat)
    lon_min = float(lon0 + dl.min() - mlon)
    rows = int(np.ceil((lat_max - (lat.min() - mlat)) / dlat))
    cols = int(np.ceil((lon0 + dl.max() + mlon - lon_min) / dlon))
    return TruthGrid(lat_max, lon_min, float(dlat), float(dlon), rows, cols, float(scale_m))


def row_spans(grid: TruthGrid, points_km: np.ndarray, margin_cells: float = 20.0
              ) -> tuple[np.ndarray, np.ndarray]:
    """Per grid row, the column interval [first, last) inside the convex hull of the points
    (grown by ``margin_cells``); empty rows have first == last."""
    from scipy.spatial import ConvexHull

    lat, lon = latlon_deg(points_km)
    i, j = grid.fractional_index(lat, lon)
    xy = np.stack([i.ravel(), j.ravel()], -1)
    hull = xy[ConvexHull(xy).vertices]
    c = hull.mean(0)
    d = hull - c
    hull = c + d * (1.0 + margin_cells / np.maximum(np.linalg.norm(d, axis=1), 1e-9))[:, None]
    rows = np.arange(grid.rows, dtype=np.float64)
    lo = np.full(grid.rows, np.inf)
    hi = np.full(grid.rows, -np.inf)
    for a, b in zip(hull, np.roll(hull, -1, axis=0), strict=True):
        if a[0] == b[0]:
            continue
        t = (rows - a[0]) / (b[0] - a[0])
        ok = (t >= 0) & (t <= 1)
        jj = a[1] + t * (b[1] - a[1])
        lo[ok] = np.minimum(lo[ok], jj[ok])
        hi[ok] = np.maximum(hi[ok], jj[ok])
    first = np.clip(np.floor(lo), 0, grid.cols).astype(np.int64)
    last = np.clip(np.ceil(hi) + 1, 0, grid.cols).astype(np.int64)
    first[~np.isfinite(lo)] = 0
    last[~np.isfinite(lo)] = 0
    return first, np.maximum(first, last)


def span_points_m(grid: TruthGrid, first: np.ndarray, last: np.ndarray,
                  radii_km: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Body-fixed points (m) of the cells inside the row spans, and their flat indices."""
    counts = last - first
    row = np.repeat(np.arange(grid.rows), counts)
    col = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(
        first, counts)
    lat = grid.lat_max_deg - (row + 0.5) * grid.dlat_deg
    lon = grid.lon_min_deg + (col + 0.5) * grid.dlon_deg
    return surface_point(lat, lon, radii_km) * 1000.0, row * grid.cols + col


def bilinear(img: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Bilinear sample of ``img`` at fractional (row, col); NaN outside."""
    i0 = np.floor(i).astype(np.int64)
    j0 = np.floor(j).astype(np.int64)
    ok = (i0 >= 0) & (j0 >= 0) & (i0 < img.shape[0] - 1) & (j0 < img.shape[1] - 1)
    i0c, j0c = np.where(ok, i0, 0), np.where(ok, j0, 0)
    fi, fj = i - i0, j - j0
    v = (img[i0c, j0c] * (1 - fi) * (1 - fj) + img[i0c + 1, j0c] * fi * (1 - fj)
         + img[i0c, j0c + 1] * (1 - fi) * fj + img[i0c + 1, j0c + 1] * fi * fj)
    return np.where(ok, v, np.nan)
