"""PDS4 (information model 1.23.0.0, "1N00") labels for CaSSIS image products, built with lxml.

One ``Product_Observational`` per 2-D image: Identification_Area, Observation_Area (times,
ExoMars 2016 / TGO / CaSSIS / Mars references, display + imaging + optional cartography and
processing discipline classes) and one File_Area_Observational with an ``Array_2D_Image`` of
``Line`` x ``Sample`` (line-major, samples fastest, offset 0). Every user string goes through
lxml as element text, never into markup. Labels are deterministic: the same inputs give the
same bytes.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from lxml import etree

from cassis_pipe.labels.dat import read_dat
from cassis_pipe.labels.pds4 import read_pds4_label
from cassis_pipe.labels.xmlsafe import LabelError
from cassis_pipe.products.crs import EQUIRECTANGULAR, MapProjection
from cassis_pipe.products.dat_writer import dat_dtype, write_dat
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.geometry_block import ltst_text
from cassis_pipe.products.metadata import (
    FILTER_WAVELENGTHS_NM,
    PROCESSING_LEVELS,
    MapInfo,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
    utc_z,
)
from cassis_pipe.products.pds4_geometry import GEOM, GEOM_FILES, add_geometry

PDS = "http://pds.nasa.gov/pds4/pds/v1"
IMG = "http://pds.nasa.gov/pds4/img/v1"
DISP = "http://pds.nasa.gov/pds4/disp/v1"
CART = "http://pds.nasa.gov/pds4/cart/v1"
PROC = "http://pds.nasa.gov/pds4/proc/v1"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

INFORMATION_MODEL_VERSION = "1.23.0.0"

#: namespace -> (schema file name, schematron file name); the files are in ``schemas/``.
SCHEMA_FILES: dict[str, tuple[str, str]] = {
    PDS: ("PDS4_PDS_1N00.xsd", "PDS4_PDS_1N00.sch"),
    DISP: ("PDS4_DISP_1N00_1510.xsd", "PDS4_DISP_1N00_1510.sch"),
    IMG: ("PDS4_IMG_1N00_1920.xsd", "PDS4_IMG_1N00_1920.sch"),
    CART: ("PDS4_CART_1N00_1970.xsd", "PDS4_CART_1N00_1970.sch"),
    PROC: ("PDS4_PROC_1N00_1300.xsd", "PDS4_PROC_1N00_1300.sch"),
    GEOM: GEOM_FILES,
}
_PREFIX = {PDS: None, DISP: "disp", IMG: "img", CART: "cart", PROC: "proc", GEOM: "geom",
           XSI: "xsi"}

#: numpy dtype name -> PDS4 ``data_type``.
PDS4_DATA_TYPES = {"uint16": "UnsignedLSB2", "float32": "IEEE754LSBSingle"}

ARRAY_ID = "image"

_INVESTIGATION_LID = "urn:esa:psa:context:investigation:mission.em16"
_HOST_LID = "urn:esa:psa:context:instrument_host:spacecraft.tgo"
_INSTRUMENT_LID = "urn:esa:psa:context:instrument:tgo.cassis"
_MARS_LID = "urn:nasa:pds:context:target:planet.mars"


def _schema_url(ns: str, file_name: str) -> str:
    """Canonical (https) location of a PDS schema file; only written, never fetched."""
    return "https://" + ns.removeprefix("http://") + "/" + file_name


def _sub(parent: etree._Element, ns: str, tag: str, text: object = None,
         unit: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{ns}}}{tag}")
    if text is not None:
        try:
            el.text = text if isinstance(text, str) else _fmt(text)
        except ValueError as exc:  # lxml refuses strings XML cannot carry
            raise ProductError(f"{tag}: {exc}") from exc
    if unit is not None:
        el.set("unit", unit)
    return el


def _fmt(value: object) -> str:
    """Numbers as shortest exact decimals; integers without a fraction."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        f = float(value)
        if not np.isfinite(f):
            raise ProductError(f"non-finite number {f} in a label")
        return repr(f)
    return str(value)


def _local_ref(parent: etree._Element, ref_type: str) -> None:
    lir = _sub(parent, PDS, "Local_Internal_Reference")
    _sub(lir, PDS, "local_identifier_reference", ARRAY_ID)
    _sub(lir, PDS, "local_reference_type", ref_type)


