"""PDS4 label reader on the real PSA derived label and the ISIS tgocassisrdrgen exports."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.labels.ids import observation_id_string, uid_to_observation_id
from cassis_pipe.labels.names import parse_derived_name, parse_psa_stitched_name
from cassis_pipe.labels.pds4 import Pds4Label, parse_pds4_label, read_pds4_label
from cassis_pipe.labels.xmlsafe import LabelError

DATA = Path(__file__).parent / "data"
EXPORTS = DATA / "pds4-exports"
RAW = EXPORTS / "CAS-MCO-2016-11-26T22.50.30.181-RED-01012-B1_rdrgen.xml"
PROJ = EXPORTS / "CAS-MCO-2016-11-26T22.50.30.181-RED-01012-B1_proj_rdrgen.xml"
PSA = DATA / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml"
COMPRESSED = DATA / "compressed" / "CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1.xml"


@pytest.fixture(scope="module")
def raw() -> Pds4Label:
    return read_pds4_label(RAW)


@pytest.fixture(scope="module")
def proj() -> Pds4Label:
    return read_pds4_label(PROJ)


@pytest.fixture(scope="module")
def psa() -> Pds4Label:
    return read_pds4_label(PSA)


def test_rdrgen_raw_export(raw: Pds4Label) -> None:
    assert raw.logical_identifier == "urn:esa:psa:em16_tgo_cas:data_raw:my34_002002_211_2"
    assert raw.alternate_id == "MY34_002002_211_2"
    assert raw.start_time == datetime(2018, 5, 5, 23, 11, 48, 767000, tzinfo=UTC)
    assert raw.stop_time == raw.start_time
    assert raw.filter == "RED" and raw.center_wavelength_nm == 840.0 and raw.bandwidth_nm == 100.0
    assert raw.exposure_duration_s == pytest.approx(1.488e-3)
    assert raw.cartography is None
    arr = raw.array
    assert arr is not None and arr.shape == (256, 1792)
    assert arr.data_type == "IEEE754LSBSingle" and arr.byte_order == "little"
    assert arr.offset_bytes == 0 and arr.axis_index_order == "Last Index Fastest"
    assert arr.special_constants["missing_constant"] == pytest.approx(-3.40282265508890445e38)
    assert raw.file_name == "CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1.img"


def test_rdrgen_export_is_the_compressed_framelet(raw: Pds4Label) -> None:
    """The export's alias is the observation id of the 2018 framelet's UID (same product)."""
    bern = read_bern_label(COMPRESSED)
    assert bern.uid is not None
    assert observation_id_string(bern.uid) == raw.alternate_id
    assert bern.acquisition_time == raw.start_time
    assert bern.array is not None and raw.array is not None
    assert bern.array.shape == raw.array.shape
    assert bern.exposure_time_s == pytest.approx(raw.exposure_duration_s)


def test_rdrgen_projected_export(proj: Pds4Label) -> None:
    assert proj.logical_identifier is not None and ":data_projected:" in proj.logical_identifier
    c = proj.cartography
    assert c is not None
    assert c.projection_name == "Equirectangular"
    assert c.pixel_resolution_x_m == 200.0 and c.pixel_resolution_y_m == 200.0
    assert c.center_lon_deg == pytest.approx(176.64264073103)
    assert c.standard_parallel_1_deg == pytest.approx(-29.845670941671)
    assert c.a_axis_radius_m == 3396190.0 and c.c_axis_radius_m == 3376200.0
    assert c.west_lon_deg is not None and c.east_lon_deg is not None
    assert c.west_lon_deg < c.east_lon_deg
    assert c.south_lat_deg is not None and c.north_lat_deg is not None
    assert c.south_lat_deg < c.north_lat_deg
    # px/deg and m/px agree to within the ellipsoid's local-radius difference
    assert c.pixel_scale_x_px_per_deg is not None
    sphere = math.pi * c.a_axis_radius_m / 180.0 / c.pixel_resolution_x_m
    assert c.pixel_scale_x_px_per_deg == pytest.approx(sphere, rel=5e-3)
    assert proj.array is not None and proj.array.shape == (16, 40)


def test_psa_derived(psa: Pds4Label) -> None:
    assert psa.logical_identifier == "urn:esa:psa:em16_tgo_cas:data_derived:my36_015782_024_0_pan"
    assert psa.alternate_id == "MY36_015782_024_0"
    assert psa.observation_uid == 837628000 and psa.orbit_number == 15782
    obs = uid_to_observation_id(psa.observation_uid)
    assert str(obs) == psa.alternate_id and obs.orbit == psa.orbit_number
    derived = parse_derived_name(psa.logical_identifier)
    assert derived.observation == obs and derived.filter == psa.filter == "PAN"
    assert psa.start_time == datetime(2021, 6, 7, 0, 31, 3, 723000, tzinfo=UTC)
    assert psa.stop_time == datetime(2021, 6, 7, 0, 31, 14, 193000, tzinfo=UTC)
    assert psa.center_wavelength_nm == 677.4 and psa.bandwidth_nm == 231.5
    assert psa.mission_phase == "Science Phase"
    c = psa.cartography
    assert c is not None and c.projection_name == "Equirectangular"
    assert c.pixel_resolution_x_m == 4.0
    assert (c.center_lon_deg, c.standard_parallel_1_deg) == (180.0, 20.0)
    assert c.a_axis_radius_m == c.b_axis_radius_m == c.c_axis_radius_m == 3393833.261
    sphere = math.pi * c.a_axis_radius_m / 180.0 / c.pixel_resolution_x_m
    assert c.pixel_scale_x_px_per_deg == pytest.approx(sphere, rel=1e-9)
    assert c.upper_left_x_m == 4286632.0 and c.upper_left_y_m == 1355808.0
    assert psa.array is not None and psa.array.shape == (3, 500)


def test_psa_reference_is_the_stitched_product(psa: Pds4Label) -> None:
    (ref,) = psa.references
    sti = parse_psa_stitched_name(ref)
    assert sti.uid == psa.observation_uid and sti.filter == psa.filter and sti.level == "cal"
    # the stitched LID's start is the product start rounded to the second
    assert psa.start_time is not None
    assert abs((sti.start - psa.start_time).total_seconds()) <= 0.5


def test_array_3d_by_axis_name() -> None:
    xml = b"""<Product_Observational xmlns="http://pds.nasa.gov/pds4/pds/v1">
    <Identification_Area/><File_Area_Observational><File><file_name>c.img</file_name></File>
    <Array_3D_Image><offset unit="byte">64</offset><axes>3</axes>
    <axis_index_order>Last Index Fastest</axis_index_order>
    <Element_Array><data_type>IEEE754MSBSingle</data_type></Element_Array>
    <Axis_Array><axis_name>Band</axis_name><elements>4</elements><sequence_number>1</sequence_number></Axis_Array>
    <Axis_Array><axis_name>Line</axis_name><elements>3</elements><sequence_number>2</sequence_number></Axis_Array>
    <Axis_Array><axis_name>Sample</axis_name><elements>5</elements><sequence_number>3</sequence_number></Axis_Array>
    </Array_3D_Image></File_Area_Observational></Product_Observational>"""
    lab = parse_pds4_label(xml)
    arr = lab.array
    assert arr is not None and arr.kind == "Array_3D_Image"
    assert arr.shape == (4, 3, 5) and arr.offset_bytes == 64 and arr.byte_order == "big"
    assert arr.n_bytes == 4 * 3 * 5 * 4 and lab.file_name == "c.img"


def test_missing_parts_are_none() -> None:
    lab = parse_pds4_label(b"<Product_Observational><Identification_Area/></Product_Observational>")
    assert lab.logical_identifier is None and lab.array is None and lab.cartography is None
    assert lab.start_time is None and lab.references == ()


@pytest.mark.parametrize(
    "xml", [b"<Something/>", b"<Product_Observational/>", b"<Product_Observational><a></b>"]
)
def test_not_pds4_raises(xml: bytes) -> None:
    with pytest.raises(LabelError, match="odd.xml"):
        parse_pds4_label(xml, "odd.xml")


_REAL = PSA.read_bytes()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, len(_REAL)),
    pos=st.lists(st.integers(0, len(_REAL) - 1), max_size=8),
    byte=st.integers(0, 255),
)
def test_fuzzed_pds4_never_crashes(cut: int, pos: list[int], byte: int) -> None:
    data = bytearray(_REAL[:cut] if cut < len(_REAL) // 2 else _REAL)
    for p in pos:
        if p < len(data):
            data[p] = byte
    try:
        lab = parse_pds4_label(bytes(data), "fuzz.xml")
    except LabelError as exc:
        assert exc.source == "fuzz.xml"
    else:
        assert isinstance(lab, Pds4Label)
