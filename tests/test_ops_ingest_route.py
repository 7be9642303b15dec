"""Routing rules of the ingest on a hand-made TC history: commands go to the image they
command (by UID, else the next take-image), context commands are copied, trailing commands
stay pending; HK windows start at an observation's own commands."""

from __future__ import annotations

from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.ops.route import hk_window, obs_of_uid, route_tc
from cassis_pipe.sim.config import make_config
from cassis_pipe.sim.telemetry import parameter_table
from cassis_pipe.telemetry.tc import (
    encode_tc,
    move_motor_absolute,
    set_parameter_table,
    set_tm_rate,
    take_image,
)
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND, encode_timecode

AUX = 0x80000000
A, B, C = 0x20BB8028, 0x20BC0134, 0x20BC8A00


def t(s: float) -> int:
    return int.from_bytes(encode_timecode(1e8 + s), "big")


def history() -> list[bytes]:
    table = parameter_table(make_config("small", 1), 100000)
    cmds = [set_tm_rate(0xC0000001, 1), set_parameter_table(4, table),
            move_motor_absolute(AUX | A, 90000, t(100)), take_image(A, t(110), 4),
            take_image(B, t(500), 4),
            set_parameter_table(5, table), move_motor_absolute(AUX | C, 270000, t(900)),
            take_image(C, t(910), 5), set_tm_rate(0xC0000002, 1)]
    return [encode_tc(c) for c in cmds]


def test_owner_and_context() -> None:
    h = history()
    rt = route_tc(h)
    a, b, c = obs_of_uid(A), obs_of_uid(B), obs_of_uid(C)
    assert rt.owner == [a, a, a, a, b, c, c, c, None]
    assert rt.files[a] == [0, 1, 2, 3] and rt.context[a] == []
    assert rt.files[b] == [1, 2, 4] and rt.context[b] == [1, 2]
    assert rt.files[c] == [5, 6, 7] and rt.context[c] == []
    plan = plan_from_tc(b"".join(h[i] for i in rt.files[b]))
    assert [(im.uid, im.position_mdeg, im.num_exp) for im in plan.images] == [(B, 90000, 6)]


def test_hk_window_starts_at_own_commands() -> None:
    h = history()
    rt = route_tc(h)
    for uid, first in ((A, 100), (B, 500), (C, 900)):
        tc = b"".join(h[i] for i in rt.files[obs_of_uid(uid)])
        t0, t1 = hk_window(tc, uid, 5.0)
        assert t0 == (100_000_000 + first - 5) * FINE_PER_SECOND
        assert t1 > t0 + 5 * FINE_PER_SECOND and t1 % FINE_PER_SECOND == 0
    assert hk_window(b"".join(h[:3]), A, 5.0) is None


def test_commands_with_unique_ids_deduplicated_across_slots(tmp_path) -> None:
    from cassis_pipe.ops.delivery import format_name
    from cassis_pipe.ops.ingest import IngestConfig, ingest

    h = history()
    d = tmp_path / "downlink"
    d.mkdir()
    (d / format_name("TC", "20190515T070000")).write_bytes(b"".join(h[:5]))
    (d / format_name("TC", "20190515T071500")).write_bytes(b"".join(h[1:]))   # re-cut
    rep = ingest(IngestConfig(downlink=d, root=tmp_path / "ingest"), now=0.0)
    second = rep["deliveries"][1]
    # only the table (no unique id) and the commands after h[4] are new in the second one
    assert second["duplicate"] == 3 * 64 and second["routed"] == 5 * 64
    tc_b = (tmp_path / "ingest" / obs_of_uid(B) / "tc.bin").read_bytes()
    assert [im.uid for im in plan_from_tc(tc_b).images] == [B]


def test_tc_history_independent_of_arrival_order(tmp_path) -> None:
    """The same re-cut TC deliveries in either order give the same tc.bin files."""
    from cassis_pipe.ops.delivery import format_name
    from cassis_pipe.ops.ingest import IngestConfig, ingest

    h = history()
    files = {format_name("TC", "20190515T070000"): b"".join(h[:5]),
             format_name("TC", "20190515T071500"): b"".join(h[1:])}
    out = []
    for k, order in enumerate((sorted(files), sorted(files, reverse=True))):
        d = tmp_path / f"d{k}"
        d.mkdir()
        cfg = IngestConfig(downlink=d, root=tmp_path / f"i{k}")
        for i, name in enumerate(order):
            (d / name).write_bytes(files[name])
            ingest(cfg, now=float(i))
        out.append({o: (cfg.root / o / "tc.bin").read_bytes()
                    for o in (obs_of_uid(A), obs_of_uid(B), obs_of_uid(C))})
    assert out[0] == out[1]
