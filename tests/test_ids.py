"""UID <-> observation id: real values, ISIS's test values, property round trips."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.labels.ids import (
    MAX_ORBIT,
    MAX_PHASE,
    ObservationId,
    observation_id_string,
    observation_id_to_uid,
    orbit_phase_from_latitude,
    parse_observation_id,
    uid_to_observation_id,
)
from cassis_pipe.labels.pds4 import read_pds4_label

DATA = Path(__file__).parent / "data"

KNOWN = [
    (272536398, "MY34_002002_211_2"),  # compressed 2018 framelet / its rdrgen export alias
    (837628000, "MY36_015782_024_0"),  # PSA derived product (observation_identifier)
    (100799268, "CRUS_049218_201_0"),  # 2016 MCO level-1b UID, as ISIS's own test expects
    (1409764716, "MY38_033001_347_0"),  # 2025 PSA raw name: orbit field 33001 in the LID
]


@pytest.mark.parametrize(("uid", "obs"), KNOWN)
def test_known_uids(uid: int, obs: str) -> None:
    assert observation_id_string(uid) == obs
    assert observation_id_to_uid(obs) == uid
    assert observation_id_to_uid(parse_observation_id(obs)) == uid


def test_fields_and_years() -> None:
    o = uid_to_observation_id(272536398)
    assert (o.period, o.orbit, o.phase, o.image_type) == (1, 2002, 211, 2)
    assert o.period_name == "MY34" and o.mars_year == 34
    assert uid_to_observation_id(100799268).mars_year is None
    assert str(ObservationId(7, 1, 2, 3)) == "TEST_000001_002_3"


def test_non_mars_target_phase_900() -> None:
    """ISIS writes phase 900 for non-Mars targets (the DMP star observation)."""
    dmp = read_bern_label(
        DATA / "pds4-exports" / "CAS-MCO-2016-11-20T15.30.00.349-DMP-00000-00.xml"
    )
    assert dmp.uid is not None and dmp.target == "Pi2 Orionis"
    assert observation_id_string(dmp.uid, on_mars=False) == "CRUS_049184_900_0"
    with pytest.raises(ValueError, match="cannot be encoded"):
        observation_id_to_uid("CRUS_049184_900_0")


def test_real_labels_agree_with_their_aliases() -> None:
    psa = read_pds4_label(DATA / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml")
    assert psa.observation_uid is not None
    assert observation_id_string(psa.observation_uid) == psa.alternate_id
    for name in ("_rdrgen.xml", "_proj_rdrgen.xml"):
        exp = read_pds4_label(
            DATA / "pds4-exports" / f"CAS-MCO-2016-11-26T22.50.30.181-RED-01012-B1{name}"
        )
        assert exp.alternate_id == observation_id_string(272536398)


def test_orbit_phase_is_degrees_from_ascending_node() -> None:
    """The UID phase equals the argument of latitude of the boresight point to ~1 deg."""
    comp = read_bern_label(DATA / "compressed" / "CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1.xml")
    g = comp.geometry
    assert g.sub_cassis_lat_deg is not None and g.ground_track_vector_km_s is not None
    descending = g.ground_track_vector_km_s[2] < 0  # moving south in Mars-fixed z
    assert descending
    u = orbit_phase_from_latitude(g.sub_cassis_lat_deg, ascending=not descending)
    assert comp.uid is not None
    assert abs(uid_to_observation_id(comp.uid).phase - u) < 2.0

    psa = read_pds4_label(DATA / "psa-derived" / "MY36_015782_024_0_PAN_cropped.xml")
    c = psa.cartography
    assert c is not None and c.north_lat_deg is not None and c.south_lat_deg is not None
    lat0 = 22.312523  # sub_cassis_latitude in the label; ASCENDING per the same label
    assert c.south_lat_deg < lat0 < c.north_lat_deg
    assert psa.observation_uid is not None
    u = orbit_phase_from_latitude(lat0, ascending=True)
    assert abs(uid_to_observation_id(psa.observation_uid).phase - u) < 2.0


@given(st.integers(0, (1 << 31) - 1))
def test_uid_round_trip(uid: int) -> None:
    obs = uid_to_observation_id(uid)
    assert observation_id_to_uid(obs) == uid
    assert parse_observation_id(str(obs)) == obs


@given(st.integers(0, 7), st.integers(0, MAX_ORBIT), st.integers(0, MAX_PHASE), st.integers(0, 3))
def test_fields_round_trip(period: int, orbit: int, phase: int, image_type: int) -> None:
    obs = ObservationId(period, orbit, phase, image_type)
    uid = observation_id_to_uid(obs)
    assert 0 <= uid < 1 << 31
    assert uid_to_observation_id(uid) == obs


def test_bit31_ignored() -> None:
    assert uid_to_observation_id(272536398 | 1 << 31) == uid_to_observation_id(272536398)


@pytest.mark.parametrize(
    "bad", ["MY33_000001_001_0", "MY34_00001_001_0", "MY34_000001_01_0", "MY34_000001_001_4", ""]
)
def test_bad_strings(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_observation_id(bad)


@pytest.mark.parametrize(
    "fields", [(8, 0, 0, 0), (0, MAX_ORBIT + 1, 0, 0), (0, 0, 512, 0), (0, 0, 0, 4), (-1, 0, 0, 0)]
)
def test_bad_fields(fields: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        ObservationId(*fields)


@pytest.mark.parametrize("uid", [-1, 1 << 32])
def test_bad_uid(uid: int) -> None:
    with pytest.raises(ValueError):
        uid_to_observation_id(uid)
