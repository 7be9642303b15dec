"""GEOMETRIC_DATA block of a Bern header (SPICE-derived geometry at the exposure time)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from cassis_pipe.labels.values import number_or_list
from cassis_pipe.labels.xmlsafe import local, text


@dataclass(frozen=True, slots=True)
class GeometricData:
    """Typed view of GEOMETRIC_DATA; ``values``/``units`` keep every element verbatim.

    Corner order is the header's: four (lon, lat) pairs in degrees. Longitudes (corners,
    sub-spacecraft, sub-CaSSIS) are WEST-positive, latitudes planetocentric (checked against
    SPICE on the 2016-11-26 framelets: tests/test_geometry_spice_real.py).
    """

    target: str | None = None
    corner_lon_deg: tuple[float, ...] | None = None
    corner_lat_deg: tuple[float, ...] | None = None
    sub_cassis_lon_deg: float | None = None
    sub_cassis_lat_deg: float | None = None
    sub_spacecraft_lon_deg: float | None = None
    sub_spacecraft_lat_deg: float | None = None
    incidence_angle_deg: float | None = None
    emission_angle_deg: float | None = None
    phase_angle_deg: float | None = None
    heliocentric_distance_au: float | None = None
    geocentric_distance_au: float | None = None
    marscentric_distance_km: float | None = None
    line_of_sight_distance_km: float | None = None
    pixel_scale_surface_m: float | None = None
    pixel_scale_image_plane_m: float | None = None
    ground_track_vector_km_s: tuple[float, ...] | None = None
    local_solar_time: str | None = None
    values: dict[str, float | tuple[float, ...] | str | None] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)


def _f(v: object) -> float | None:
    return float(v) if isinstance(v, float) else None


def _t(v: object) -> tuple[float, ...] | None:
    return v if isinstance(v, tuple) else None


def parse_geometric(elem: ET.Element | None) -> GeometricData:
    """Read GEOMETRIC_DATA; absent block or elements give None fields."""
    if elem is None:
        return GeometricData()
    values: dict[str, float | tuple[float, ...] | str | None] = {}
    units: dict[str, str] = {}
    for c in elem:
        name = local(c.tag)
        if not name:
            continue
        raw = text(c)
        values[name] = (
            raw if name in ("TARGET", "Kernels_Used", "LOCAL_SOLAR_TIME") else (number_or_list(raw))
        )
        if "Unit" in c.attrib:
            units[name] = c.attrib["Unit"]
    g = values.get
    tgt = g("TARGET")
    lst = g("LOCAL_SOLAR_TIME")
    return GeometricData(
        target=tgt if isinstance(tgt, str) else None,
        corner_lon_deg=_t(g("LONGITUDE_IMAGE_CORNERS")),
        corner_lat_deg=_t(g("LATITUDE_IMAGE_CORNERS")),
        sub_cassis_lon_deg=_f(g("SUB_CASSIS_LONGITUDE")),
        sub_cassis_lat_deg=_f(g("SUB_CASSIS_LATITUDE")),
        sub_spacecraft_lon_deg=_f(g("SUB_SPACECRAFT_LONGITUDE")),
        sub_spacecraft_lat_deg=_f(g("SUB_SPACECRAFT_LATITUDE")),
        incidence_angle_deg=_f(g("INCIDENCE_ANGLE_FILTER")),
        emission_angle_deg=_f(g("EMISSION_ANGLE_FILTER")),
        phase_angle_deg=_f(g("PHASE_ANGLE_FILTER")),
        heliocentric_distance_au=_f(g("HELIOCENTRIC_DISTANCE")),
        geocentric_distance_au=_f(g("GEOCENTRIC_DISTANCE")),
        marscentric_distance_km=_f(g("MARSCENTRIC_DISTANCE")),
        line_of_sight_distance_km=_f(g("LINE_OF_SIGHT_DISTANCE")),
        pixel_scale_surface_m=_f(g("PIXEL_SCALE_SURFACE")),
        pixel_scale_image_plane_m=_f(g("PIXEL_SCALE_IMAGE_PLANE")),
        ground_track_vector_km_s=_t(g("CASSIS_GROUND_TRACK_VECTOR")),
        local_solar_time=lst if isinstance(lst, str) else None,
        values=values,
        units=units,
    )
