"""The PDS4 Geometry dictionary (``geom`` 1N00_1980) block of a map label, laid out like the
flown PSA derived label: SPICE_Kernel_Files, then one Geometry_Orbiter with the reference time,
Distances_Specific, Surface_Geometry_Specific (map-centre intercept, footprint vertices,
sub-solar and sub-spacecraft points) and Illumination_Specific at the centre pixel.
"""

from __future__ import annotations

from lxml import etree

from cassis_pipe.products.geometry_block import GeometryBlock
from cassis_pipe.products.metadata import utc_z

GEOM = "http://pds.nasa.gov/pds4/geom/v1"
GEOM_FILES = ("PDS4_GEOM_1N00_1980.xsd", "PDS4_GEOM_1N00_1980.sch")


def _sub(parent: etree._Element, tag: str, text: object = None,
         unit: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{GEOM}}}{tag}")
    if text is not None:
        el.text = text if isinstance(text, str) else f"{float(text):.12g}"  # type: ignore[arg-type]
    if unit is not None:
        el.set("unit", unit)
    return el


def _intercept(parent: etree._Element, where: str, lat: float, lon: float) -> None:
    pi = _sub(parent, "Pixel_Intercept")
    _sub(pi, "reference_pixel_location", where)
    _sub(pi, "pixel_latitude", lat, "deg")
    _sub(pi, "pixel_longitude", lon, "deg")


def add_geometry(discipline_area: etree._Element, g: GeometryBlock) -> None:
    """Append ``geom:Geometry`` for ``g`` to a label's Discipline_Area."""
    geo = _sub(discipline_area, "Geometry")
    if g.kernels:
        skf = _sub(geo, "SPICE_Kernel_Files")
        for name in g.kernels:
            _sub(_sub(skf, "SPICE_Kernel_Identification"), "spice_kernel_file_name", name)
    orb = _sub(geo, "Geometry_Orbiter")
    _sub(orb, "geometry_reference_time_utc", utc_z(g.reference_time_utc))
    ds = _sub(_sub(orb, "Distances"), "Distances_Specific")
    _sub(ds, "spacecraft_central_body_distance", g.spacecraft_target_center_km, "km")
    if g.spacecraft_boresight_intercept_km is not None:
        _sub(ds, "spacecraft_target_boresight_intercept_distance",
             g.spacecraft_boresight_intercept_km, "km")
    _sub(ds, "spacecraft_target_subspacecraft_distance", g.spacecraft_subspacecraft_km, "km")
    _sub(ds, "target_heliocentric_distance", g.target_heliocentric_au, "AU")
    sg = _sub(_sub(orb, "Surface_Geometry"), "Surface_Geometry_Specific")
    _intercept(sg, "Center", g.centre_lat_deg, g.centre_lon_deg)
    if g.footprint:
        fv = _sub(sg, "Footprint_Vertices")
        for where, lat, lon in g.footprint:
            _intercept(fv, where, lat, lon)
    _sub(sg, "subsolar_latitude", g.subsolar_lat_deg, "deg")
    _sub(sg, "subsolar_longitude", g.subsolar_lon_deg, "deg")
    _sub(sg, "subspacecraft_latitude", g.subspacecraft_lat_deg, "deg")
    _sub(sg, "subspacecraft_longitude", g.subspacecraft_lon_deg, "deg")
    il = _sub(_sub(orb, "Illumination_Geometry"), "Illumination_Specific")
    _sub(il, "reference_pixel_location", "Center")
    _sub(il, "incidence_angle", g.incidence_deg, "deg")
    _sub(il, "emission_angle", g.emission_deg, "deg")
    _sub(il, "phase_angle", g.phase_deg, "deg")
