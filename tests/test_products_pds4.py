"""PDS4 labels: XSD/Schematron-subset validity, pds4_tools read-back, content, determinism."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pds4_tools
import pytest
from lxml import etree

from cassis_pipe.products.crs import equirectangular, polar_stereographic
from cassis_pipe.products.errors import ProductError
from cassis_pipe.products.metadata import (
    FLOAT32_MISSING,
    MapInfo,
    ProcessingRecord,
    ProductMeta,
    SpecialConstants,
)
from cassis_pipe.products.pds4 import (
    CART,
    PDS,
    PROC,
    label_bytes,
    parse_label,
    read_product,
    write_product,
)
from cassis_pipe.products.validate import validate_label

NS = {"pds": PDS, "cart": CART, "proc": PROC}
NAME = "CAS-MCO-2016-11-26T22.50.27.381-PAN-00005-B1"


def _meta(level: str = "calibrated", **kw) -> ProductMeta:
    base = dict(
        name=NAME, level=level, start_utc="2016-11-26T22:50:27.381",
        stop_utc="2016-11-26T22:50:27.383", modification_date="2026-11-21",
        filter_name="PAN", exposure_duration_s=1.44e-3,
    )
    base.update(kw)
    return ProductMeta(**base)


RECORD = ProcessingRecord(
    software_version="0.1.0", description="bias, flat, absolute calibration",
    calibration_files=("bias_short_190313.dat", "flat_field_190313.dat"),
    parameters=(("rotation_offset_deg", "0.120"), ("replaced_bad_pixels_count", "9")),
    input_products=("urn:esa:psa:em16_tgo_cas:data_raw:cas-mco-2016-11-26t22.50.27.381-pan-00005",),
)
EQUI = MapInfo(equirectangular(180.0, 20.0, 3393833.261), 4.0, 4.0, 4286632.0, 1355808.0,
               257.01272950127, 257.31376427531, 22.889184664064, 22.253261430151)
POLAR = MapInfo(polar_stereographic(False, 0.0), 20.0, 20.0, -60000.0, 40000.0,
                0.0, 360.0, -85.0, -90.0)


def _image(dtype: str, shape=(7, 11)) -> np.ndarray:
    rng = np.random.default_rng(3)
    if dtype == "uint16":
        a = rng.integers(0, 4096, shape).astype(np.uint16)
        a[0, 0] = 4095
        return a
    a = rng.random(shape).astype(np.float32)
    a[0, :3] = np.float32(FLOAT32_MISSING)
    return a


CASES = {
    "level0_dn": (_meta("raw", special=SpecialConstants(saturated=4095), unit="DN",
                        exposure_duration_s=None), "uint16", None),
    "level1_if": (_meta(special=SpecialConstants(missing=FLOAT32_MISSING), processing=RECORD),
                  "float32", None),
    "strip": (_meta("calibrated", filter_name=None, special=SpecialConstants(
        missing=FLOAT32_MISSING, invalid=-1.0)), "float32", None),
    "map_equirectangular": (_meta("derived", special=SpecialConstants(missing=FLOAT32_MISSING),
                                  processing=RECORD), "float32", EQUI),
    "map_polar": (_meta("derived", name="south_pole_mosaic", filter_name="NIR",
                        special=SpecialConstants(missing=FLOAT32_MISSING)), "float32", POLAR),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_label_validates_and_reads_back(case: str, tmp_path) -> None:
    meta, dtype, map_info = CASES[case]
    a = _image(dtype)
    dat, xml = write_product(tmp_path, meta, a, map_info)
    assert validate_label(xml) == []
    assert np.array_equal(read_product(xml), a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        struct = pds4_tools.read(str(xml), lazy_load=True, quiet=True)
        got = np.asarray(struct[0].data)
    assert got.shape == a.shape and got.dtype == a.dtype
    assert np.array_equal(got.view(np.uint8), a.view(np.uint8))
    assert dat.stat().st_size == a.nbytes


def test_labels_are_deterministic(tmp_path) -> None:
    meta, dtype, map_info = CASES["map_equirectangular"]
    one = label_bytes(meta, (7, 11), dtype, "x.dat", map_info)
    two = label_bytes(meta, (7, 11), dtype, "x.dat", map_info)
    assert one == two
    a = _image(dtype)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    d1 = write_product(tmp_path / "a", meta, a, map_info)
    d2 = write_product(tmp_path / "b", meta, a, map_info)
    assert d1[0].read_bytes() == d2[0].read_bytes() and d1[1].read_bytes() == d2[1].read_bytes()


def test_identification_and_array_content(tmp_path) -> None:
    meta, dtype, _ = CASES["level0_dn"]
    _, xml = write_product(tmp_path, meta, _image(dtype, (3, 5)))
    t = parse_label(xml)
    assert t.findtext(".//pds:logical_identifier", namespaces=NS) == (
        "urn:esa:psa:em16_tgo_cas:data_raw:cas-mco-2016-11-26t22.50.27.381-pan-00005-b1")
    assert t.findtext(".//pds:start_date_time", namespaces=NS) == "2016-11-26T22:50:27.381Z"
    assert t.findtext(".//pds:processing_level", namespaces=NS) == "Raw"
    arr = t.find(".//pds:Array_2D_Image", NS)
    assert arr.findtext("pds:offset", namespaces=NS) == "0"
    assert arr.findtext("pds:Element_Array/pds:data_type", namespaces=NS) == "UnsignedLSB2"
    axes = [(a.findtext("pds:axis_name", namespaces=NS), a.findtext("pds:elements", namespaces=NS))
            for a in arr.findall("pds:Axis_Array", NS)]
    assert axes == [("Line", "3"), ("Sample", "5")]
    assert arr.findtext(".//pds:high_instrument_saturation", namespaces=NS) == "4095"
    assert t.find(".//cart:Cartography", NS) is None
    img = "{http://pds.nasa.gov/pds4/img/v1}"
    assert t.findtext(f".//{img}center_filter_wavelength") == "677.4"
    assert t.find(f".//{img}center_filter_wavelength").get("unit") == "nm"
    assert t.findtext(f".//{img}bandwidth") == "231.5"


def test_float_label_fields(tmp_path) -> None:
    meta, dtype, _ = CASES["level1_if"]
    _, xml = write_product(tmp_path, meta, _image(dtype))
    t = parse_label(xml)
    assert t.findtext(".//pds:data_type", namespaces=NS) == "IEEE754LSBSingle"
    missing = float(t.findtext(".//pds:missing_constant", namespaces=NS))
    assert np.float32(missing) == np.float32(FLOAT32_MISSING)
    params = {p.findtext("proc:name", namespaces=NS): p.findtext("proc:value", namespaces=NS)
              for p in t.iterfind(".//proc:Parameter", NS)}
    assert params["rotation_offset_deg"] == "0.120"
    assert params["replaced_bad_pixels_count"] == "9"
    files = [p.findtext("proc:value", namespaces=NS) for p in t.iterfind(".//proc:Parameter", NS)
             if p.findtext("proc:name", namespaces=NS) == "calibration_file"]
    assert files == ["bias_short_190313.dat", "flat_field_190313.dat"]
    assert t.findtext(".//proc:software_version_id", namespaces=NS) == "0.1.0"


def test_cartography_matches_flown_psa_label(data_dir, tmp_path) -> None:
    """Same projection numbers as the PSA MY36 label give the same cart values."""
    meta, dtype, map_info = CASES["map_equirectangular"]
    _, xml = write_product(tmp_path, meta, _image(dtype), map_info)
    ours = parse_label(xml)
    psa = parse_label(data_dir / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml")
    for tag in ("standard_parallel_1", "longitude_of_central_meridian", "pixel_resolution_x",
                "upperleft_corner_x", "upperleft_corner_y", "a_axis_radius", "c_axis_radius",
                "pixel_scale_x", "pixel_scale_y", "west_bounding_coordinate"):
        a = float(ours.findtext(f".//cart:{tag}", namespaces=NS))
        b = float(psa.findtext(f".//cart:{tag}", namespaces=NS))
        assert math.isclose(a, b, rel_tol=1e-12), tag
    for tag in ("map_projection_name", "latitude_type", "longitude_direction"):
        assert ours.findtext(f".//cart:{tag}", namespaces=NS) == psa.findtext(
            f".//cart:{tag}", namespaces=NS)
    lid_psa = psa.findtext(".//pds:logical_identifier", namespaces=NS)
    lid_ours = ours.findtext(".//pds:logical_identifier", namespaces=NS)
    assert lid_psa.rsplit(":", 1)[0] == lid_ours.rsplit(":", 1)[0]  # ...:data_derived


def test_polar_cartography(tmp_path) -> None:
    meta, dtype, map_info = CASES["map_polar"]
    _, xml = write_product(tmp_path, meta, _image(dtype), map_info)
    t = parse_label(xml)
    assert t.findtext(".//cart:map_projection_name", namespaces=NS) == "Polar Stereographic"
    ps = t.find(".//cart:Polar_Stereographic", NS)
    assert float(ps.findtext("cart:latitude_of_projection_origin", namespaces=NS)) == -90.0
    assert float(ps.findtext("cart:scale_factor_at_projection_origin", namespaces=NS)) == 1.0
    assert float(t.findtext(".//cart:a_axis_radius", namespaces=NS)) == 3396190.0


def test_user_text_is_escaped_not_markup(tmp_path) -> None:
    evil = 'x</title><title>y & "z" <!-- ]]>'
    meta = _meta(title=evil, description=evil)
    _, xml = write_product(tmp_path, meta, _image("float32"))
    t = parse_label(xml)
    assert t.findtext(".//pds:title", namespaces=NS) == evil
    assert len(t.findall(".//pds:title", NS)) == 1
    assert validate_label(xml) == []


@pytest.mark.parametrize("kw", [
    {"level": "level2"}, {"name": "bad:name"}, {"name": "a b"}, {"start_utc": "2016-11-26"},
    {"stop_utc": "2016-11-26T22:50:27.380"}, {"start_utc": "2016-13-26T22:50:27"},
    {"modification_date": "26/11/2016"}, {"modification_date": "2026-02-30"},
    {"filter_name": "GRN"}, {"exposure_duration_s": 0.0}, {"version_id": "1"},
])
def test_bad_metadata_raises(kw) -> None:
    with pytest.raises(ProductError):
        _meta(**kw)


@pytest.mark.parametrize("kw", [
    {"software_version": "v1\u00e9"}, {"parameters": (("rotation_offset_deg", "\u00b0"),)},
    {"parameters": (("x", " "),)}, {"parameters": (("x",),)}, {"calibration_files": ("",)},
    {"software_name": "a\x00b"}, {"input_products": ("not-a-lid",)},
    {"input_products": ("urn:esa:psa:Upper:case",)}, {"parameters": (("n", "x" * 256),)},
])
def test_bad_processing_strings_raise(kw) -> None:
    with pytest.raises(ProductError):
        ProcessingRecord(**kw)


@pytest.mark.parametrize("kw", [{"title": "  "}, {"title": "t" * 256}, {"unit": ""},
                                {"description": "bell\x07"}])
def test_bad_label_strings_raise(kw) -> None:
    with pytest.raises(ProductError):
        _meta(**kw)


def test_unicode_where_pds4_allows_it(tmp_path) -> None:
    meta = _meta(title="Hebes Chasma \u2013 \u00e9t\u00e9", description="\u00b5m scale \u2713",
                 processing=ProcessingRecord(parameters=(("offset \u00b0", "0.1 deg"),)))
    _, xml = write_product(tmp_path, meta, _image("float32"))
    assert validate_label(xml) == []


def test_read_product_through_the_label_reader(tmp_path) -> None:
    """read_product = labels.pds4 label + labels.dat reader: a new writable array; a short or
    missing data file and a non-PDS4 label are ProductErrors naming the file."""
    meta, dtype, _ = CASES["level1_if"]
    dat, xml = write_product(tmp_path, meta, _image(dtype))
    back = read_product(xml)
    assert back.flags.writeable and back.dtype == np.float32
    dat.write_bytes(dat.read_bytes()[:-4])
    with pytest.raises(ProductError, match="data file has"):
        read_product(xml)
    dat.unlink()
    with pytest.raises(ProductError, match="cannot read"):
        read_product(xml)
    bad = tmp_path / "bad.xml"
    bad.write_text("<Product_Bundle/>")
    with pytest.raises(ProductError, match="bad.xml"):
        read_product(bad)


def test_bad_write_arguments(tmp_path) -> None:
    meta = _meta(special=SpecialConstants(saturated=70000))
    with pytest.raises(ProductError):
        write_product(tmp_path, meta, _image("uint16"))
    with pytest.raises(ProductError):
        write_product(tmp_path, _meta(), np.zeros((2, 2, 2), np.float32))
    with pytest.raises(ProductError):
        label_bytes(_meta(), (2, 2), "float32", "../x.dat")
    with pytest.raises(ProductError):
        label_bytes(_meta(), (2, 2), "float64", "x.dat")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_label_uses_no_string_concatenation_of_markup(tmp_path) -> None:
    """Every element of our label is in a PDS4 namespace (no stray markup from user data)."""
    meta, dtype, map_info = CASES["map_equirectangular"]
    root = etree.fromstring(label_bytes(meta, (2, 2), dtype, "x.dat", map_info))
    namespaces = {el.tag.split("}")[0][1:] for el in root.iter() if isinstance(el.tag, str)}
    assert namespaces <= {PDS, CART, PROC, "http://pds.nasa.gov/pds4/img/v1",
                          "http://pds.nasa.gov/pds4/disp/v1"}
