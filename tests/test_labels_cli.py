"""``cassis-pipe label`` run in-process on every real label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cassis_pipe.cli import main

DATA = Path(__file__).parent / "data"
ALL_LABELS = sorted(p for p in DATA.rglob("*.xml"))


def test_every_real_label_is_listed() -> None:
    assert len(ALL_LABELS) == 9


@pytest.mark.parametrize("path", ALL_LABELS, ids=lambda p: p.name[:40])
def test_json(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["label", str(path), "--json"]) == 0
    out = capsys.readouterr().out
    d = json.loads(out)
    assert d["source"] == path.name
    assert d["kind"] in ("bern", "pds4")
    assert d["array"]["shape"]
    assert all(isinstance(n, int) for n in d["array"]["shape"])
    if d["kind"] == "bern":
        assert isinstance(d["uid"], int) and d["product_name"] == path.stem
        assert d["acquisition_time"].endswith("Z") and "T" in d["acquisition_time"]
        assert isinstance(d["fsw_header"], dict) and d["fsw_header"]["FRAME_HEADER"] == "250B"
    else:
        assert d["logical_identifier"].startswith("urn:esa:psa:em16_tgo_cas:")
        assert d["observation_id"] is None or d["observation_id"] == d["alternate_id"]


def test_json_values_are_typed(capsys: pytest.CaptureFixture[str]) -> None:
    path = DATA / "compressed" / "CAS-M01-2018-05-05T23.11.48.767-RED-01029-B1.xml"
    assert main(["label", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["observation_id"] == "MY34_002002_211_2"
    assert d["rotation_deg"] == pytest.approx(100.228)
    assert d["exposure_time_s"] == pytest.approx(1.488e-3)
    assert d["acquisition_time"] == "2018-05-05T23:11:48.767Z"
    assert d["window"] == {
        "index": 2,
        "start_row": 712,
        "end_row": 967,
        "start_col": 128,
        "end_col": 1919,
        "binning": 0,
        "rows": 256,
        "cols": 1792,
    }
    assert d["array"]["dtype"] == "float32" and d["array"]["byte_order"] == "little"
    assert d["geometry"]["corner_lat_deg"][0] == pytest.approx(-28.823855)


@pytest.mark.parametrize("path", ALL_LABELS, ids=lambda p: p.name[:40])
def test_summary(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["label", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(path.name) and "array" in out
    assert len(out.splitlines()) <= 12


def test_bad_label_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "broken.xml"
    bad.write_text("<Product_Observational><oops></Product_Observational>")
    assert main(["label", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "broken.xml" in err and "malformed" in err


def test_hostile_label_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = tmp_path / "evil.xml"
    evil.write_text('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>')
    assert main(["label", str(evil), "--json"]) == 2
    cap = capsys.readouterr()
    assert cap.out == "" and "evil.xml" in cap.err and "unsafe" in cap.err


def test_out_of_range_uid_does_not_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = tmp_path / "odd.xml"
    odd.write_text(
        '<Product_Observational><CaSSIS_Header><FSW_HEADER UID="99999999999"/>'
        "</CaSSIS_Header></Product_Observational>"
    )
    assert main(["label", str(odd), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["uid"] == 99999999999 and d["observation_id"] is None and d["array"] is None
