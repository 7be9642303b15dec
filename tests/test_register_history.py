"""Offset history CSV: insert/replace per observation, sorted rows, concurrent writers."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest

from cassis_pipe import __version__
from cassis_pipe.register.history import (
    COLUMNS,
    HistoryError,
    OffsetRecord,
    read_history,
    record_offset,
)


def _rec(obs: str, utc: str, offset: float = 0.3, cost: float = 0.01) -> OffsetRecord:
    return OffsetRecord(obs, utc, 100.228, offset, cost, 9)


def test_columns_match_record_fields() -> None:
    assert tuple(_rec("a", "b").as_row()) == COLUMNS


def test_append_is_idempotent_and_sorted(tmp_path: Path) -> None:
    path = tmp_path / "hist" / "offsets.csv"
    assert read_history(path) == []
    record_offset(path, _rec("MY36_015782_024_0", "2021-06-07T00:31:03.723"))
    record_offset(path, _rec("MY34_002002_211_2", "2018-05-12T10:00:00.000", -0.123456789012))
    first = path.read_bytes()
    # same observation again: replaced, not duplicated; file byte-identical
    record_offset(path, _rec("MY34_002002_211_2", "2018-05-12T10:00:00.000", -0.123456789012))
    assert path.read_bytes() == first
    rows = read_history(path)
    assert [r.observation_id for r in rows] == ["MY34_002002_211_2", "MY36_015782_024_0"]
    assert rows[0].offset_deg == -0.123456789012          # floats round-trip exactly
    assert rows[0].software_version == __version__
    # a re-processing with a new value replaces the row
    record_offset(path, _rec("MY34_002002_211_2", "2018-05-12T10:00:00.000", 0.25, 0.002))
    rows = read_history(path)
    assert len(rows) == 2 and rows[0].offset_deg == 0.25 and rows[0].cost_px2 == 0.002
    assert path.read_text().splitlines()[0] == ",".join(COLUMNS)
    assert not list(path.parent.glob("*.tmp"))


def test_bad_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "offsets.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(HistoryError, match="header"):
        read_history(path)
    path.write_text(",".join(COLUMNS) + "\nX,2020,notanumber,0,0,1,v\n")
    with pytest.raises(HistoryError):
        record_offset(path, _rec("Y", "2021"))
    assert "notanumber" in path.read_text()               # left untouched


def _writer(args: tuple[str, int]) -> None:
    path, k = args
    for j in range(5):
        record_offset(path, _rec(f"OBS_{k:02d}_{j}", f"2020-01-{k + 1:02d}T00:00:0{j}",
                                 0.01 * k + 0.001 * j))


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "offsets.csv")
    with mp.get_context("fork").Pool(4) as pool:
        pool.map(_writer, [(path, k) for k in range(8)])
    rows = read_history(path)
    assert len(rows) == 40
    assert len({r.observation_id for r in rows}) == 40
    keys = [(r.utc, r.observation_id) for r in rows]
    assert keys == sorted(keys)
