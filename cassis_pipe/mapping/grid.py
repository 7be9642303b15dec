"""Map grids: a projection plus a pixel lattice snapped to whole pixel multiples.

A :class:`MapGrid` has ``lines x samples`` square pixels of ``pixel_m`` metres. The upper-left
*corner* of pixel (0, 0) is at map ``(ulx_m, uly_m)``; pixel ``(i, j)`` (line, sample, 0-based)
has its centre at ``x = ulx + (j + 0.5) p``, ``y = uly - (i + 0.5) p``. Fractional pixel
indices use the image convention of the pipeline: pixel centres on integers. ``ulx``/``uly``
are whole multiples of ``pixel_m`` (as on the PSA products), so any two grids of one
projection and pixel size are aligned and every band of an observation lands on one grid.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..geometry.ellipsoid import xyz_to_latlon
from .projections import (
    EQUIRECTANGULAR,
    Projection,
    choose_projection,
    project_forward,
)

DEFAULT_PIXEL_M = 4.0
_SNAP_EPS = 1e-4
"""Tolerance (pixels) below which a bound is taken as lying on a pixel edge."""

__all__ = ["DEFAULT_PIXEL_M", "MapGrid", "choose_projection", "footprint_center",
           "grid_for_footprints"]


@dataclass(frozen=True)
class MapGrid:
    """Projection + pixel lattice. Lengths in metres, angles in degrees."""

    projection: Projection
    pixel_m: float
    ulx_m: float
    uly_m: float
    lines: int
    samples: int

    def __post_init__(self) -> None:
        if not (self.pixel_m > 0 and math.isfinite(self.pixel_m)):
            raise ValueError(f"pixel size {self.pixel_m!r} m must be positive")
        if self.lines < 1 or self.samples < 1:
            raise ValueError(f"grid shape {self.shape} must be at least 1 x 1")
        if not (math.isfinite(self.ulx_m) and math.isfinite(self.uly_m)):
            raise ValueError("upper-left corner must be finite")

    # -- geometry of the lattice -----------------------------------------------------------
    @property
    def shape(self) -> tuple[int, int]:
        """(lines, samples)."""
        return (self.lines, self.samples)

    @property
    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform ``(ulx, p, 0, uly, 0, -p)`` (metres)."""
        return (self.ulx_m, self.pixel_m, 0.0, self.uly_m, 0.0, -self.pixel_m)

    @property
    def center_xy(self) -> tuple[float, float]:
        """Map (x, y) m of the grid centre."""
        return (self.ulx_m + 0.5 * self.samples * self.pixel_m,
                self.uly_m - 0.5 * self.lines * self.pixel_m)

    def index_to_xy(self, line: np.ndarray, sample: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fractional pixel (line, sample), centres on integers -> map (x, y) m."""
        return (self.ulx_m + (np.asarray(sample, np.float64) + 0.5) * self.pixel_m,
                self.uly_m - (np.asarray(line, np.float64) + 0.5) * self.pixel_m)

    def xy_to_index(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map (x, y) m -> fractional pixel (line, sample), centres on integers."""
        return ((self.uly_m - np.asarray(y_m, np.float64)) / self.pixel_m - 0.5,
                (np.asarray(x_m, np.float64) - self.ulx_m) / self.pixel_m - 0.5)

    def index_to_latlon(self, line: np.ndarray, sample: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Fractional pixel (line, sample) -> planetocentric latitude, east longitude (deg)."""
        return self.projection.inverse(*self.index_to_xy(line, sample))

    def latlon_to_index(self, lat_deg: np.ndarray, lon_deg: np.ndarray
                        ) -> tuple[np.ndarray, np.ndarray]:
        """(lat, east lon) deg -> fractional pixel (line, sample); equirectangular longitudes
        are taken on the 360-deg branch nearest the grid centre."""
        x, y = self.projection.forward(lat_deg, lon_deg, x_ref_m=self.center_xy[0])
        return self.xy_to_index(x, y)

    def pixel_latlon(self) -> tuple[np.ndarray, np.ndarray]:
        """(lat, lon) deg of every pixel centre, each of ``shape``."""
        i = np.arange(self.lines, dtype=np.float64)[:, None]
        j = np.arange(self.samples, dtype=np.float64)[None, :]
        return self.index_to_latlon(*np.broadcast_arrays(i, j))

    def bounds_deg(self, n_edge: int = 65) -> dict[str, float]:
        """West/east/north/south bounding coordinates (deg) of the grid's outer edge, sampled
        with ``n_edge`` points per side (plus the pole if it lies inside). West/east are
        measured on the branch of the grid centre, so west > east means the 0/360 meridian is
        crossed."""
        e = np.linspace(-0.5, self.samples - 0.5, n_edge)
        f = np.linspace(-0.5, self.lines - 0.5, n_edge)
        li = np.concatenate([np.full(n_edge, -0.5), f, np.full(n_edge, self.lines - 0.5), f])
        si = np.concatenate([e, np.full(n_edge, self.samples - 0.5), e, np.full(n_edge, -0.5)])
        lat, lon = self.index_to_latlon(li, si)
        north, south = float(np.nanmax(lat)), float(np.nanmin(lat))
        pole_lat = self.projection.pole_latitude_deg
        if pole_lat:
            pl, ps = self.latlon_to_index(np.array([pole_lat]), np.array([0.0]))
            if -0.5 <= pl[0] <= self.lines - 0.5 and -0.5 <= ps[0] <= self.samples - 0.5:
                north, south = max(north, pole_lat), min(south, pole_lat)
                return {"west_deg": 0.0, "east_deg": 360.0, "north_deg": north,
                        "south_deg": south}
        clat, clon = self.index_to_latlon(np.array([(self.lines - 1) / 2]),
                                          np.array([(self.samples - 1) / 2]))
        rel = (lon - clon[0] + 180.0) % 360.0 - 180.0
        west = (clon[0] + float(np.nanmin(rel))) % 360.0
        east = (clon[0] + float(np.nanmax(rel))) % 360.0
        if float(np.nanmax(rel) - np.nanmin(rel)) >= 359.999:
            west, east = 0.0, 360.0
        return {"west_deg": float(west), "east_deg": float(east), "north_deg": north,
                "south_deg": south}

    def pixel_scale_px_per_deg(self) -> float:
        """PDS4 ``pixel_scale``: pixels per degree of arc on the projection sphere."""
        return math.pi / 180.0 * self.projection.radius_m / self.pixel_m

    def window(self, line0: int, line1: int, sample0: int, sample1: int) -> MapGrid:
        """Sub-grid of lines ``line0..line1-1`` and samples ``sample0..sample1-1``."""
        if not (0 <= line0 < line1 <= self.lines and 0 <= sample0 < sample1 <= self.samples):
            raise ValueError("sub-grid outside the grid")
        return MapGrid(self.projection, self.pixel_m, self.ulx_m + sample0 * self.pixel_m,
                       self.uly_m - line0 * self.pixel_m, line1 - line0, sample1 - sample0)

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready description, enough for a PDS4 Cartography section and a GeoTIFF:
        projection parameters (keys of ``products.crs.MapProjection``), pixel size, corner,
        shape, geotransform, pixel scale (px/deg) and bounding coordinates (deg)."""
        d = {"projection": self.projection.to_dict(), "pixel_size_m": self.pixel_m,
             "upper_left_x_m": self.ulx_m, "upper_left_y_m": self.uly_m,
             "lines": self.lines, "samples": self.samples,
             "geotransform": list(self.geotransform),
             "pixel_scale_px_per_deg": self.pixel_scale_px_per_deg(),
             "latitude_of_projection_origin_deg": 0.0
             if self.projection.kind == EQUIRECTANGULAR else self.projection.pole_latitude_deg}
        d.update(self.bounds_deg())
        return d

    @classmethod
    def from_dict(cls, d: dict) -> MapGrid:
        """Inverse of :meth:`to_dict` (derived keys are ignored)."""
        return cls(Projection.from_dict(d["projection"]), float(d["pixel_size_m"]),
                   float(d["upper_left_x_m"]), float(d["upper_left_y_m"]), int(d["lines"]),
                   int(d["samples"]))


def _unit_vectors(points: np.ndarray) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] not in (2, 3):
        raise ValueError("footprints must be (n, 2) lon/lat deg or (n, 3) xyz arrays")
    if pts.shape[1] == 2:
        lon, lat = np.radians(pts[:, 0]), np.radians(pts[:, 1])
        return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], 1)
    return pts / np.linalg.norm(pts, axis=1, keepdims=True)


