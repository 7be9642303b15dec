"""CLI refusals: wrong stream kind, a data file given as a label, time with packaged kernels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cassis_pipe.cli import main
from cassis_pipe.instrument.constants import DEFAULT_LSK as PACKAGED_LSK
from cassis_pipe.instrument.constants import DEFAULT_SCLK as PACKAGED_SCLK
from cassis_pipe.labels.xmlsafe import MAX_LABEL_BYTES
from cassis_pipe.telemetry import hostile
from cassis_pipe.telemetry.hk import encode_hk
from cassis_pipe.telemetry.tc import encode_tc, take_image

DATA = Path(__file__).parent / "data"


@pytest.fixture()
def science_file(tmp_path: Path) -> Path:
    path = tmp_path / "science.bin"
    path.write_bytes(hostile.clean_science(3000, frame_data=500))
    return path


@pytest.mark.parametrize("kind", ["tc", "hk"])
def test_frames_wrong_kind_fails_and_names_the_right_one(
        science_file: Path, kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frames", str(science_file), "--kind", kind]) == 1
    err = capsys.readouterr().err
    assert f"no valid {kind} frame" in err and "--kind science" in err


def test_frames_wrong_kind_json_still_prints_report(
        science_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frames", str(science_file), "--kind", "tc", "--json"]) == 1
    cap = capsys.readouterr()
    assert json.loads(cap.out)["valid"] == 0 and "no valid tc frame" in cap.err


def test_frames_right_kinds_succeed(tmp_path: Path, science_file: Path) -> None:
    tc, hk = tmp_path / "tc.bin", tmp_path / "hk.bin"
    tc.write_bytes(encode_tc(take_image(5, 1)) * 3)
    hk.write_bytes(encode_hk(1, 1, {}) * 2)
    assert main(["frames", str(science_file), "--kind", "science"]) == 0
    assert main(["frames", str(tc), "--kind", "tc"]) == 0
    assert main(["frames", str(hk), "--kind", "hk"]) == 0
    assert main(["frames", str(tc), "--kind", "hk"]) == 1


def test_frames_empty_and_noise(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty, noise = tmp_path / "empty.bin", tmp_path / "noise.bin"
    empty.write_bytes(b"")
    noise.write_bytes(hostile.random_sync_rich(5000, sync=0xF0))
    assert main(["frames", str(empty)]) == 1
    assert "empty file" in capsys.readouterr().err
    assert main(["frames", str(noise), "--kind", "tc"]) == 1
    assert "not a science, TC or HK stream" in capsys.readouterr().err


def test_label_on_data_file(capsys: pytest.CaptureFixture[str]) -> None:
    dat = next((DATA / "level1b").glob("*.dat"))
    assert main(["label", str(dat)]) == 2
    err = capsys.readouterr().err
    assert f"{dat.name}: not an XML label" in err and "larger than" not in err


def test_label_on_big_data_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The report: a .dat over the label size limit was called an oversize label."""
    dat = tmp_path / "big.dat"
    with dat.open("wb") as fh:
        fh.write(b"\x07\x00" * 8)
        fh.truncate(MAX_LABEL_BYTES + 1)
    assert main(["label", str(dat)]) == 2
    assert "not an XML label" in capsys.readouterr().err


def test_label_with_bom_still_read(tmp_path: Path) -> None:
    src = next((DATA / "level1b").glob("*.xml"))
    copy = tmp_path / src.name
    copy.write_bytes(b"\xef\xbb\xbf" + src.read_bytes().lstrip())
    assert main(["label", str(copy)]) == 0


def test_time_uses_packaged_kernels(capsys: pytest.CaptureFixture[str]) -> None:
    assert PACKAGED_SCLK.is_file() and PACKAGED_LSK.is_file()
    assert main(["time", "2f01543131b1aa13"]) == 0
    assert capsys.readouterr().out == "2016-11-26T22:32:14.582\n"


def test_time_explicit_kernel_still_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["time", "2f01543131b1aa13", "--lsk", "missing.tls"]) == 2
    assert "not found" in capsys.readouterr().err