def _internal_ref(parent: etree._Element, lid: str, ref_type: str) -> None:
    ir = _sub(parent, PDS, "Internal_Reference")
    _sub(ir, PDS, "lid_reference", lid)
    _sub(ir, PDS, "reference_type", ref_type)


def _identification(root: etree._Element, meta: ProductMeta) -> None:
    ia = _sub(root, PDS, "Identification_Area")
    _sub(ia, PDS, "logical_identifier", meta.logical_identifier)
    _sub(ia, PDS, "version_id", meta.version_id)
    _sub(ia, PDS, "title", meta.title)
    _sub(ia, PDS, "information_model_version", INFORMATION_MODEL_VERSION)
    _sub(ia, PDS, "product_class", "Product_Observational")
    alias = _sub(_sub(ia, PDS, "Alias_List"), PDS, "Alias")
    _sub(alias, PDS, "alternate_id", meta.name)
    _sub(alias, PDS, "comment", "CaSSIS product name")
    md = _sub(_sub(ia, PDS, "Modification_History"), PDS, "Modification_Detail")
    _sub(md, PDS, "modification_date", meta.modification_date)
    _sub(md, PDS, "version_id", meta.version_id)
    sw = meta.processing or ProcessingRecord()
    _sub(md, PDS, "description", f"Created by {sw.software_name} {sw.software_version}.")


def _observation(root: etree._Element, meta: ProductMeta, map_info: MapInfo | None) -> None:
    oa = _sub(root, PDS, "Observation_Area")
    tc = _sub(oa, PDS, "Time_Coordinates")
    _sub(tc, PDS, "start_date_time", utc_z(meta.start_utc))
    _sub(tc, PDS, "stop_date_time", utc_z(meta.stop_utc))
    if meta.geometry is not None:
        _sub(tc, PDS, "local_true_solar_time", ltst_text(meta.geometry.local_true_solar_time_h))
        _sub(tc, PDS, "solar_longitude", round(float(meta.geometry.solar_longitude_deg), 9),
             unit="deg")
    prs = _sub(oa, PDS, "Primary_Result_Summary")
    _sub(prs, PDS, "purpose", "Science")
    _sub(prs, PDS, "processing_level", PROCESSING_LEVELS[meta.level])
    if meta.description:
        _sub(prs, PDS, "description", meta.description)
    sf = _sub(prs, PDS, "Science_Facets")
    wl = "Near Infrared" if meta.filter_name == "NIR" else "Visible"
    _sub(sf, PDS, "wavelength_range", wl)
    _sub(sf, PDS, "domain", "Surface")
    _sub(sf, PDS, "discipline_name", "Imaging")
    _sub(sf, PDS, "facet1", "Grayscale")
    inv = _sub(oa, PDS, "Investigation_Area")
    _sub(inv, PDS, "name", "ExoMars 2016")
    _sub(inv, PDS, "type", "Mission")
    _internal_ref(inv, _INVESTIGATION_LID, "data_to_investigation")
    osys = _sub(oa, PDS, "Observing_System")
    for name, kind, lid, ref in (
        ("Trace Gas Orbiter", "Host", _HOST_LID, "is_instrument_host"),
        ("CaSSIS", "Instrument", _INSTRUMENT_LID, "is_instrument"),
    ):
        comp = _sub(osys, PDS, "Observing_System_Component")
        _sub(comp, PDS, "name", name)
        _sub(comp, PDS, "type", kind)
        _internal_ref(comp, lid, ref)
    tgt = _sub(oa, PDS, "Target_Identification")
    _sub(tgt, PDS, "name", "Mars")
    _sub(tgt, PDS, "type", "Planet")
    _internal_ref(tgt, _MARS_LID, "data_to_target")
    da = _sub(oa, PDS, "Discipline_Area")
    _display(da)
    _imaging(da, meta)
    if map_info is not None:
        _cartography(da, map_info)
    if meta.processing is not None:
        _processing(da, meta.processing, meta)
    if meta.geometry is not None:
        add_geometry(da, meta.geometry)


