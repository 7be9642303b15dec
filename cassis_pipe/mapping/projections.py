"""Map projections of Mars on a local-radius sphere (numba, vectorised).

Latitudes are planetocentric, longitudes east-positive in degrees (0-360 on output); map
coordinates ``x`` (east) / ``y`` (north) are metres. Two projections, as on the PSA/HiRISE
map-projected products (checked against ``MY36_015782_024_0_PAN``):

* **equirectangular** (|centre latitude| <= 65 deg): ``x = R cos(phi_s) (lon - lon_0)``,
  ``y = R lat`` (radians; latitude of origin 0). The standard parallel ``phi_s`` is the centre
  latitude truncated towards zero to a multiple of 5 deg, the central meridian ``lon_0`` is
  180 deg and ``R`` is the ellipsoid's local (planetocentric) radius at ``phi_s`` (to 1 mm).
* **polar stereographic** (|centre latitude| > 65 deg): true scale at the pole, central
  meridian 0 deg, ``R`` = local radius at the pole (the polar radius):
  north ``x = 2R tan(pi/4 - lat/2) sin(dlon)``, ``y = -2R tan(pi/4 - lat/2) cos(dlon)``;
  south ``x = 2R tan(pi/4 + lat/2) sin(dlon)``, ``y = 2R tan(pi/4 + lat/2) cos(dlon)``.

The numba kernels take a parameter vector ``prm = [code, lon0_rad, cos_phi_s, R_m, pole]``
(code 0 equirectangular, 1 polar stereographic; pole +1 north, -1 south).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from ..instrument.constants import MARS_RADII_KM

EQUIRECTANGULAR = "equirectangular"
POLAR_STEREOGRAPHIC = "polar_stereographic"
POLAR_LIMIT_DEG = 65.0
"""Above this |centre latitude| (deg) products use polar stereographic."""
PARALLEL_STEP_DEG = 5.0
"""The equirectangular standard parallel is a multiple of this (deg), truncated towards 0."""
PSA_CENTRAL_MERIDIAN_DEG = 180.0

MARS_A_M = MARS_RADII_KM[0] * 1000.0
MARS_C_M = MARS_RADII_KM[2] * 1000.0

_EQC = 0
_PST = 1


def local_radius_m(lat_deg: float | np.ndarray, a_m: float = MARS_A_M, c_m: float = MARS_C_M
                   ) -> np.ndarray | float:
    """Ellipsoid radius (m) at planetocentric latitude ``lat_deg``."""
    lat = np.radians(lat_deg)
    return a_m * c_m / np.sqrt((c_m * np.cos(lat)) ** 2 + (a_m * np.sin(lat)) ** 2)


def sphere_radius_m(lat_deg: float) -> float:
    """Projection sphere radius (m): the local radius at ``lat_deg`` rounded to 1 mm, as written
    in the PSA labels (``a_axis_radius`` 3393833.261 m at 20 deg; the label's pixel scale
    14808.391167037 px/deg at 4 m/px is computed from the rounded value)."""
    return round(float(local_radius_m(lat_deg)), 3)


@dataclass(frozen=True)
class Projection:
    """A sphere map projection. ``kind`` is ``"equirectangular"`` or ``"polar_stereographic"``
    (names as in :mod:`cassis_pipe.products.crs`); angles in degrees, radius in metres."""

    kind: str
    center_longitude_deg: float
    standard_parallel_deg: float
    pole_latitude_deg: float
    radius_m: float

    def __post_init__(self) -> None:
        if self.kind == EQUIRECTANGULAR:
            if not (-90.0 < self.standard_parallel_deg < 90.0) or self.pole_latitude_deg != 0.0:
                raise ValueError("equirectangular: |standard parallel| < 90, pole latitude 0")
        elif self.kind == POLAR_STEREOGRAPHIC:
            if self.pole_latitude_deg not in (90.0, -90.0):
                raise ValueError("polar stereographic: pole latitude must be +90 or -90")
        else:
            raise ValueError(f"unknown projection {self.kind!r}")
        if not (self.radius_m > 0.0 and math.isfinite(self.radius_m)):
            raise ValueError(f"sphere radius {self.radius_m!r} m must be positive")
        if not math.isfinite(self.center_longitude_deg):
            raise ValueError("central meridian must be finite")

    @property
    def params(self) -> np.ndarray:
        """Parameter vector for the numba kernels (see module docstring)."""
        if self.kind == EQUIRECTANGULAR:
            return np.array([_EQC, math.radians(self.center_longitude_deg),
                             math.cos(math.radians(self.standard_parallel_deg)), self.radius_m,
                             0.0])
        return np.array([_PST, math.radians(self.center_longitude_deg), 1.0, self.radius_m,
                         1.0 if self.pole_latitude_deg > 0 else -1.0])

    @property
    def x_period_m(self) -> float:
        """Map-x length of 360 deg of longitude (equirectangular), 0 for polar."""
        if self.kind != EQUIRECTANGULAR:
            return 0.0
        return 2.0 * math.pi * self.radius_m * math.cos(math.radians(self.standard_parallel_deg))

    def forward(self, lat_deg: np.ndarray, lon_deg: np.ndarray, x_ref_m: float = math.nan
                ) -> tuple[np.ndarray, np.ndarray]:
        """Planetocentric (lat, east lon) deg -> map (x, y) m. Equirectangular x is taken on the
        360-deg branch nearest ``x_ref_m`` (default: ``lon - lon_0`` wrapped to [-180, 180))."""
        lat, lon = np.broadcast_arrays(np.asarray(lat_deg, np.float64),
                                       np.asarray(lon_deg, np.float64))
        x, y = project_forward(np.ascontiguousarray(lat).ravel(),
                               np.ascontiguousarray(lon).ravel(), self.params, float(x_ref_m))
        return x.reshape(lat.shape), y.reshape(lat.shape)

    def inverse(self, x_m: np.ndarray, y_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Map (x, y) m -> planetocentric latitude, east longitude 0-360 (deg). NaN beyond the
        pole (equirectangular |y| > R pi/2)."""
        x, y = np.broadcast_arrays(np.asarray(x_m, np.float64), np.asarray(y_m, np.float64))
        lat, lon = project_inverse(np.ascontiguousarray(x).ravel(),
                                   np.ascontiguousarray(y).ravel(), self.params)
        return np.degrees(lat).reshape(x.shape), np.degrees(lon).reshape(x.shape)

    def to_dict(self) -> dict[str, float | str]:
        """JSON-ready parameters (keys as :class:`cassis_pipe.products.crs.MapProjection`)."""
        return {"kind": self.kind, "center_longitude_deg": self.center_longitude_deg,
                "standard_parallel_deg": self.standard_parallel_deg,
                "pole_latitude_deg": self.pole_latitude_deg, "scale_factor": 1.0,
                "radius_m": self.radius_m}

    @classmethod
    def from_dict(cls, d: dict) -> Projection:
        """Inverse of :meth:`to_dict` (``scale_factor`` must be 1)."""
        if float(d.get("scale_factor", 1.0)) != 1.0:
            raise ValueError("only scale factor 1 (true scale at the pole) is supported")
        return cls(str(d["kind"]), float(d["center_longitude_deg"]),
                   float(d.get("standard_parallel_deg", 0.0)),
                   float(d.get("pole_latitude_deg", 0.0)), float(d["radius_m"]))


