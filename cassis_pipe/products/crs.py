"""Mars map projections and their coordinate reference systems (IAU 2015 codes, WKT2).

CaSSIS map products use two projections on a Mars sphere:

* equirectangular (EPSG method 1028 "Equidistant Cylindrical"): standard parallel (latitude of
  true scale) and central meridian, degrees, planetocentric latitude, east-positive longitude;
* polar stereographic (EPSG method 9810, "variant A"): pole (+90 or -90), central meridian and
  scale factor at the pole.

On the IAU 2015 Mars sphere (radius 3 396 190 m) the projections that have a registered
``IAU_2015`` code (PROJ >= 8.2 knows these) are used by code: 49910 (equirectangular, clon 0),
49915 (clon 180), 49930 (north polar), 49935 (south polar), all with zero standard parallel /
unit scale and no false easting/northing. Any other parameters give a custom projected CRS whose
WKT2 keeps the IAU 2015 geographic base CRS id (``ID["IAU",49900,2015]``); a custom sphere
radius (e.g. a local radius) gives a sphere without any id. All lengths are metres, angles degrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rasterio is imported where a CRS object is built (process start-up cost)
    from rasterio.crs import CRS

from cassis_pipe.products.errors import ProductError

#: IAU 2015 mean radius of the Mars sphere (IAU_2015:49900), metres.
MARS_RADIUS_M = 3396190.0
#: IAU 2015 Mars ellipsoid polar radius, metres (for reference; our products use spheres).
MARS_POLAR_RADIUS_M = 3376200.0
#: Geographic (planetocentric, sphere) IAU 2015 code for Mars.
IAU_MARS_SPHERE_GEOGRAPHIC = 49900

EQUIRECTANGULAR = "equirectangular"
POLAR_STEREOGRAPHIC = "polar_stereographic"

_DEG = "ANGLEUNIT[\"degree\",0.0174532925199433]"
_M = "LENGTHUNIT[\"metre\",1]"


def _num(x: float) -> str:
    """Shortest exact decimal of a float (``0`` and ``180`` stay integral)."""
    f = float(x)
    return str(int(f)) if f.is_integer() and abs(f) < 1e15 else repr(f)


@dataclass(frozen=True, slots=True)
class MapProjection:
    """A Mars map projection on a sphere.

    ``center_longitude_deg`` is the central meridian (degrees east, -180..360);
    ``standard_parallel_deg`` the latitude of true scale of the equirectangular projection
    (degrees, |lat| < 90); ``pole_latitude_deg`` is +90 or -90 for polar stereographic (0 for
    equirectangular); ``scale_factor`` is the polar stereographic scale at the pole;
    ``radius_m`` the sphere radius in metres.
    """

    kind: str = EQUIRECTANGULAR
    center_longitude_deg: float = 0.0
    standard_parallel_deg: float = 0.0
    pole_latitude_deg: float = 0.0
    scale_factor: float = 1.0
    radius_m: float = MARS_RADIUS_M

    def __post_init__(self) -> None:
        if self.kind not in (EQUIRECTANGULAR, POLAR_STEREOGRAPHIC):
            raise ProductError(f"unknown map projection {self.kind!r}")
        values = (
            self.center_longitude_deg,
            self.standard_parallel_deg,
            self.pole_latitude_deg,
            self.scale_factor,
            self.radius_m,
        )
        if not all(math.isfinite(v) for v in values):
            raise ProductError("map projection parameters must be finite")
        if not -180.0 <= self.center_longitude_deg <= 360.0:
            raise ProductError(f"central meridian {self.center_longitude_deg} deg out of range")
        if self.radius_m <= 0.0:
            raise ProductError(f"sphere radius must be positive, got {self.radius_m} m")
        if self.kind == EQUIRECTANGULAR:
            if not -90.0 < self.standard_parallel_deg < 90.0:
                raise ProductError(
                    f"standard parallel {self.standard_parallel_deg} deg not in (-90, 90)"
                )
            if self.pole_latitude_deg != 0.0:
                raise ProductError("equirectangular projection has pole_latitude_deg 0")
        else:
            if self.pole_latitude_deg not in (90.0, -90.0):
                raise ProductError("polar stereographic needs pole_latitude_deg +90 or -90")
            if self.scale_factor <= 0.0:
                raise ProductError(f"scale factor must be positive, got {self.scale_factor}")

    @property
    def pds4_name(self) -> str:
        """``cart:map_projection_name`` of this projection."""
        return "Equirectangular" if self.kind == EQUIRECTANGULAR else "Polar Stereographic"

    def metres_per_degree(self) -> float:
        """Arc length of one degree on the sphere (metres per degree of latitude)."""
        return 2.0 * math.pi * self.radius_m / 360.0


def equirectangular(
    center_longitude_deg: float = 0.0,
    standard_parallel_deg: float = 0.0,
    radius_m: float = MARS_RADIUS_M,
) -> MapProjection:
    """Equirectangular projection (degrees, metres)."""
    return MapProjection(EQUIRECTANGULAR, center_longitude_deg, standard_parallel_deg, 0.0, 1.0,
                         radius_m)


def polar_stereographic(
    north: bool,
    center_longitude_deg: float = 0.0,
    scale_factor: float = 1.0,
    radius_m: float = MARS_RADIUS_M,
) -> MapProjection:
    """Polar stereographic projection centred on the north (``north=True``) or south pole."""
    return MapProjection(POLAR_STEREOGRAPHIC, center_longitude_deg, 0.0,
                         90.0 if north else -90.0, scale_factor, radius_m)


def iau_code(p: MapProjection) -> int | None:
    """The ``IAU_2015`` code of ``p`` if it is one of the registered Mars sphere projections."""
    if p.radius_m != MARS_RADIUS_M:
        return None
    if p.kind == EQUIRECTANGULAR and p.standard_parallel_deg == 0.0:
        return {0.0: 49910, 180.0: 49915}.get(float(p.center_longitude_deg))
    if p.kind == POLAR_STEREOGRAPHIC and p.center_longitude_deg == 0.0 and p.scale_factor == 1.0:
        return 49930 if p.pole_latitude_deg > 0 else 49935
    return None


def _base_geographic(p: MapProjection) -> str:
    if p.radius_m == MARS_RADIUS_M:
        sphere = "Mars (2015) - Sphere"
        ident = f",ID[\"IAU\",{IAU_MARS_SPHERE_GEOGRAPHIC},2015]"
        anchor = ",ANCHOR[\"Viking 1 lander: 47.95137 W\"]"
    else:
        sphere = f"Mars - Sphere, radius {_num(p.radius_m)} m"
        ident = ""
        anchor = ""
    return (
        f"BASEGEOGCRS[\"{sphere} / Ocentric\","
        f"DATUM[\"{sphere}\",ELLIPSOID[\"{sphere}\",{_num(p.radius_m)},0,{_M}]{anchor}],"
        f"PRIMEM[\"Reference Meridian\",0,{_DEG}]{ident}]"
    )


def _param(name: str, epsg: int, value: float, unit: str) -> str:
    return f"PARAMETER[\"{name}\",{_num(value)},{unit},ID[\"EPSG\",{epsg}]]"


def crs_wkt2(p: MapProjection) -> str:
    """WKT2 (2019) of the projected CRS of ``p``, with IAU 2015 ids where they apply."""
    if p.kind == EQUIRECTANGULAR:
        name = (f"Equirectangular, clat = {_num(p.standard_parallel_deg)}, "
                f"clon = {_num(p.center_longitude_deg)}")
        conv = (
            f"CONVERSION[\"{name}\",METHOD[\"Equidistant Cylindrical\",ID[\"EPSG\",1028]],"
            + _param("Latitude of 1st standard parallel", 8823, p.standard_parallel_deg, _DEG)
            + ","
            + _param("Longitude of natural origin", 8802, p.center_longitude_deg, _DEG)
        )
    else:
        name = ("North" if p.pole_latitude_deg > 0 else "South") + (
            f" Polar Stereographic, clon = {_num(p.center_longitude_deg)}, "
            f"k = {_num(p.scale_factor)}"
        )
        conv = (
            f"CONVERSION[\"{name}\",METHOD[\"Polar Stereographic (variant A)\",ID[\"EPSG\",9810]],"
            + _param("Latitude of natural origin", 8801, p.pole_latitude_deg, _DEG)
            + ","
            + _param("Longitude of natural origin", 8802, p.center_longitude_deg, _DEG)
            + ","
            + _param("Scale factor at natural origin", 8805, p.scale_factor,
                     "SCALEUNIT[\"unity\",1]")
        )
    conv += (
        ","
        + _param("False easting", 8806, 0.0, _M)
        + ","
        + _param("False northing", 8807, 0.0, _M)
        + "]"
    )
    code = iau_code(p)
    ident = f",ID[\"IAU\",{code},2015]" if code is not None else ""
    sphere = "Mars (2015) - Sphere" if p.radius_m == MARS_RADIUS_M else "Mars - Sphere"
    return (
        f"PROJCRS[\"{sphere} / Ocentric / {name}\",{_base_geographic(p)},{conv},"
        f"CS[Cartesian,2],AXIS[\"(E)\",east,ORDER[1],{_M}],AXIS[\"(N)\",north,ORDER[2],{_M}]"
        f"{ident}]"
    )


def rasterio_crs(p: MapProjection) -> CRS:
    """rasterio CRS of ``p``: by ``IAU_2015`` code when registered, else from :func:`crs_wkt2`."""
    from rasterio.crs import CRS

    code = iau_code(p)
    if code is not None:
        try:
            return CRS.from_user_input(f"IAU_2015:{code}")
        except Exception:  # noqa: BLE001 - an old PROJ without the IAU authority
            pass
    return CRS.from_wkt(crs_wkt2(p))


def _proj_params(crs: CRS) -> dict:
    """PROJ parameters with polar stereographic k = 1 written as lat_ts = pole (same map)."""
    d = dict(crs.to_dict())
    if d.get("proj") == "stere" and abs(d.get("lat_0", 0)) == 90:
        if d.get("k", 1) == 1 and "lat_ts" not in d:
            d.pop("k", None)
            d["lat_ts"] = d["lat_0"]
    return d


def same_crs(a: CRS, b: CRS) -> bool:
    """True if two CRSs define the same projection on the same sphere.

    Needed after a GeoTIFF round trip: GeoTIFF keys drop the IAU ids and GDAL may rewrite a
    polar stereographic "variant A" with scale 1 as the equivalent "variant B" (lat_ts = pole).
    """
    if a == b:
        return True
    pa, pb = _proj_params(a), _proj_params(b)
    return bool(pa) and pa == pb