def _display(da: etree._Element) -> None:
    ds = _sub(da, DISP, "Display_Settings")
    _local_ref(ds, "display_settings_to_array")
    dd = _sub(ds, DISP, "Display_Direction")
    _sub(dd, DISP, "horizontal_display_axis", "Sample")
    _sub(dd, DISP, "horizontal_display_direction", "Left to Right")
    _sub(dd, DISP, "vertical_display_axis", "Line")
    _sub(dd, DISP, "vertical_display_direction", "Top to Bottom")


def _imaging(da: etree._Element, meta: ProductMeta) -> None:
    im = _sub(da, IMG, "Imaging")
    _local_ref(im, "imaging_parameters_to_image_object")
    if meta.exposure_duration_s is not None:
        ex = _sub(im, IMG, "Exposure")
        _sub(ex, IMG, "exposure_duration", float(meta.exposure_duration_s), unit="s")
    if meta.filter_name is not None:
        of = _sub(im, IMG, "Optical_Filter")
        _sub(of, IMG, "filter_name", meta.filter_name)
        _sub(of, IMG, "filter_id", meta.filter_name)
        centre, width = FILTER_WAVELENGTHS_NM[meta.filter_name]
        if width is not None:
            _sub(of, IMG, "bandwidth", width, unit="nm")
        _sub(of, IMG, "center_filter_wavelength", centre, unit="nm")


def _projection(parent: etree._Element, p: MapProjection) -> None:
    mp = _sub(parent, CART, "Map_Projection")
    _sub(mp, CART, "map_projection_name", p.pds4_name)
    if p.kind == EQUIRECTANGULAR:
        eq = _sub(mp, CART, "Equirectangular")
        _sub(eq, CART, "latitude_of_projection_origin", 0.0, unit="deg")
        _sub(eq, CART, "standard_parallel_1", float(p.standard_parallel_deg), unit="deg")
        _sub(eq, CART, "longitude_of_central_meridian", float(p.center_longitude_deg), unit="deg")
    else:
        ps = _sub(mp, CART, "Polar_Stereographic")
        _sub(ps, CART, "longitude_of_central_meridian", float(p.center_longitude_deg), unit="deg")
        _sub(ps, CART, "latitude_of_projection_origin", float(p.pole_latitude_deg), unit="deg")
        _sub(ps, CART, "scale_factor_at_projection_origin", float(p.scale_factor))


def _cartography(da: etree._Element, m: MapInfo) -> None:
    ca = _sub(da, CART, "Cartography")
    _local_ref(ca, "cartography_parameters_to_image_object")
    bc = _sub(_sub(ca, CART, "Spatial_Domain"), CART, "Bounding_Coordinates")
    _sub(bc, CART, "west_bounding_coordinate", float(m.west_deg), unit="deg")
    _sub(bc, CART, "east_bounding_coordinate", float(m.east_deg), unit="deg")
    _sub(bc, CART, "north_bounding_coordinate", float(m.north_deg), unit="deg")
    _sub(bc, CART, "south_bounding_coordinate", float(m.south_deg), unit="deg")
    hcs = _sub(_sub(ca, CART, "Spatial_Reference_Information"), CART,
               "Horizontal_Coordinate_System_Definition")
    planar = _sub(hcs, CART, "Planar")
    _projection(planar, m.projection)
    pci = _sub(planar, CART, "Planar_Coordinate_Information")
    _sub(pci, CART, "planar_coordinate_encoding_method", "Coordinate Pair")
    cr = _sub(pci, CART, "Coordinate_Representation")
    m_per_deg = m.projection.metres_per_degree()
    _sub(cr, CART, "pixel_resolution_x", float(m.pixel_size_x_m), unit="m/pixel")
    _sub(cr, CART, "pixel_resolution_y", float(m.pixel_size_y_m), unit="m/pixel")
    _sub(cr, CART, "pixel_scale_x", m_per_deg / m.pixel_size_x_m, unit="pixel/deg")
    _sub(cr, CART, "pixel_scale_y", m_per_deg / m.pixel_size_y_m, unit="pixel/deg")
    gt = _sub(planar, CART, "Geo_Transformation")
    _sub(gt, CART, "upperleft_corner_x", float(m.upper_left_x_m), unit="m")
    _sub(gt, CART, "upperleft_corner_y", float(m.upper_left_y_m), unit="m")
    gm = _sub(hcs, CART, "Geodetic_Model")
    _sub(gm, CART, "latitude_type", "Planetocentric")
    for axis in ("a", "b", "c"):
        _sub(gm, CART, f"{axis}_axis_radius", float(m.projection.radius_m), unit="m")
    _sub(gm, CART, "longitude_direction", "Positive East")
    _sub(gm, CART, "coordinate_system_type", "Body-fixed Rotating")


