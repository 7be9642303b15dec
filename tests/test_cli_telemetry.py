"""``cassis-pipe time`` and ``cassis-pipe frames`` run in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cassis_pipe.cli import main
from cassis_pipe.telemetry.science import ScienceFrame, encode_science_frame


def _frame(uid: int, data: bytes) -> bytes:
    return encode_science_frame(
        ScienceFrame(
            timestamp=bytes.fromhex("2f040866b2fbb809"),
            uid=uid,
            window=1,
            sequence=29,
            compression=520,
            compression_len=2,
            total_length=len(data),
            offset=0,
            type=0,
            error=0,
            position_mdeg=100228,
            exposure_timestamp=bytes.fromhex("2f04085de6618507"),
            pehk=bytes(64),
            data=data,
        )
    )


@pytest.fixture()
def stream_file(tmp_path: Path) -> tuple[Path, int, int]:
    a, b = _frame(272536398, b"\x01" * 100), _frame(272536399, b"\x02" * 50)
    path = tmp_path / "science.bin"
    path.write_bytes(a + b"GARBAGE" + b)
    return path, len(a), len(b)


def test_time_command(kernels_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["time", "2f01543131b1aa13", "--sclk", str(kernels_dir / "em16_tgo_step_20190823.tsc")]
    assert main([*args, "--lsk", str(kernels_dir / "naif0012.tls")]) == 0
    assert capsys.readouterr().out == "2016-11-26T22:32:14.582\n"


def test_time_command_errors(kernels_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lsk = str(kernels_dir / "naif0012.tls")
    sclk = str(kernels_dir / "em16_tgo_step_20190823.tsc")
    assert main(["time", "0001543131b1aa13", "--sclk", sclk, "--lsk", lsk]) == 2
    assert "P-field" in capsys.readouterr().err
    assert main(["time", "2f01543131b1aa13", "--sclk", "missing.tsc", "--lsk", lsk]) == 2
    assert "not found" in capsys.readouterr().err


def test_frames_json(stream_file, capsys: pytest.CaptureFixture[str]) -> None:
    path, la, lb = stream_file
    assert main(["frames", str(path), "--kind", "science", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["valid"] == 2
    assert out["rejected"] == [{"offset": la, "length": 7, "reason": "garbage"}]
    first, second = out["frames"]
    assert (first["uid"], first["window"], first["sequence"]) == (272536398, 1, 29)
    assert (first["file_offset"], first["length"], first["md5_ok"]) == (0, la, True)
    assert (first["offset"], first["data_length"]) == (0, 100)
    assert (second["uid"], second["file_offset"], second["length"]) == (272536399, la + 7, lb)


def test_frames_human(stream_file, capsys: pytest.CaptureFixture[str]) -> None:
    path, la, _ = stream_file
    assert main(["frames", str(path), "--kind", "science"]) == 0
    out = capsys.readouterr().out
    assert "2 valid frames, 1 rejected spans (7 bytes)" in out
    assert f"reject at byte {la}, 7 bytes: garbage" in out


def test_frames_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frames", str(tmp_path / "nope.bin"), "--kind", "science"]) == 2
    assert "nope.bin" in capsys.readouterr().err
