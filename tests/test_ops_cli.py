"""`cassis-pipe hk ...` on SQLite and on a real PostgreSQL server: load (idempotent), query,
daily statistics, limits, gaps, the config's default database, hostile channel names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ops_support import (
    DATA,
    T0,
    drop,
    inject,
    sim_hk,
    write_ops_config,
)

from cassis_pipe.cli import main
from cassis_pipe.ops.hkdb import open_db
from cassis_pipe.ops.hkquery import count_frames
from cassis_pipe.telemetry.hk import HK_FIELDS

pytest_plugins = ["ops_fixtures"]  # fixtures pg_admin, db_url


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> tuple[Path, str]:
    """(ops config, database URL) with an HK file holding a hard episode and a gap."""
    url = db_url
    hk = inject(sim_hk(10.0), 0, "PT_FPA_1", T0 + 100, T0 + 104, 2900)
    (tmp_path / "hk.bin").write_bytes(drop(hk, T0 + 200, T0 + 229))
    cfg = write_ops_config(tmp_path, url, tmp_path / "results")
    return cfg, url


def _run(capsys: pytest.CaptureFixture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_load_twice_stores_once(env: tuple[Path, str], capsys: pytest.CaptureFixture) -> None:
    cfg, url = env
    hk, tc = str(cfg.parent / "hk.bin"), str(DATA / "ops_sim" / "tc.bin")
    n = (cfg.parent / "hk.bin").stat().st_size // 64
    code, out, _ = _run(capsys, "hk", "load", hk, tc, "--db", url, "--config", str(cfg))
    assert code == 0 and f"hk {n} valid frames, {n} new, 0 already stored" in out
    assert "tc 4 valid frames, 4 new" in out
    code, out, _ = _run(capsys, "hk", "load", hk, tc, "--db", url, "--config", str(cfg))
    assert code == 0 and f"{n} valid frames, 0 new, {n} already stored" in out
    with open_db(url, read_only=True) as db:
        assert sum(count_frames(db, t) for t in HK_FIELDS) == n


def test_query_stats_limits_gaps(env: tuple[Path, str], capsys: pytest.CaptureFixture) -> None:
    cfg, url = env
    c = ["--config", str(cfg)]  # the database comes from the config here
    assert _run(capsys, "hk", "load", str(cfg.parent / "hk.bin"), *c)[0] == 0
    code, out, _ = _run(capsys, "hk", "query", "PT_FPA_1", "--from", "obt:100000099.5",
                        "--to", "obt:100000105.5", *c, "--json")
    rows = json.loads(out)["rows"]
    assert code == 0 and [r["value"] for r in rows][:5] == [2900] * 5 and len(rows) == 6
    assert rows[5]["value"] < 2830 and rows[0]["utc"] == "2019-05-15T07:20:34.834"
    code, out, _ = _run(capsys, "hk", "query", "temperature_1.PT_FPA_1", "--stats", "daily", *c,
                        "--json")
    (day,) = json.loads(out)["rows"]
    assert day["day"] == "2019-05-15" and day["max"] == 2900 and day["n"] == 378 - 30
    code, out, _ = _run(capsys, "hk", "limits", *c)
    assert code == 1 and "temperature_1.PT_FPA_1: hard 2019-05-15T07:20:34.834" in out
    assert "1 out-of-limit episode(s)" in out
    code, out, _ = _run(capsys, "hk", "limits", "--channel", "PT_DPM", *c)
    assert code == 0 and "0 out-of-limit" in out
    code, out, _ = _run(capsys, "hk", "gaps", *c, "--json")
    (gap,) = json.loads(out)
    assert code == 1 and gap["duration_s"] == 31.0
    code, out, _ = _run(capsys, "hk", "gaps", "--type", "pe_hk", "--from", "obt:100000000",
                        "--to", "obt:100000100", *c)
    assert code == 0 and "0 gap(s) in pe_hk" in out


def test_hostile_channel_names_and_times(env: tuple[Path, str],
                                         capsys: pytest.CaptureFixture) -> None:
    cfg, url = env
    c = ["--config", str(cfg)]
    assert _run(capsys, "hk", "load", str(cfg.parent / "hk.bin"), *c)[0] == 0
    for name in ("x'; DROP TABLE hk;--", "PT_FPA_1 OR 1=1", "hk_temperature_1"):
        code, out, err = _run(capsys, "hk", "query", name, *c)
        assert code == 2 and "unknown HK channel" in err and out == ""
        code, _, err = _run(capsys, "hk", "limits", "--channel", name, *c)
        assert code == 2 and "unknown HK channel" in err
    for t in ("1' OR '1'='1", "obt:1;DROP TABLE hk_daily", "2019-13-45"):
        code, _, err = _run(capsys, "hk", "query", "PT_FPA_1", "--from", t, *c)
        assert code == 2 and "time" in err
    with open_db(url, read_only=True) as db:
        assert count_frames(db, 0) == 378 - 30
        assert db.query("SELECT count(*) FROM hk_daily")[0][0] > 0


def test_unreadable_input_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code, _, err = _run(capsys, "hk", "load", str(tmp_path / "missing.bin"), "--db",
                        str(tmp_path / "x.sqlite"))
    assert code == 2 and "missing.bin" in err
    code, _, err = _run(capsys, "hk", "query", "PT_FPA_1", "--db", str(tmp_path / "none.sqlite"))
    assert code == 2 and "does not exist" in err