def footprint_center(footprints: Sequence[np.ndarray]) -> tuple[float, float]:
    """(lat, east lon) deg of the centre of the footprints' latitude/longitude box: mid-latitude
    of the extreme latitudes, mid-longitude on the branch of the mean direction."""
    u = np.concatenate([_unit_vectors(f) for f in footprints])
    u = u[np.isfinite(u).all(axis=1)]
    if len(u) == 0:
        raise ValueError("no finite footprint points")
    lat, lon, _ = xyz_to_latlon(u)
    _, mlon, _ = xyz_to_latlon(u.mean(axis=0))
    rel = (lon - float(mlon) + 180.0) % 360.0 - 180.0
    clon = (float(mlon) + 0.5 * (rel.min() + rel.max())) % 360.0
    return 0.5 * (float(lat.min()) + float(lat.max())), clon


def grid_for_footprints(footprints: Sequence[np.ndarray], pixel: float = DEFAULT_PIXEL_M,
                        projection: Projection | None = None, margin_px: int = 0) -> MapGrid:
    """Smallest grid of ``pixel`` m whose corner lies on whole pixel multiples and which
    contains every footprint point (``(n, 2)`` lon/lat deg or ``(n, 3)`` body-fixed xyz).
    ``projection`` default: :func:`choose_projection` of :func:`footprint_center`. Footprints
    crossing the 0/360 meridian stay contiguous (x beyond the +-180 deg branch)."""
    if not footprints:
        raise ValueError("no footprints")
    clat, clon = footprint_center(footprints)
    proj = projection or choose_projection(clat, clon)
    u = np.concatenate([_unit_vectors(f) for f in footprints])
    u = u[np.isfinite(u).all(axis=1)]
    lat, lon, _ = xyz_to_latlon(u)
    prm = proj.params
    xc, _ = project_forward(np.array([clat]), np.array([clon]), prm, math.nan)
    x, y = project_forward(np.ascontiguousarray(lat), np.ascontiguousarray(lon), prm, xc[0])
    p = float(pixel)
    j0 = math.floor(x.min() / p + _SNAP_EPS) - margin_px
    j1 = math.ceil(x.max() / p - _SNAP_EPS) + margin_px
    i0 = math.floor(y.min() / p + _SNAP_EPS) - margin_px
    i1 = math.ceil(y.max() / p - _SNAP_EPS) + margin_px
    return MapGrid(proj, p, j0 * p, i1 * p, max(i1 - i0, 1), max(j1 - j0, 1))
