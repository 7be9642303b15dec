"""Target regions on the sphere: equal-area sampling of a lat/lon polygon and the fraction of
its area covered by a map's valid pixels. Pure numpy, no I/O.

A region is a ring of (east longitude, planetocentric latitude) vertices in degrees. Each edge
runs linearly in latitude and in longitude the SHORT way round (so an edge from 359.9 deg to
0.1 deg spans 0.2 deg across the 0/360 meridian, and a ring of vertices at one latitude
encircling a pole follows that parallel and encloses the pole). Edges are densified, then the
ring is projected with a Lambert azimuthal equal-area projection centred on the region: a
regular lattice in that plane samples the sphere with equal area per point, at any longitude
and up to the poles. Regions must fit well inside a hemisphere around their centre.
"""

from __future__ import annotations

import numpy as np

_DENSIFY = 64  # points per edge


def _unit(lat_deg: np.ndarray, lon_deg: np.ndarray) -> np.ndarray:
    la, lo = np.radians(lat_deg), np.radians(lon_deg)
    return np.stack([np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)], axis=-1)


def _latlon(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat = np.degrees(np.arcsin(np.clip(u[..., 2], -1.0, 1.0)))
    lon = np.degrees(np.arctan2(u[..., 1], u[..., 0])) % 360.0
    return lat, lon


def check_ring(ring: np.ndarray) -> np.ndarray:
    """Validated (n, 2) lon/lat array (closing vertex dropped); ValueError when unusable."""
    r = np.asarray(ring, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] != 2 or not np.isfinite(r).all():
        raise ValueError("a region is a list of [lon, lat] pairs of finite numbers")
    if len(r) > 1 and np.allclose(r[0], r[-1]):
        r = r[:-1]
    if len(r) < 3:
        raise ValueError(f"a region needs at least 3 distinct vertices, got {len(r)}")
    if (np.abs(r[:, 1]) > 90.0).any():
        raise ValueError("latitudes must be within [-90, 90] deg")
    return r


def densify(ring: np.ndarray, n: int = _DENSIFY) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) deg of the ring with ``n`` points per edge (short-way longitudes)."""
    r = check_ring(ring)
    lon0, lat0 = r[:, 0], r[:, 1]
    lon1, lat1 = np.roll(lon0, -1), np.roll(lat0, -1)
    dlon = (lon1 - lon0 + 180.0) % 360.0 - 180.0
    t = np.arange(n) / n
    lat = (lat0[:, None] + t[None, :] * (lat1 - lat0)[:, None]).ravel()
    lon = ((lon0[:, None] + t[None, :] * dlon[:, None]) % 360.0).ravel()
    return lat, lon


class _Laea:
    """Lambert azimuthal equal-area projection of the unit sphere about ``centre``."""

    def __init__(self, centre: np.ndarray) -> None:
        self.c = centre / np.linalg.norm(centre)
        ref = np.array([0.0, 0.0, 1.0]) if abs(self.c[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        self.e = np.cross(ref, self.c)
        self.e /= np.linalg.norm(self.e)
        self.n = np.cross(self.c, self.e)

    def forward(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = np.sqrt(2.0 / (1.0 + u @ self.c))
        return k * (u @ self.e), k * (u @ self.n)

    def inverse(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        rho2 = x * x + y * y
        cos_d = 1.0 - rho2 / 2.0
        s = np.sqrt(np.clip(1.0 - rho2 / 4.0, 0.0, None))  # sin(d) / rho
        return (cos_d[..., None] * self.c + s[..., None] * (x[..., None] * self.e
                                                            + y[..., None] * self.n))


def _inside(px: np.ndarray, py: np.ndarray, vx: np.ndarray, vy: np.ndarray) -> np.ndarray:
    """Even-odd point-in-polygon of points (px, py) in the ring (vx, vy)."""
    inside = np.zeros(px.shape, dtype=bool)
    x2, y2 = np.roll(vx, -1), np.roll(vy, -1)
    for x1, y1, xb, yb in zip(vx, vy, x2, y2, strict=True):
        cross = (y1 > py) != (yb > py)
        if not cross.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            xi = x1 + (py - y1) * (xb - x1) / (yb - y1)
        inside ^= cross & (px < xi)
    return inside


def sample_region(ring: np.ndarray, n_samples: int = 40000) -> tuple[np.ndarray, np.ndarray]:
    """(lat, lon) deg of about ``n_samples`` equal-area sample points inside the region."""
    lat, lon = densify(ring)
    u = _unit(lat, lon)
    m = u.mean(axis=0)
    if np.linalg.norm(m) < 0.5:
        raise ValueError("region too large (it must fit well inside a hemisphere)")
    proj = _Laea(m)
    vx, vy = proj.forward(u)
    x0, x1, y0, y1 = vx.min(), vx.max(), vy.min(), vy.max()
    area = _ring_area(vx, vy)
    if not area > 0:
        raise ValueError("region has no area")
    step = np.sqrt(area / n_samples)
    xs = np.arange(x0 + step / 2, x1, step)
    ys = np.arange(y0 + step / 2, y1, step)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    keep = _inside(gx, gy, vx, vy)
    return _latlon(proj.inverse(gx[keep], gy[keep]))


def _ring_area(x: np.ndarray, y: np.ndarray) -> float:
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2.0


def region_area_km2(ring: np.ndarray, radius_km: float = 3389.5) -> float:
    """Area of the region on a sphere of ``radius_km`` (equal-area plane area x R^2)."""
    lat, lon = densify(ring)
    u = _unit(lat, lon)
    vx, vy = _Laea(u.mean(axis=0)).forward(u)
    return _ring_area(vx, vy) * radius_km ** 2


def covered_fraction(lat: np.ndarray, lon: np.ndarray, valid: np.ndarray,
                     to_index) -> float:  # noqa: ANN001 - (lat, lon) -> (line, sample)
    """Fraction of the sample points that fall on valid pixels; ``to_index`` maps lat/lon deg
    to fractional (line, sample) with pixel centres on integers (``MapGrid.latlon_to_index``)."""
    if lat.size == 0:
        return 0.0
    li, si = to_index(lat, lon)
    li = np.rint(np.asarray(li, dtype=np.float64))
    si = np.rint(np.asarray(si, dtype=np.float64))
    ok = np.isfinite(li) & np.isfinite(si)
    ok &= (li >= 0) & (li < valid.shape[0]) & (si >= 0) & (si < valid.shape[1])
    hit = np.zeros(lat.shape, dtype=bool)
    hit[ok] = valid[li[ok].astype(np.int64), si[ok].astype(np.int64)]
    return float(hit.mean())
