"""Bern framelet header reader, checked against every real header in tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cassis_pipe.labels.bern import (
    T_EXP_TICK_S,
    FrameletLabel,
    parse_bern_label,
    read_bern_label,
    window_words,
)
from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.labels.names import parse_bern_name
from cassis_pipe.labels.xmlsafe import LabelError

DATA = Path(__file__).parent / "data"
L1B = "CAS-MCO-2016-11-26T22.50.27.381-{}-B1.xml"
COMPRESSED = DATA / "compressed" / "CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1.xml"
DMP = DATA / "pds4-exports" / "CAS-MCO-2016-11-20T15.30.00.349-DMP-00000-00.xml"

# file -> filter, window counter, sequence counter, (lines, samples), own-window rows, binning
EXPECTED = {
    DATA / "level1b" / L1B.format("PAN-00005"): ("PAN", 0, 5, (280, 2048), (354, 633), 0),
    DATA / "level1b" / L1B.format("RED-01005"): ("RED", 1, 5, (256, 2048), (712, 967), 0),
    DATA / "level1b" / L1B.format("NIR-02005"): ("NIR", 2, 5, (256, 2048), (1048, 1303), 1),
    DATA / "level1b" / L1B.format("BLU-03005"): ("BLU", 3, 5, (218, 64), (1409, 1626), 0),
    COMPRESSED: ("RED", 1, 29, (256, 1792), (712, 967), 0),
}
# Reference README: I/F per DN = K * r_h^2 / t_exp
K_ABS = {"PAN": 1.341e-8, "RED": 3.497e-8, "NIR": 3.645e-8, "BLU": 2.658e-8}


@pytest.fixture(scope="module")
def labels() -> dict[Path, FrameletLabel]:
    return {p: read_bern_label(p) for p in EXPECTED}


def test_fixture_lists_every_real_header(all_bern_labels: list[Path]) -> None:
    assert sorted(all_bern_labels) == sorted(EXPECTED)


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.stem[-12:])
def test_core_fields(path: Path, labels: dict[Path, FrameletLabel]) -> None:
    lab = labels[path]
    filt, wc, seq, shape, rows, binning = EXPECTED[path]
    assert lab.product_name == path.stem
    assert (lab.filter, lab.window_counter, lab.sequence_counter) == (filt, wc, seq)
    assert lab.array is not None and lab.array.shape == shape
    assert str(lab.array.dtype) == "float32" and lab.array.byte_order == "little"
    assert lab.window is not None and lab.window.index == wc + 1
    assert (lab.window.start_row, lab.window.end_row) == rows
    assert lab.binning == binning
    # the expanded array covers exactly the framelet's own detector window
    assert (lab.window.rows, lab.window.cols) == shape
    assert lab.frame_type == 0 and lab.expanded is True
    assert len(lab.windows) == 6
    assert lab.target == "Mars"


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.stem[-12:])
def test_name_matches_header(path: Path, labels: dict[Path, FrameletLabel]) -> None:
    lab = labels[path]
    name = parse_bern_name(lab.product_name or "")
    assert name.phase == lab.mission_phase
    assert name.filter == lab.filter
    assert (name.window_counter, name.sequence_counter) == (
        lab.window_counter,
        lab.sequence_counter,
    )
    assert name.time == lab.acquisition_time
    assert name.level == "B1"


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.stem[-12:])
def test_exposure_and_calibration(path: Path, labels: dict[Path, FrameletLabel]) -> None:
    lab = labels[path]
    assert lab.t_exp is not None and lab.exposure_time_s is not None
    assert lab.exposure_time_s == pytest.approx(lab.t_exp * T_EXP_TICK_S, rel=1e-3)
    assert lab.step_exp_us is not None and lab.step_exp_us * 1e-6 > lab.exposure_time_s
    r_h = lab.heliocentric_distance_au
    assert r_h is not None and 1.3 < r_h < 1.7
    expect = K_ABS[lab.filter or ""] * r_h**2 / lab.exposure_time_s
    assert lab.absolute_calibration == pytest.approx(expect, rel=0.01)


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.stem[-12:])
def test_geometry_block(path: Path, labels: dict[Path, FrameletLabel]) -> None:
    g = labels[path].geometry
    assert g.corner_lon_deg is not None and len(g.corner_lon_deg) == 4
    assert g.corner_lat_deg is not None and len(g.corner_lat_deg) == 4
    assert g.sub_cassis_lon_deg is not None and g.sub_cassis_lat_deg is not None
    assert min(g.corner_lon_deg) - 0.5 < g.sub_cassis_lon_deg < max(g.corner_lon_deg) + 0.5
    for angle in (g.incidence_angle_deg, g.emission_angle_deg, g.phase_angle_deg):
        assert angle is not None and 0.0 <= angle <= 180.0
    assert g.pixel_scale_surface_m is not None and 3.0 < g.pixel_scale_surface_m < 8.0
    assert g.ground_track_vector_km_s is not None and len(g.ground_track_vector_km_s) == 3
    assert g.units["HELIOCENTRIC_DISTANCE"] == "AU"


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.stem[-12:])
def test_window_words_decode_to_pehk_starts(path: Path, labels: dict[Path, FrameletLabel]) -> None:
    lab = labels[path]
    words = window_words(lab)
    assert len(words) == 6
    for w in lab.windows[: lab.number_of_windows]:
        start = words[w.index - 1][0]
        assert ((start >> 12) // 2, (start & 0xFFF) // 2) == (w.start_col, w.start_row)


@pytest.mark.parametrize("path", sorted(EXPECTED), ids=lambda p: p.stem[-12:])
def test_window_end_words(path: Path, labels: dict[Path, FrameletLabel]) -> None:
    """End words: column inclusive, row exclusive (PEHK end row + 1), own window excepted."""
    lab = labels[path]
    words = window_words(lab)
    for w in lab.windows[: lab.number_of_windows]:
        end = words[w.index - 1][1]
        assert (end >> 12) // 2 == w.end_col
        if lab.window is not None and w.index != lab.window.index:
            assert (end & 0xFFF) // 2 == w.end_row + 1


def test_compressed_specifics(labels: dict[Path, FrameletLabel]) -> None:
    lab = labels[COMPRESSED]
    assert lab.compression_name == "JPEG-LS"
    assert lab.compression_ratio_id == 520 and lab.compression_value == 8
    assert lab.compression_ratio_actual == pytest.approx(3.195)
    assert lab.compression_ratio_requested == pytest.approx(3.014)
    assert lab.rotation_deg == pytest.approx(100.228)
    assert float(lab.derived["TelescopeRotationAngle"]) == pytest.approx(lab.rotation_deg)
    assert lab.uid == 272536398
    assert observation_id_string(lab.uid) == "MY34_002002_211_2"
    assert lab.exposure_timestamp_hex == "2f04085de6618507"
    assert lab.acquisition_sclk == pytest.approx(67657190.24965)
    assert lab.product_id == "M0120180505231148767RED0102900"
    assert lab.geometry.local_solar_time == "08:35:24"


def test_level1b_shared_exposure(labels: dict[Path, FrameletLabel]) -> None:
    l1b = [lab for p, lab in labels.items() if p.parent.name == "level1b"]
    assert {lab.uid for lab in l1b} == {100799268}
    assert {lab.exposure_timestamp_hex for lab in l1b} == {"2f015435767e275a"}
    assert {lab.rotation_deg for lab in l1b} == {0.0}
    assert {lab.num_exp for lab in l1b} == {40}


def test_level0_dump_header() -> None:
    lab = read_bern_label(DMP)
    assert lab.filter == "DMP" and lab.frame_type == 210
    assert lab.window is None and lab.windows == () and lab.pehk_header == {}
    assert lab.exposure_time_s is None and lab.absolute_calibration is None
    assert lab.target == "Pi2 Orionis"
    assert lab.array is not None and lab.array.shape == (2056,)
    assert str(lab.array.dtype) == "uint8"
    assert window_words(lab) == ()


def test_missing_everything_gives_none() -> None:
    lab = parse_bern_label(b"<Product_Observational><CaSSIS_Header/></Product_Observational>")
    assert lab.uid is None and lab.filter is None and lab.window is None and lab.array is None
    assert lab.geometry.corner_lon_deg is None and lab.acquisition_time is None


def test_garbage_values_give_none() -> None:
    xml = (
        b'<Product_Observational><CaSSIS_Header><FSW_HEADER UID="12x" WindowCounter=""'
        b' Position="far"/><PEHK_HEADER Exposure_Time="fast" Window1_Start_Row="1"/>'
        b"<DERIVED_HEADER_DATA><OnboardImageAcquisitionTime>yesterday</OnboardImageAcquisitionTime>"
        b"<ABSOLUTE_CALIBRATION>n/a</ABSOLUTE_CALIBRATION></DERIVED_HEADER_DATA>"
        b"<GEOMETRIC_DATA><LONGITUDE_IMAGE_CORNERS>(1, 2,</LONGITUDE_IMAGE_CORNERS>"
        b"</GEOMETRIC_DATA></CaSSIS_Header></Product_Observational>"
    )
    lab = parse_bern_label(xml, "junk.xml")
    assert lab.uid is None and lab.window_counter is None and lab.rotation_deg is None
    assert lab.exposure_time_s is None and lab.acquisition_time is None
    assert lab.absolute_calibration is None and lab.windows == ()
    assert lab.geometry.corner_lon_deg is None


def test_not_a_bern_header() -> None:
    with pytest.raises(LabelError, match="nope.xml"):
        parse_bern_label(b"<Product_Observational/>", "nope.xml")


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match="absent.xml"):
        read_bern_label(tmp_path / "absent.xml")


_REAL = COMPRESSED.read_bytes()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cut=st.integers(0, len(_REAL)),
    pos=st.lists(st.integers(0, len(_REAL) - 1), max_size=8),
    byte=st.integers(0, 255),
)
def test_fuzzed_header_never_crashes(cut: int, pos: list[int], byte: int) -> None:
    data = bytearray(_REAL[:cut] if cut < len(_REAL) // 2 else _REAL)
    for p in pos:
        if p < len(data):
            data[p] = byte
    try:
        lab = parse_bern_label(bytes(data), "fuzz.xml")
    except LabelError as exc:
        assert exc.source == "fuzz.xml"
    else:
        assert isinstance(lab, FrameletLabel)
