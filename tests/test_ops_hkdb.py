"""HK database on SQLite and on a real PostgreSQL server (same tests, parametrised): every frame
stored exactly once, queries, daily statistics, limit episodes, gaps, TC history, hostile input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ops_support import (
    DATA,
    KERNELS,
    T0,
    drop,
    frame_obt,
    inject,
    sim_hk,
)

from cassis_pipe.ops.clock import Clock, parse_time
from cassis_pipe.ops.hkdb import load_hk, load_tc, open_db, table_of
from cassis_pipe.ops.hkframes import (
    TYPE_CHANNELS,
    HkDbError,
    decode_hk_arrays,
    load_limits,
    resolve_channel,
)
from cassis_pipe.ops.hkquery import (
    channel_limits,
    count_frames,
    daily_stats,
    frame_bounds,
    gaps,
    series,
    tc_history,
    violations,
)
from cassis_pipe.telemetry.hk import HK_FIELDS, decode_hk, encode_hk, read_hk_stream
from cassis_pipe.telemetry.timecode import timecode_to_utc

pytest_plugins = ["ops_fixtures"]  # fixtures pg_admin, db_url


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock(KERNELS / "em16_tgo_step_20190823.tsc", KERNELS / "naif0012.tls")


@pytest.fixture(scope="module")
def hk() -> bytes:
    return sim_hk(10.0)


def _by_type(data: bytes) -> dict[int, list]:
    out: dict[int, list] = {}
    for f in read_hk_stream(data).frames:
        out.setdefault(f.type, []).append(f)
    return out


def test_every_frame_stored_exactly_once(db_url: str, clock: Clock, hk: bytes) -> None:
    expected = _by_type(hk)
    assert len(expected) == 7  # the simulator writes all seven HK types
    with open_db(db_url) as db:
        first = load_hk(db, hk, clock, "hk.bin")
        assert first["frames"] == first["inserted"] == len(hk) // 64
        again = load_hk(db, hk, clock, "hk.bin")
        assert again["inserted"] == 0 and again["duplicates"] == first["frames"]
        # an overlapping later downlink: the second half again plus 60 s of new frames
        later = sim_hk(11.0)[len(hk) // 2:]
        third = load_hk(db, later, clock, "later.bin")
        assert 0 < third["inserted"] < third["frames"]
        union = {f[:64] for f in (hk[i:i + 64] for i in range(0, len(hk), 64))}
        union |= {later[i:i + 64] for i in range(0, len(later), 64)}
        assert sum(count_frames(db, t) for t in HK_FIELDS) == len(union)
        # every byte of every frame is in the database: re-encode each stored row
        for t, chans in TYPE_CHANNELS.items():
            cols = ", ".join(c.column for c in chans)
            rows = db.query(f"SELECT tc, {cols} FROM {table_of(t)} ORDER BY tc")
            stored = {encode_hk(t, tc % (1 << 64), {c.field: v % (1 << 64) for c, v in
                                                     zip(chans, vals, strict=True)})
                      for tc, *vals in rows}
            assert stored == {f for f in union if f[1] == t}


def test_series_and_daily_statistics_across_midnight(db_url: str, clock: Clock) -> None:
    midnight = clock.day_bounds("2019-05-15")[1]  # OBT of 2019-05-16T00:00:00 UTC
    data = sim_hk(12.0, t0=midnight - 300.0)
    ch = resolve_channel("PT_FPA_1")
    want = [(frame_obt(f.timestamp), f.fields["PT_FPA_1"].raw,
             timecode_to_utc(f.timestamp.to_bytes(8, "big"), clock.sclk, clock.lsk)[:10])
            for f in _by_type(data)[0]]
    with open_db(db_url) as db:
        load_hk(db, data, clock)
        obt, vals = series(db, ch, want[10][0], want[20][0])
        assert obt.tolist() == [w[0] for w in want[10:21]] and vals == [w[1] for w in want[10:21]]
        stats = daily_stats(db, ch, "2019-05-15", "2019-05-16")
    assert [s["day"] for s in stats] == ["2019-05-15", "2019-05-16"]
    for s in stats:
        v = np.array([w[1] for w in want if w[2] == s["day"]])
        assert s["n"] == v.size > 0
        assert (s["min"], s["max"]) == (v.min(), v.max())
        assert s["mean"] == pytest.approx(v.mean(), rel=1e-12)


def test_daily_aggregates_follow_later_loads(db_url: str, clock: Clock, hk: bytes) -> None:
    ch = resolve_channel("temperature_1.PT_MOT_1")
    hot = inject(hk, 0, "PT_MOT_1", T0 + 250, T0 + 252, 4000)
    half = len(hot) // 2 // 64 * 64
    with open_db(db_url) as db:
        load_hk(db, hot[:half], clock)
        before = daily_stats(db, ch, "2019-05-15", "2019-05-15")[0]
        load_hk(db, hot[half:], clock)
        after = daily_stats(db, ch, "2019-05-15", "2019-05-15")[0]
    assert before["max"] < 4000 and after["max"] == 4000
    assert after["n"] == len(_by_type(hk)[0])


def test_limit_episodes(db_url: str, clock: Clock, hk: bytes) -> None:
    data = inject(hk, 0, "PT_FPA_1", T0 + 100, T0 + 104, 2900)  # hard high is 2870
    data = inject(data, 0, "PT_FPA_1", T0 + 300, T0 + 302, 2840)  # soft only (2830 < x < 2870)
    ch = resolve_channel("PT_FPA_1")
    with open_db(db_url, load_limits()) as db:
        load_hk(db, data, clock)
        lim = channel_limits(db)[ch.name]
        eps = violations(db, ch, lim, *frame_bounds(db, 0))
        clean = violations(db, resolve_channel("PT_DPM"), channel_limits(db)[
            "temperature_1.PT_DPM"], *frame_bounds(db, 0))
    assert [(e.level, e.samples, e.worst) for e in eps] == [("hard", 5, 2900), ("soft", 3, 2840)]
    assert (eps[0].start, eps[0].end) == (T0 + 100, T0 + 104)
    assert clean == []


def test_gaps_in_the_1hz_series(db_url: str, clock: Clock, hk: bytes) -> None:
    holey = drop(hk, T0 + 200, T0 + 229)
    with open_db(db_url) as db:
        load_hk(db, holey, clock)
        b = frame_bounds(db, 0)
        found = gaps(db, 0, *b)
        edges = gaps(db, 0, b[0] - 10, b[1])
    assert [(g["after_obt"], g["before_obt"], g["duration_s"]) for g in found] == [
        (T0 + 199, T0 + 230, 31.0)]
    assert edges[0]["duration_s"] == 10.0 and len(edges) == 2


def test_corrupt_input_counted_and_rest_stored(db_url: str, clock: Clock, hk: bytes) -> None:
    bad = bytearray(hk)
    bad[64 * 5 + 20] ^= 0x40  # CRC failure in frame 5
    bad += b"\x00garbage"
    with open_db(db_url) as db:
        r = load_hk(db, bytes(bad), clock, "bad.bin")
        stored = sum(count_frames(db, t) for t in HK_FIELDS)
        logged = db.query("SELECT frames, inserted, reject_spans, reject_bytes FROM hk_load")
    assert r["frames"] == stored == len(hk) // 64 - 1
    assert [x["reason"] for x in r["rejects"]] == ["bad CRC", "garbage"]
    assert r["reject_bytes"] == 64 + 8
    assert logged == [(stored, stored, 2, 72)]


def test_time_codes_without_p_field_stored_but_timeless(db_url: str, clock: Clock,
                                                        hk: bytes) -> None:
    odd = [encode_hk(0, (p << 56) | (int(T0) << 24), {"PT_DPM": 1}) for p in (0x00, 0x30, 0xFF)]
    with open_db(db_url) as db:
        r = load_hk(db, hk + b"".join(odd), clock)
        bounds = frame_bounds(db, 0)
        n = count_frames(db, 0)
        in_range = series(db, resolve_channel("PT_DPM"), *bounds)[0].size
    assert r["bad_timecode"] == 3 and r["inserted"] == len(hk) // 64 + 3
    assert bounds == (T0 - 12, T0 + 365) and n == in_range + 3


def test_eight_byte_values_round_trip(db_url: str, clock: Clock, hk: bytes) -> None:
    data = inject(hk, 0x10, "SC_LSENT_ITAG", T0, T0 + 2, (1 << 64) - 1)
    ch = resolve_channel("SC_LSENT_ITAG")
    with open_db(db_url) as db:
        load_hk(db, data, clock)
        _, vals = series(db, ch, T0, T0 + 3)
    assert vals[:3] == [(1 << 64) - 1] * 3 and vals[3] == 0


def test_tc_history_loaded_once(db_url: str) -> None:
    tc = (DATA / "ops_sim" / "tc.bin").read_bytes()
    with open_db(db_url) as db:
        assert load_tc(db, tc)["inserted"] == 4
        assert load_tc(db, tc)["inserted"] == 0
        hist = tc_history(db)
    assert [h["name"] for h in hist] == ["move_motor_absolute", "take_image",
                                         "set_parameter_table", "set_tm_rate"]
    assert hist[0]["obt"] < hist[1]["obt"]


def test_hostile_names_and_times_refused(db_url: str, clock: Clock, hk: bytes) -> None:
    with open_db(db_url) as db:
        load_hk(db, hk, clock)
        n = count_frames(db, 0)
        for name in ("x'; DROP TABLE hk_temperature_1;--", "PT_FPA_1; DELETE FROM hk_daily",
                     "f_pt_fpa_1", "hk_temperature_1.tc", ""):
            with pytest.raises(HkDbError, match="unknown HK channel"):
                resolve_channel(name)
        for t in ("1' OR '1'='1", "obt:1e8; DROP TABLE x", "2019-05-15'--", "obt:nan"):
            with pytest.raises(HkDbError):
                parse_time(t, clock)
        assert count_frames(db, 0) == n


def test_array_decoder_matches_stream_reader(hk: bytes) -> None:
    fast = decode_hk_arrays(hk)
    bad = bytearray(hk)
    bad[100] ^= 1
    slow = decode_hk_arrays(bytes(bad))  # the stream reader's path
    assert slow.rejects == [{"offset": 64, "length": 64, "reason": "bad CRC"}]
    for t, frames in _by_type(hk).items():
        b = fast.batches[t]
        assert b.tc.tolist() == [f.timestamp for f in frames]
        for c in TYPE_CHANNELS[t]:
            assert [v % (1 << 64) for v in b.columns[c.column].tolist()] == [
                f.fields[c.field].raw for f in frames]
        keep = np.isin(b.tc, slow.batches[t].tc)
        assert np.array_equal(slow.batches[t].columns[c.column], b.columns[c.column][keep])
    assert decode_hk(hk[:64]).type == 0


def test_limits_table_validated(tmp_path: Path) -> None:
    p = tmp_path / "lim.yaml"
    p.write_text("PT_FPA_1: {soft: [10, 20], hard: [12, 30]}\n")
    with pytest.raises(HkDbError, match="hard_low <= soft_low"):
        load_limits(p)
    p.write_text("NOT_A_CHANNEL: {soft: [1, 2]}\n")
    with pytest.raises(HkDbError, match="unknown HK channel"):
        load_limits(p)
    assert load_limits()["temperature_1.PT_FPA_1"].hard_high == 2870