def standard_parallel_for(center_lat_deg: float) -> float:
    """Equirectangular standard parallel (deg): centre latitude truncated towards zero to a
    multiple of 5 deg (PSA ``MY36_015782_024_0``: centre 22.57 -> 20)."""
    s = math.trunc(float(center_lat_deg) / PARALLEL_STEP_DEG) * PARALLEL_STEP_DEG
    return float(s) + 0.0  # no negative zero


def equirectangular(standard_parallel_deg: float,
                    center_longitude_deg: float = PSA_CENTRAL_MERIDIAN_DEG) -> Projection:
    """Equirectangular projection on the sphere of the local radius at the standard parallel."""
    return Projection(EQUIRECTANGULAR, float(center_longitude_deg), float(standard_parallel_deg),
                      0.0, sphere_radius_m(standard_parallel_deg))


def polar_stereographic(north: bool, center_longitude_deg: float = 0.0) -> Projection:
    """Polar stereographic projection, true scale at the pole, on the sphere of the local
    radius at that pole (the polar radius)."""
    pole = 90.0 if north else -90.0
    return Projection(POLAR_STEREOGRAPHIC, float(center_longitude_deg), 0.0, pole,
                      sphere_radius_m(pole))


def choose_projection(center_lat_deg: float, center_lon_deg: float = 0.0) -> Projection:
    """The PSA/HiRISE projection for a product centred at (lat, east lon) deg: polar
    stereographic above 65 deg |latitude|, else equirectangular with standard parallel
    :func:`standard_parallel_for` and central meridian 180 deg (the centre longitude does not
    enter: every equirectangular product shares the 180-deg meridian)."""
    lat = float(center_lat_deg)
    if not (-90.0 <= lat <= 90.0) or not math.isfinite(float(center_lon_deg)):
        raise ValueError(f"centre ({center_lat_deg}, {center_lon_deg}) deg out of range")
    if abs(lat) > POLAR_LIMIT_DEG:
        return polar_stereographic(lat > 0)
    return equirectangular(standard_parallel_for(lat))


