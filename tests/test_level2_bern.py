"""Real-data path: the flown Bern level-1b exposure (four filters, tests/data/level1b) as
level-1 input, assembled into one detector frame with the label values in the product label."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from cassis_pipe.labels.bern import read_bern_label
from cassis_pipe.labels.dat import dat_path_for, read_dat
from cassis_pipe.products.pds4 import parse_label, read_product
from cassis_pipe.products.validate import validate_label
from cassis_pipe.stages.bern import (
    BernInputError,
    assemble_exposure,
    level1_record,
    read_bern_framelet,
    write_assembled,
)


@pytest.fixture(scope="module")
def framelets(level1b_labels: list[Path]):
    return [read_bern_framelet(p) for p in level1b_labels]


def test_records_map_the_bern_header(framelets, level1b_labels) -> None:
    recs = {level1_record(f)["filter"]: level1_record(f) for f in framelets}
    assert sorted(recs) == ["BLU", "NIR", "PAN", "RED"]
    assert {r["uid"] for r in recs.values()} == {100799268}
    assert {r["sequence"] for r in recs.values()} == {5}
    assert {f: r["window"] for f, r in recs.items()} == {"PAN": 0, "RED": 1, "NIR": 2, "BLU": 3}
    assert {r["start_utc"] for r in recs.values()} == {"2016-11-26T22:50:27.381"}
    assert {r["t_exp_s"] for r in recs.values()} == {0.00144}
    assert recs["PAN"]["detector_window"] == {"row0": 354, "col0": 0, "rows": 280, "cols": 2048}
    assert recs["NIR"]["bin_factor"] == 2 and recs["NIR"]["shape"] == [256, 2048]   # expanded
    assert recs["PAN"]["exposure_timecode"] == "2f015435767e275a"


def test_assembled_frame(framelets, level1b_labels, tmp_path: Path) -> None:
    frame, placed = assemble_exposure(framelets)
    assert frame.shape == (2048, 2048) and all(p["complete"] for p in placed)
    covered = np.zeros(frame.shape, dtype=bool)
    for p in level1b_labels:
        lb = read_bern_label(p)
        img = read_dat(dat_path_for(p, lb), lb)
        w = lb.window
        sl = (slice(w.start_row, w.start_row + img.shape[0]),
              slice(w.start_col, w.start_col + img.shape[1]))
        np.testing.assert_array_equal(frame[sl], img)
        covered[sl] = True
    assert np.isnan(frame[~covered]).all()

    dat, xml, rec = write_assembled(tmp_path, framelets)
    assert validate_label(xml) == []
    back = read_product(xml)
    np.testing.assert_array_equal(back[covered], frame[covered])
    assert (back[~covered] < -1e38).all()
    params = {e.findtext("{*}name"): e.findtext("{*}value")
              for e in parse_label(xml).getroot().iter("{*}Parameter")}
    pan = read_bern_label(next(p for p in level1b_labels if "-PAN-" in p.name))
    assert params["heliocentric_distance_au"] == f"{pan.heliocentric_distance_au:.9g}"
    assert params["rotation_deg"] == f"{pan.rotation_deg:.9g}"
    assert params["PAN_absolute_calibration"] == f"{pan.absolute_calibration:.9g}"
    assert params["BLU_window_cols"] == "1024-1087"
    assert rec["product"] == "cas-mco-2016-11-26t22.50.27.381-frame-005-b1"


def test_refuses_bad_input(framelets) -> None:
    with pytest.raises(BernInputError):
        assemble_exposure([])
    other = dataclasses.replace(framelets[0].label, sequence_counter=6)
    mixed = [*framelets[1:], type(framelets[0])(other, framelets[0].image)]
    with pytest.raises(BernInputError):
        assemble_exposure(mixed)
    w = dataclasses.replace(framelets[0].label.window, start_row=1900)
    off = type(framelets[0])(dataclasses.replace(framelets[0].label, window=w),
                             framelets[0].image)
    with pytest.raises(BernInputError):
        assemble_exposure([off])
    with pytest.raises(BernInputError):
        read_bern_framelet(Path("/nonexistent.xml"))


def test_directory_of_another_observation_is_rejected_not_dropped(data_dir, tmp_path) -> None:
    from cassis_pipe.stages.bern import assemble_directory

    stage = assemble_directory(data_dir / "level1b", tmp_path, "MY34_002002_211_2")
    assert stage["framelets"] == {"found": 4, "assembled": 0, "rejected": 4}
    assert {r["reason"] for r in stage["rejected"]} == {
        "framelet of observation CRUS_049218_201_0"}
    assert stage["exposures"] == [] and stage["ok"] is False
