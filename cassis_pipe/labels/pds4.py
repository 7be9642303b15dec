"""Reader for real PDS4 labels of CaSSIS products (PSA derived, ISIS tgocassisrdrgen exports).

Elements are matched by local name, so the older (1B00, ISIS 3.8) and newer (1F00, PSA 2021)
namespaces both work. Only what the pipeline needs is typed; missing parts are None.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cassis_pipe.labels.arrays import ArrayGeometry, find_array, parse_array
from cassis_pipe.labels.values import parse_utc
from cassis_pipe.labels.xmlsafe import (
    LabelError,
    child,
    find,
    find_all,
    load_xml,
    local,
    read_xml,
    text,
    to_float,
    to_int,
)


@dataclass(frozen=True, slots=True)
class Cartography:
    """``cart:Cartography`` of a map-projected product (degrees, metres; east-positive)."""

    projection_name: str | None
    pixel_resolution_x_m: float | None
    pixel_resolution_y_m: float | None
    pixel_scale_x_px_per_deg: float | None
    pixel_scale_y_px_per_deg: float | None
    west_lon_deg: float | None
    east_lon_deg: float | None
    north_lat_deg: float | None
    south_lat_deg: float | None
    center_lon_deg: float | None
    standard_parallel_1_deg: float | None
    projection_origin_lat_deg: float | None
    upper_left_x_m: float | None
    upper_left_y_m: float | None
    a_axis_radius_m: float | None
    b_axis_radius_m: float | None
    c_axis_radius_m: float | None
    latitude_type: str | None
    longitude_direction: str | None


@dataclass(frozen=True, slots=True)
class Pds4Label:
    """Identification, timing, filter, cartography and array layout of a PDS4 product label."""

    source: str
    logical_identifier: str | None
    version_id: str | None
    title: str | None
    information_model_version: str | None
    alternate_id: str | None
    start_time: datetime | None
    stop_time: datetime | None
    filter: str | None
    center_wavelength_nm: float | None
    bandwidth_nm: float | None
    exposure_duration_s: float | None
    mission_phase: str | None
    orbit_number: int | None
    observation_uid: int | None
    file_name: str | None
    array: ArrayGeometry | None
    cartography: Cartography | None
    references: tuple[str, ...] = field(default_factory=tuple)
    modification_dates: tuple[str, ...] = field(default_factory=tuple)


def _fv(elem: ET.Element | None, name: str) -> float | None:
    return to_float(text(find(elem, name)))


def _first_float(elem: ET.Element | None, *names: str) -> float | None:
    for n in names:
        v = _fv(elem, n)
        if v is not None:
            return v
    return None


def parse_cartography(elem: ET.Element | None) -> Cartography | None:
    """Read a ``Cartography`` element; None when absent. Old and new radius names both work."""
    if elem is None:
        return None
    return Cartography(
        projection_name=text(find(elem, "map_projection_name")),
        pixel_resolution_x_m=_fv(elem, "pixel_resolution_x"),
        pixel_resolution_y_m=_fv(elem, "pixel_resolution_y"),
        pixel_scale_x_px_per_deg=_fv(elem, "pixel_scale_x"),
        pixel_scale_y_px_per_deg=_fv(elem, "pixel_scale_y"),
        west_lon_deg=_fv(elem, "west_bounding_coordinate"),
        east_lon_deg=_fv(elem, "east_bounding_coordinate"),
        north_lat_deg=_fv(elem, "north_bounding_coordinate"),
        south_lat_deg=_fv(elem, "south_bounding_coordinate"),
        center_lon_deg=_fv(elem, "longitude_of_central_meridian"),
        standard_parallel_1_deg=_fv(elem, "standard_parallel_1"),
        projection_origin_lat_deg=_fv(elem, "latitude_of_projection_origin"),
        upper_left_x_m=_fv(elem, "upperleft_corner_x"),
        upper_left_y_m=_fv(elem, "upperleft_corner_y"),
        a_axis_radius_m=_first_float(elem, "a_axis_radius", "semi_major_radius"),
        b_axis_radius_m=_first_float(elem, "b_axis_radius", "semi_minor_radius"),
        c_axis_radius_m=_first_float(elem, "c_axis_radius", "polar_radius"),
        latitude_type=text(find(elem, "latitude_type")),
        longitude_direction=text(find(elem, "longitude_direction")),
    )


def parse_pds4_root(root: ET.Element, source: str) -> Pds4Label:
    """Build a :class:`Pds4Label` from a parsed PDS4 product root."""
    if not local(root.tag).startswith("Product_"):
        raise LabelError(source, f"not a PDS4 product label (root {local(root.tag)!r})")
    ident = child(root, "Identification_Area")
    if ident is None:
        raise LabelError(source, "PDS4 label without Identification_Area")
    obs = child(root, "Observation_Area")
    tc = child(obs, "Time_Coordinates")
    filt = find(obs, "Optical_Filter")
    if filt is None:
        filt = find(obs, "Filter")
    fa = child(root, "File_Area_Observational")
    arr = find_array(fa)
    return Pds4Label(
        source=source,
        logical_identifier=text(child(ident, "logical_identifier")),
        version_id=text(child(ident, "version_id")),
        title=text(child(ident, "title")),
        information_model_version=text(child(ident, "information_model_version")),
        alternate_id=text(find(ident, "alternate_id")),
        start_time=parse_utc(text(child(tc, "start_date_time"))),
        stop_time=parse_utc(text(child(tc, "stop_date_time"))),
        filter=text(find(filt, "filter_name")),
        center_wavelength_nm=_fv(filt, "center_filter_wavelength"),
        bandwidth_nm=_fv(filt, "bandwidth"),
        exposure_duration_s=_fv(obs, "exposure_duration"),
        mission_phase=text(find(obs, "mission_phase_name")),
        orbit_number=to_int(text(find(obs, "start_orbit_number"))),
        observation_uid=to_int(text(find(obs, "observation_identifier"))),
        file_name=text(child(fa, "File", "file_name")),
        array=parse_array(arr) if arr is not None else None,
        cartography=parse_cartography(find(obs, "Cartography")),
        references=tuple(
            t for e in find_all(child(root, "Reference_List"), "lid_reference") if (t := text(e))
        ),
        modification_dates=tuple(t for e in find_all(ident, "modification_date") if (t := text(e))),
    )


def read_pds4_label(path: str | Path) -> Pds4Label:
    """Read a PDS4 product label file; raises :class:`LabelError` naming the file on failure."""
    p = Path(path)
    return parse_pds4_root(read_xml(p), p.name)


def parse_pds4_label(data: bytes, source: str = "<bytes>") -> Pds4Label:
    """Parse PDS4 label bytes (see :func:`read_pds4_label`)."""
    return parse_pds4_root(load_xml(data, source), source)