# -- numba kernels ---------------------------------------------------------------------------
@njit(cache=True, inline="always")
def forward_point(lat: float, lon: float, prm: np.ndarray, x_ref: float) -> tuple[float, float]:
    """(lat, lon) radians -> (x, y) m for parameter vector ``prm``."""
    dlon = lon - prm[1]
    r = prm[3]
    if prm[0] == _EQC:
        dlon = dlon - 2.0 * np.pi * np.floor((dlon + np.pi) / (2.0 * np.pi))
        x = r * prm[2] * dlon
        if x_ref == x_ref:  # not NaN: choose the branch nearest x_ref
            period = 2.0 * np.pi * r * prm[2]
            x += period * np.floor((x_ref - x) / period + 0.5)
        return x, r * lat
    pole = prm[4]
    rho = 2.0 * r * np.tan(np.pi / 4.0 - pole * lat / 2.0)
    return rho * np.sin(dlon), -pole * rho * np.cos(dlon)


@njit(cache=True, inline="always")
def inverse_point(x: float, y: float, prm: np.ndarray) -> tuple[float, float]:
    """(x, y) m -> (lat, lon) radians, lon in [0, 2 pi); NaN if off the sphere."""
    r = prm[3]
    if prm[0] == _EQC:
        lat = y / r
        if abs(lat) > np.pi / 2.0:
            return np.nan, np.nan
        lon = prm[1] + x / (r * prm[2])
    else:
        pole = prm[4]
        rho = np.sqrt(x * x + y * y)
        lat = pole * (np.pi / 2.0 - 2.0 * np.arctan(rho / (2.0 * r)))
        lon = prm[1] + np.arctan2(x, -pole * y)
    lon = lon - 2.0 * np.pi * np.floor(lon / (2.0 * np.pi))
    if lon >= 2.0 * np.pi:
        lon = 0.0
    return lat, lon


@njit(cache=True, parallel=True)
def _forward_par(lat_deg: np.ndarray, lon_deg: np.ndarray, prm: np.ndarray, x_ref: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    n = lat_deg.size
    x = np.empty(n)
    y = np.empty(n)
    for k in prange(n):
        x[k], y[k] = forward_point(np.radians(lat_deg[k]), np.radians(lon_deg[k]), prm, x_ref)
    return x, y


@njit(cache=True)
def _forward_seq(lat_deg: np.ndarray, lon_deg: np.ndarray, prm: np.ndarray, x_ref: float
                 ) -> tuple[np.ndarray, np.ndarray]:
    n = lat_deg.size
    x = np.empty(n)
    y = np.empty(n)
    for k in range(n):
        x[k], y[k] = forward_point(np.radians(lat_deg[k]), np.radians(lon_deg[k]), prm, x_ref)
    return x, y


@njit(cache=True, parallel=True)
def _inverse_par(x: np.ndarray, y: np.ndarray, prm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = x.size
    lat = np.empty(n)
    lon = np.empty(n)
    for k in prange(n):
        lat[k], lon[k] = inverse_point(x[k], y[k], prm)
    return lat, lon


@njit(cache=True)
def _inverse_seq(x: np.ndarray, y: np.ndarray, prm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = x.size
    lat = np.empty(n)
    lon = np.empty(n)
    for k in range(n):
        lat[k], lon[k] = inverse_point(x[k], y[k], prm)
    return lat, lon


_PARALLEL_MIN = 8192
"""Arrays smaller than this are projected on one thread (thread start-up costs more)."""


def project_forward(lat_deg: np.ndarray, lon_deg: np.ndarray, prm: np.ndarray, x_ref: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised forward projection of 1-D float64 arrays: degrees in, metres out."""
    f = _forward_par if lat_deg.size >= _PARALLEL_MIN else _forward_seq
    return f(lat_deg, lon_deg, prm, x_ref)


def project_inverse(x: np.ndarray, y: np.ndarray, prm: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised inverse projection of 1-D float64 arrays: metres in, radians out (lon in
    [0, 2 pi))."""
    f = _inverse_par if x.size >= _PARALLEL_MIN else _inverse_seq
    return f(x, y, prm)
