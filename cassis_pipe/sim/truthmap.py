"""Truth reflectance on a map grid: the scene I/F rendered directly (no instrument).

Grid: planetocentric equirectangular, row 0 = northernmost; cell centres at
``lat = lat_max - (i + 0.5) * dlat`` and ``lon = lon_min + (j + 0.5) * dlon`` (degrees, east);
ground points on the reference spheroid. Same scene kernel as the framelets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from cassis_pipe.sim.orbit import latlon_deg, surface_point


@dataclass(frozen=True)
class MapGrid:
    """Equirectangular grid (degrees); ``scale_m`` is the nominal cell size on the ground."""

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

    def centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Latitude and longitude (degrees) of every cell centre, each (rows, cols)."""
        lat = self.lat_max_deg - (np.arange(self.rows) + 0.5) * self.dlat_deg
        lon = self.lon_min_deg + (np.arange(self.cols) + 0.5) * self.dlon_deg
        return np.meshgrid(lat, lon, indexing="ij")

    def fractional_index(self, lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of points in cell units, cell centres at integers."""
        i = (self.lat_max_deg - lat) / self.dlat_deg - 0.5
        j = (np.mod(lon - self.lon_min_deg + 180.0, 360.0) - 180.0) / self.dlon_deg - 0.5
        return i, j


def grid_for_points(points_km: np.ndarray, scale_m: float, radius_km: float,
                    margin_m: float = 200.0) -> MapGrid:
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
    return MapGrid(lat_max, lon_min, float(dlat), float(dlon), rows, cols, float(scale_m))


def grid_points_m(grid: MapGrid, radii_km: tuple[float, float]) -> np.ndarray:
    """Body-fixed points (m) of every cell centre, (rows*cols, 3)."""
    lat, lon = grid.centres()
    return surface_point(lat, lon, radii_km).reshape(-1, 3) * 1000.0


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
