"""Product names: real examples, build/parse round trips, mission phase and plan numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cassis_pipe.instrument.constants import FILTER_ORDER
from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.labels.ids import ObservationId, parse_observation_id
from cassis_pipe.labels.names import (
    PSA_LEVELS,
    BernName,
    DerivedName,
    PsaFrameletName,
    PsaStitchedName,
    mission_phase_for,
    mtp_number,
    parse_bern_name,
    parse_derived_name,
    parse_psa_framelet_name,
    parse_psa_stitched_name,
    stp_number,
)

DATA = Path(__file__).parent / "data"
REAL_BERN = [
    "CAS-MCO-2016-11-26T22.50.27.381-PAN-00005-B1",
    "CAS-MCO-2016-11-26T22.50.27.381-RED-01005-B1",
    "CAS-MCO-2016-11-26T22.50.27.381-NIR-02005-B1",
    "CAS-MCO-2016-11-26T22.50.27.381-BLU-03005-B1",
    "CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1",
    "CAS-MCO-2016-11-20T15.30.00.349-DMP-00000-00",
    "CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1",
]


@pytest.mark.parametrize("name", REAL_BERN)
def test_real_bern_names_round_trip(name: str) -> None:
    assert str(parse_bern_name(name)) == name
    assert str(parse_bern_name(name + ".xml")) == name


def test_bern_name_from_every_real_header(all_bern_labels: list[Path]) -> None:
    """window counter * 1000 + sequence counter, 0-based window (PAN 0 ... BLU 3)."""
    for path in all_bern_labels + [DATA / "pds4-exports" / (REAL_BERN[5] + ".xml")]:
        lab = read_bern_label(path)
        assert lab.acquisition_time is not None and lab.mission_phase and lab.filter
        assert lab.window_counter is not None and lab.sequence_counter is not None
        level = "00" if lab.filter == "DMP" else "B1"
        built = BernName(
            lab.mission_phase,
            lab.acquisition_time,
            lab.filter,
            lab.window_counter,
            lab.sequence_counter,
            level,
        )
        assert str(built) == lab.product_name == path.stem
        # the level suffix is the Bern processing directory the file was written to
        folder = lab.created_file_name.replace("\\", "/").split("/")[-2]  # type: ignore[union-attr]
        assert folder == {"B1": "level1b", "00": "level0"}[level]


def test_bern_name_fields() -> None:
    n = parse_bern_name("CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1")
    assert (n.phase, n.filter, n.window_counter, n.sequence_counter, n.level) == (
        "M01",
        "RED",
        1,
        29,
        "B1",
    )
    assert n.time == datetime(2018, 5, 5, 23, 11, 48, 767000, tzinfo=UTC)


def test_bern_time_floored_to_ms() -> None:
    t = datetime(2016, 11, 26, 22, 32, 14, 582100, tzinfo=UTC)  # SCLK conversion gives .5821
    assert str(BernName("MCO", t, "RED", 1, 0)) == "CAS-MCO-2016-11-26T22.32.14.582-RED-01000-B1"


@pytest.mark.parametrize(
    "bad",
    [
        "CAS-MCO-2016-11-26T22:50:27.381-PAN-00005-B1",
        "CAS-MCO-2016-11-26T22.50.27-PAN-00005-B1",
        "CAS-MCO-2016-11-26T22.50.27.381-PAN-0005-B1",
        "XAS-MCO-2016-11-26T22.50.27.381-PAN-00005-B1",
        "CAS-MCO-2016-13-26T22.50.27.381-PAN-00005-B1",
    ],
)
def test_bad_bern_names(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_bern_name(bad)


_times = st.datetimes(
    min_value=datetime(2016, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)


@given(
    phase=st.sampled_from(["MCO", "M01", "M41", "CRU"]),
    t=_times,
    filt=st.sampled_from(FILTER_ORDER),
    win=st.integers(0, 5),
    seq=st.integers(0, 255),
)
def test_bern_round_trip(phase: str, t: datetime, filt: str, win: int, seq: int) -> None:
    n = BernName(phase, t, filt, win, seq)
    back = parse_bern_name(str(n))
    assert back == n
    assert back.time <= t < back.time + timedelta(milliseconds=1)


PSA_RAW = "cas_raw_sc_20250416T233856-20250416T233900-33001-50-PAN-1409764716-29-0__4_0.dat"


def test_psa_raw_example() -> None:
    n = parse_psa_framelet_name(PSA_RAW)
    assert (n.level, n.orbit, n.observation_number, n.filter) == ("raw", 33001, 50, "PAN")
    assert (n.uid, n.sequence_counter, n.window_counter) == (1409764716, 29, 0)
    assert n.start == datetime(2025, 4, 16, 23, 38, 56, tzinfo=UTC)
    assert n.lid() == "cas_raw_sc_20250416t233856-20250416t233900-33001-50-pan-1409764716-29-0"
    assert n.file_stem() + "__4_0.dat" == PSA_RAW
    quick_start = "cas_raw_sc_20170305t234101-20170305t234105-50-16-ex1-102171730-32-5"
    assert parse_psa_framelet_name(quick_start).lid() == quick_start
    t = datetime(2025, 4, 16, 23, 38, 56, tzinfo=UTC)
    lower = PsaFrameletName("raw", t, t, 1, 2, "pan", 3, 4, 0)
    assert lower.filter == "PAN" and parse_psa_framelet_name(lower.lid()) == lower


@given(
    level=st.sampled_from(PSA_LEVELS),
    t=_times,
    dur=st.integers(0, 3600),
    orbit=st.integers(0, 99999),
    obs=st.integers(0, 99),
    filt=st.sampled_from(FILTER_ORDER),
    uid=st.integers(0, (1 << 31) - 1),
    seq=st.integers(0, 255),
    win=st.integers(0, 5),
)
def test_psa_framelet_round_trip(
    level: str, t: datetime, dur: int, orbit: int, obs: int, filt: str, uid: int, seq: int, win: int
) -> None:
    n = PsaFrameletName(level, t, t + timedelta(seconds=dur), orbit, obs, filt, uid, seq, win)
    assert parse_psa_framelet_name(n.lid()) == n
    assert parse_psa_framelet_name(n.file_stem() + ".xml") == n
    assert abs((n.start - t).total_seconds()) <= 0.5


def test_psa_stitched_example() -> None:
    lid = "cas_cal_sc_20210607t003104-20210607t003118-pan-837628000-sti"
    n = parse_psa_stitched_name("urn:esa:psa:em16_tgo_cas:data_calibrated:" + lid)
    assert (n.level, n.filter, n.uid) == ("cal", "PAN", 837628000)
    assert str(n) == lid
    start = datetime(2021, 6, 7, 0, 31, 3, 723000, tzinfo=UTC)  # the derived label's start
    assert str(PsaStitchedName("cal", start, n.stop, "PAN", 837628000)) == lid


@given(
    level=st.sampled_from(PSA_LEVELS),
    t=_times,
    filt=st.sampled_from(FILTER_ORDER),
    uid=st.integers(0, (1 << 31) - 1),
)
def test_psa_stitched_round_trip(level: str, t: datetime, filt: str, uid: int) -> None:
    n = PsaStitchedName(level, t, t + timedelta(seconds=20), filt, uid)
    assert parse_psa_stitched_name(str(n)) == n


def test_derived_names() -> None:
    n = parse_derived_name("MY36_015782_024_0_PAN")
    assert n == DerivedName(parse_observation_id("MY36_015782_024_0"), "PAN")
    assert str(n) == "MY36_015782_024_0_PAN"
    lid = "urn:esa:psa:em16_tgo_cas:data_derived:my36_015782_024_0_pan"
    assert parse_derived_name(lid) == n
    assert parse_derived_name("MY36_015782_024_0_PAN_cropped.xml".replace("_cropped", "")) == n
    bern = parse_derived_name("CAS_DER_MY36_015782_024_0_PAN_837628000")
    assert bern.uid == 837628000 and str(bern) == "MY36_015782_024_0_PAN_837628000"
    with pytest.raises(ValueError):
        parse_derived_name("MY36_015782_024_PAN")


@given(
    period=st.integers(0, 7),
    orbit=st.integers(0, (1 << 17) - 1),
    phase=st.integers(0, 511),
    kind=st.integers(0, 3),
    filt=st.sampled_from(FILTER_ORDER),
)
def test_derived_round_trip(period: int, orbit: int, phase: int, kind: int, filt: str) -> None:
    n = DerivedName(ObservationId(period, orbit, phase, kind), filt)
    assert parse_derived_name(str(n)) == n
    assert parse_derived_name(str(n).lower()) == n


def test_mission_phase_from_date() -> None:
    assert mission_phase_for(datetime(2016, 11, 26, 22, 50, 27)) == "MCO"
    assert mission_phase_for(datetime(2016, 11, 20, 15, 30, tzinfo=UTC)) == "MCO"
    assert mission_phase_for(datetime(2018, 5, 5, 23, 11, 48, tzinfo=UTC)) == "M01"
    # PSA derived label: 2021-06-07 has mtp M041 and stp 164
    t = datetime(2021, 6, 7, 0, 31, 3, tzinfo=UTC)
    assert mtp_number(t) == 41 and stp_number(t) == 164 and mission_phase_for(t) == "M41"
    # the 2018 framelet was processed under ...\M01\180505_stp003_boot1\...
    assert stp_number(datetime(2018, 5, 5, tzinfo=UTC)) == 3
    assert mtp_number(datetime(2018, 5, 19, tzinfo=UTC)) == 2  # fmp_002 kernel starts 05-19
    for t in (datetime(2016, 6, 1, tzinfo=UTC), datetime(2017, 8, 1, tzinfo=UTC)):
        assert mission_phase_for(t) is None
