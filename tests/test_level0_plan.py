"""Command plan: TC replay, windows, exposure times; checked against the flown labels."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.level0.plan import (
    CONTROL,
    add_microseconds,
    build_plan,
    filter_for_window,
    plan_from_tc,
    table_from_label,
    window_plans,
)
from cassis_pipe.sim.synthetic.level0 import make_table
from cassis_pipe.telemetry.paramtable import PARAMETER_IDS, ParameterTable
from cassis_pipe.telemetry.tc import (
    create_parameter_table,
    encode_tc,
    move_motor_absolute,
    move_motor_relative,
    set_parameter_table,
    set_parameter_value,
    take_image,
    take_test_image,
)
from cassis_pipe.telemetry.timecode import (
    FINE_PER_SECOND,
    decode_timecode,
    encode_timecode,
    pack_timecode,
    unpack_timecode,
)

START = encode_timecode(100_000_000.0)


def tc(*cmds) -> bytes:
    return b"".join(encode_tc(c) for c in cmds)


def test_plan_of_a_simple_sequence() -> None:
    table = make_table(num_exp=4, step_exp_us=340_000)
    data = tc(set_parameter_table(4, table), move_motor_absolute(1, 100228, START),
              take_image(77, START, 4))
    plan = plan_from_tc(data)
    assert plan.n_commands == 3 and not plan.tc_rejects and not plan.issues
    (im,) = plan.images
    assert (im.uid, im.table_ref, im.position_mdeg, im.num_exp) == (77, 4, 100228, 4)
    assert im.tc_offset == 128 and im.move_tc_offset == 64
    assert [w.filter for w in im.windows] == ["PAN", "RED", "NIR", "BLU", CONTROL, CONTROL]
    assert [w.counter for w in im.windows] == list(range(6))
    nir = im.windows[2]
    assert (nir.rows, nir.cols, nir.bin_factor, nir.shape, nir.raw_bytes) == (16, 32, 2, (8, 16),
                                                                              256)
    assert im.windows[0].compression == 3 and im.windows[4].compression == 0
    assert im.exposure_time_s == pytest.approx(1.44e-3)
    t0 = decode_timecode(im.exposure_timecode(0))
    assert im.exposure_timecode(0) == START
    assert decode_timecode(im.exposure_timecode(3)) == pytest.approx(t0 + 1.02, abs=2 ** -24)
    json.dumps(plan.as_dict())


def test_parameter_value_and_create_table() -> None:
    base = make_table(num_exp=2)
    data = tc(set_parameter_table(1, base), create_parameter_table(5, 5, 1),
              set_parameter_value(6, 2, PARAMETER_IDS["Num_exp"], 7, source_ref=1),
              take_image(10, START, 2), take_image(11, START, 5))
    plan = plan_from_tc(data)
    assert plan.tables[2] is not None and plan.tables[2].num_exp == 7
    assert plan.tables[5] == base
    assert [im.num_exp for im in plan.images] == [7, 2]


def test_unknown_tables_and_relative_moves_are_issues() -> None:
    data = tc(set_parameter_value(6, 3, PARAMETER_IDS["Num_exp"], 7, source_ref=9),
              move_motor_absolute(1, 5000, START), move_motor_relative(2, 0, 10, START),
              take_image(12, START, 3), take_image(13, START, 8), take_test_image(14, START))
    plan = plan_from_tc(data)
    a, b = plan.images
    assert a.table is None and a.position_mdeg is None and a.issues
    assert b.table is None and "unknown" in b.issues[0]
    assert any("relative motor move" in s for s in plan.issues)
    assert any("table 3 created from table 9" in s for s in plan.issues)
    assert plan.other == [{"name": "take_test_image", "uid": 14, "tc_offset": 320}]


def test_tc_rejects_are_reported_with_offsets() -> None:
    good = tc(set_parameter_table(4, make_table()), take_image(20, START, 4))
    bad = bytearray(encode_tc(take_image(21, START, 4)))
    bad[10] ^= 0x01  # CRC no longer matches
    plan = plan_from_tc(good[:64] + b"\x00garbage" + bytes(bad) + good[64:])
    assert [im.uid for im in plan.images] == [20]
    assert [(r.offset, r.reason) for r in plan.tc_rejects] == [(64, "garbage")]
    assert plan.tc_rejects[0].length == 8 + 64


def test_duplicate_uid_and_bad_windows() -> None:
    t = ParameterTable(num_exp=1, num_win=7, binning=(5, 0, 0, 0, 0, 0))
    wins, issues = window_plans(t)
    assert len(wins) == 6
    assert any("Num_win 7" in s for s in issues) and any("binning code 5" in s for s in issues)
    assert any("empty" in s for s in issues)
    plan = build_plan([set_parameter_table(1, make_table()), take_image(3, START, 1),
                       take_image(3, START, 1)])
    assert "UID 3 used by an earlier take-image" in plan.images[1].issues


def test_filter_strips() -> None:
    assert filter_for_window(354, 633) == "PAN"
    assert filter_for_window(1409, 1663) == "BLU"
    assert filter_for_window(200, 208) == CONTROL
    assert filter_for_window(1850, 1858) == CONTROL


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 2), st.integers(0, FINE_PER_SECOND - 1),
       st.integers(-10**6, 10**9))
def test_add_microseconds_is_nearest_tick(coarse: int, fine: int, micros: int) -> None:
    t0 = coarse * FINE_PER_SECOND + fine
    exact = t0 + Fraction(micros * FINE_PER_SECOND, 10**6)
    if not 0 <= exact < (2**32 - 1) * FINE_PER_SECOND:
        return
    c, f = unpack_timecode(add_microseconds(pack_timecode(coarse, fine), micros))
    assert abs(c * FINE_PER_SECOND + f - exact) <= 0.5


# ---- flown files ---------------------------------------------------------------------------


def test_flown_uncompressed_lengths_match_the_window_rule(level1b_labels) -> None:
    """Data_Length of every 2016 file = 2 B x (end_row - start_row) x (end_col - start_col + 1)
    / binning^2 from the commanded table (PAN 1142784 = 2048 x 279 x 2, NIR binned 2x2)."""
    for path in level1b_labels:
        label = read_bern_label(path)
        wins, issues = window_plans(table_from_label(label))
        assert not issues
        w = wins[label.window_counter]
        assert w.filter == label.filter
        assert int(label.fsw_header["Data_Length"]) == w.raw_bytes
    pan = window_plans(table_from_label(read_bern_label(level1b_labels[2])))[0]
    assert (pan[0].shape, pan[2].shape, pan[2].n_pixels) == ((279, 2048), (127, 1024), 130560)


def test_flown_2018_window_matches_level1b_array(all_bern_labels) -> None:
    label = read_bern_label(all_bern_labels[-1])
    assert label.filter == "RED" and label.window_counter == 1
    wins, _ = window_plans(table_from_label(label))
    assert [w.filter for w in wins] == ["PAN", "RED", "BLU"]
    assert wins[1].shape == label.array.shape == (256, 1792)