def _processing(da: etree._Element, rec: ProcessingRecord, meta: ProductMeta) -> None:
    pi = _sub(da, PROC, "Processing_Information")
    _local_ref(pi, "processing_information_to_data_object")
    if rec.input_products:
        ipl = _sub(pi, PROC, "Input_Product_List")
        for lid in rec.input_products:
            _internal_ref(ipl, lid, "data_to_input_product")
    pr = _sub(pi, PROC, "Process")
    _sub(pr, PROC, "name", "CaSSIS ground processing")
    if rec.description:
        _sub(pr, PROC, "description", rec.description)
    sw = _sub(pr, PROC, "Software")
    _sub(sw, PROC, "name", rec.software_name)
    _sub(sw, PROC, "software_version_id", rec.software_version)
    params = [("calibration_file", f) for f in rec.calibration_files] + list(rec.parameters)
    g = meta.geometry
    if g is not None:  # the PSA's Mission_Information keys (its dictionary is not bundled)
        params += [("start_orbit_number", f"{g.orbit_number:06d}"),
                   ("mission_phase_name", g.mission_phase_name),
                   ("mission_phase_identifier", g.mission_phase_identifier)]
    if params:
        prog = _sub(sw, PROC, "Software_Program")
        _sub(prog, PROC, "name", rec.software_name)
        _sub(prog, PROC, "program_version", rec.software_version)
        spp = _sub(prog, PROC, "Software_Program_Parameters")
        for name, value in params:
            p = _sub(spp, PROC, "Parameter")
            _sub(p, PROC, "name", str(name))
            _sub(p, PROC, "parameter_type", "Input")
            _sub(p, PROC, "value", str(value))


def _special(arr: etree._Element, sc: SpecialConstants, dtype: np.dtype) -> None:
    if not sc.values():
        return
    cast = (lambda v: int(v)) if dtype.kind == "u" else (lambda v: float(np.float32(v)))
    for v in sc.values():
        if dtype.kind == "u" and not (float(v).is_integer() and 0 <= v <= np.iinfo(dtype).max):
            raise ProductError(f"special constant {v} does not fit {dtype}")
    sp = _sub(arr, PDS, "Special_Constants")
    if sc.missing is not None:
        _sub(sp, PDS, "missing_constant", cast(sc.missing))
    if sc.invalid is not None:
        _sub(sp, PDS, "invalid_constant", cast(sc.invalid))
    if sc.saturated is not None:
        _sub(sp, PDS, "high_instrument_saturation", cast(sc.saturated))


def _file_area(root: etree._Element, meta: ProductMeta, shape: tuple[int, int],
               dtype: np.dtype, file_name: str) -> None:
    fa = _sub(root, PDS, "File_Area_Observational")
    _sub(_sub(fa, PDS, "File"), PDS, "file_name", file_name)
    arr = _sub(fa, PDS, "Array_2D_Image")
    _sub(arr, PDS, "local_identifier", ARRAY_ID)
    _sub(arr, PDS, "offset", 0, unit="byte")
    _sub(arr, PDS, "axes", 2)
    _sub(arr, PDS, "axis_index_order", "Last Index Fastest")
    ea = _sub(arr, PDS, "Element_Array")
    _sub(ea, PDS, "data_type", PDS4_DATA_TYPES[dtype.name])
    if meta.unit:
        _sub(ea, PDS, "unit", meta.unit)
    if meta.scaling is not None:
        _sub(ea, PDS, "scaling_factor", float(meta.scaling[0]))
        _sub(ea, PDS, "value_offset", float(meta.scaling[1]))
    for seq, (axis, n) in enumerate((("Line", shape[0]), ("Sample", shape[1])), start=1):
        ax = _sub(arr, PDS, "Axis_Array")
        _sub(ax, PDS, "axis_name", axis)
        _sub(ax, PDS, "elements", int(n))
        _sub(ax, PDS, "sequence_number", seq)
    _special(arr, meta.special, dtype)


def build_label(meta: ProductMeta, shape: tuple[int, int], dtype: np.dtype | str,
                file_name: str, map_info: MapInfo | None = None) -> etree._ElementTree:
    """PDS4 label tree of a ``shape`` = (lines, samples) uint16/float32 image in ``file_name``."""
    d = dat_dtype(dtype).newbyteorder("=")
    if len(shape) != 2 or min(shape) < 1:
        raise ProductError(f"image shape must be 2-D and non-empty, got {shape}")
    if "/" in file_name or "\\" in file_name or not file_name:
        raise ProductError(f"file_name must be a bare file name, got {file_name!r}")
    used = ([PDS, DISP, IMG] + ([CART] if map_info else []) + ([PROC] if meta.processing else [])
            + ([GEOM] if meta.geometry is not None else []))
    nsmap = {_PREFIX[ns]: ns for ns in used} | {"xsi": XSI}
    root = etree.Element(f"{{{PDS}}}Product_Observational", nsmap=nsmap)
    root.set(f"{{{XSI}}}schemaLocation",
             " ".join(f"{ns} {_schema_url(ns, SCHEMA_FILES[ns][0])}" for ns in used))
    _identification(root, meta)
    _observation(root, meta, map_info)
    _file_area(root, meta, (int(shape[0]), int(shape[1])), d, file_name)
    tree = etree.ElementTree(root)
    for ns in used:
        pi = etree.ProcessingInstruction(
            "xml-model",
            f'href="{_schema_url(ns, SCHEMA_FILES[ns][1])}" '
            'schematypens="http://purl.oclc.org/dsdl/schematron"',
        )
        pi.tail = "\n"
        root.addprevious(pi)
    return tree


def label_bytes(meta: ProductMeta, shape: tuple[int, int], dtype: np.dtype | str,
                file_name: str, map_info: MapInfo | None = None) -> bytes:
    """Serialized label (UTF-8, XML declaration, 2-space indentation)."""
    tree = build_label(meta, shape, dtype, file_name, map_info)
    etree.indent(tree, space="  ")
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8", standalone=True) + b"\n"


def write_product(directory: str | Path, meta: ProductMeta, array: np.ndarray,
                  map_info: MapInfo | None = None) -> tuple[Path, Path]:
    """Write ``<name>.dat`` and its label ``<name>.xml`` into ``directory``; returns both paths."""
    a = np.asarray(array)
    if a.ndim != 2:
        raise ProductError(f"image must be 2-D (lines, samples), got shape {a.shape}")
    out = Path(directory)
    dat_path = out / f"{meta.name}.dat"
    xml_path = out / f"{meta.name}.xml"
    xml = label_bytes(meta, a.shape, a.dtype, dat_path.name, map_info)
    write_dat(dat_path, a)
    xml_path.write_bytes(xml)
    return dat_path, xml_path


def parse_label(path: str | Path) -> etree._ElementTree:
    """Parse a label without entity expansion, DTD loading or network access (no DOCTYPE)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             huge_tree=False, remove_blank_text=False)
    try:
        tree = etree.parse(str(path), parser)
    except (etree.XMLSyntaxError, OSError) as exc:
        raise ProductError(f"cannot parse label {path}: {exc}") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise ProductError(f"cannot parse label {path}: DOCTYPE declarations are not allowed")
    return tree


def read_product(xml_path: str | Path) -> np.ndarray:
    """The (lines, samples) image of a PDS4 product (e.g. one written by
    :func:`write_product`), read through the one label reader
    (:func:`cassis_pipe.labels.pds4.read_pds4_label`) and the one DAT reader
    (:func:`cassis_pipe.labels.dat.read_dat`): a new writable native-order array. Any problem
    (label, axes, data file size) is a :class:`ProductError` naming the file."""
    p = Path(xml_path)
    try:
        label = read_pds4_label(p)
        if label.array is None or label.array.kind != "Array_2D_Image" or not label.file_name:
            raise ProductError(f"{p}: no Array_2D_Image / file_name")
        names = sorted(a.name for a in label.array.axes)
        if names != ["Line", "Sample"]:
            raise ProductError(f"{p}: expected axes Line and Sample; got {names}")
        return read_dat(p.parent / label.file_name, label)
    except LabelError as exc:
        raise ProductError(f"{p}: {exc}") from exc
