"""Detector windows, binning and expansion, checked against the flown level-1b files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from defusedxml import ElementTree
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cassis_pipe.instrument.constants import (
    FILTER_ORDER,
    FILTERS,
    binning_from_code,
    code_from_binning,
    filter_by_index,
)
from cassis_pipe.instrument.detector import Window, default_windows
from cassis_pipe.labels.bern import read_bern_label


def test_filter_metadata() -> None:
    assert [FILTERS[f].window_index for f in FILTER_ORDER] == [0, 1, 2, 3]
    assert {f: FILTERS[f].centre_nm for f in FILTERS} == {
        "BLU": 497.0, "PAN": 677.0, "RED": 835.0, "NIR": 940.0}
    assert [(FILTERS[f].row0, FILTERS[f].row1) for f in FILTER_ORDER] == [
        (354, 633), (712, 967), (1048, 1303), (1409, 1664)]
    assert filter_by_index(2).name == "NIR"
    with pytest.raises(ValueError):
        filter_by_index(4)


def test_binning_codes() -> None:
    assert [binning_from_code(c) for c in range(4)] == [1, 2, 4, 8]
    assert [code_from_binning(b) for b in (1, 2, 4, 8)] == [0, 1, 2, 3]
    with pytest.raises(ValueError):
        binning_from_code(4)
    with pytest.raises(ValueError):
        code_from_binning(3)


def test_default_shapes() -> None:
    wins = default_windows({"NIR": 2})
    assert [w.shape for w in wins] == [(280, 2048), (256, 2048), (256, 2048), (256, 2048)]
    assert [w.binned_shape for w in wins] == [(280, 2048), (256, 2048), (128, 1024), (256, 2048)]


def test_invalid_windows() -> None:
    with pytest.raises(ValueError):
        Window("XXX", 0, 10)
    with pytest.raises(ValueError):
        Window("PAN", 10, 5)
    with pytest.raises(ValueError):
        Window("PAN", 0, 2048)
    with pytest.raises(ValueError):
        Window("PAN", 0, 7, binning=3)
    with pytest.raises(ValueError):
        Window("PAN", 5, 5, binning=2)  # one row: not one binned pixel
    with pytest.raises(ValueError):
        Window("DARK", 0, 7)            # control windows are named CTL*


def test_odd_extent_and_control_window() -> None:
    """An odd extent loses its last row/column when binned (as the PE does); control windows
    (CTL*) are windows too, outside the filter strips."""
    w = Window("CTL1", 10, 14, 3, 9, binning=2)            # 5 x 7 detector pixels
    assert w.is_control and w.shape == (5, 7)
    assert w.binned_shape == (2, 3) and w.used_shape == (4, 6)
    assert w.detector_slice() == (slice(10, 14), slice(3, 9))
    full = np.arange(35.0).reshape(5, 7)
    np.testing.assert_array_equal(w.bin(full), full[:4, :6].reshape(2, 2, 3, 2).sum(axis=(1, 3)))
    r, c = w.centre_axes()
    li, si = w.pixel_centres()
    np.testing.assert_array_equal(r, [10.5, 12.5])
    np.testing.assert_array_equal(li[:, 0], r)
    np.testing.assert_array_equal(si[0], c)
    assert w.to_detector(1.0, 2.0) == (12.5, 7.5)
    assert Window.from_extent(10, 3, 5, 7, filter="CTL1", binning=2) == w
    assert hash(Window.from_extent(10, 3, 5, 7, filter="CTL1", binning=2)) == hash(w)
    assert Window.from_extent(10, 3, 5, 7, filter="CTL2", binning=2) != w
    with pytest.raises(KeyError):
        _ = w.info


def test_pixel_centres_binned_and_cropped() -> None:
    w = Window("NIR", 1048, 1303, 128, 1919, binning=2)
    lines, samples = w.pixel_centres()
    assert lines.shape == w.binned_shape == (128, 896)
    assert lines[0, 0] == 1048.5 and samples[0, 0] == 128.5
    assert lines[-1, -1] == 1302.5 and samples[-1, -1] == 1918.5
    w4 = Window("RED", 712, 967, binning=4)
    li, si = w4.pixel_centres()
    assert li[0, 0] == 713.5 and si[0, 1] == 5.5
    w1 = Window.default("PAN", col0=100, col1=199)
    li, si = w1.pixel_centres()
    assert li[0, 0] == 354 and si[0, 0] == 100 and si[0, -1] == 199


@settings(max_examples=60, deadline=None)
@given(b=st.sampled_from([1, 2, 4, 8]), line=st.floats(-0.5, 31.5), sample=st.floats(-0.5, 63.5))
def test_window_coordinate_round_trip(b: int, line: float, sample: float) -> None:
    w = Window("RED", 712, 967, 256, 256 + 64 * 8 - 1, b)
    dl, ds = w.to_detector(line, sample)
    l2, s2 = w.from_detector(dl, ds)
    assert abs(l2 - line) < 1e-9 and abs(s2 - sample) < 1e-9
    # the binned pixel's outer edge maps onto the detector block edge
    el, es = w.to_detector(-0.5, -0.5)
    assert el == 711.5 and es == 255.5
    # within rounding of the far edge the answer depends on the last bit (31.499999999999996
    # binned -> 967.5 detector with b = 8): only points clear of it are checked
    nl, ns = w.binned_shape
    assume(abs(line - (nl - 0.5)) > 1e-9 and abs(sample - (ns - 0.5)) > 1e-9)
    inside = line < nl - 0.5 and sample < ns - 0.5
    assert bool(w.contains(np.array([dl]), np.array([ds]))[0]) == inside


@settings(max_examples=30, deadline=None)
@given(b=st.sampled_from([1, 2, 4]), seed=st.integers(0, 2**31 - 1))
def test_bin_replicate_round_trip(b: int, seed: int) -> None:
    w = Window("BLU", 1409, 1409 + 8 * b - 1, 0, 16 * b - 1, b)
    rng = np.random.default_rng(seed)
    binned = rng.random(w.binned_shape)
    full = w.expand(binned, method="replicate")
    assert full.shape == w.shape
    np.testing.assert_allclose(w.bin(full), binned * b * b, rtol=1e-12)


def test_expand_bern_interpolates_between_block_starts() -> None:
    w = Window("NIR", 1048, 1051, 0, 7, 2)
    binned = np.array([[0.0, 2.0, 4.0, 6.0], [10.0, 12.0, 14.0, 16.0]])
    full = w.expand(binned)
    np.testing.assert_array_equal(full[0], [0, 1, 2, 3, 4, 5, 6, 6])
    np.testing.assert_array_equal(full[:, 0], [0, 5, 10, 10])
    with pytest.raises(ValueError):
        w.expand(binned, method="cubic")
    with pytest.raises(ValueError):
        w.expand(np.zeros((3, 3)))


def test_expand_bern_reproduces_flown_nir(data_dir: Path) -> None:
    """The flown NIR framelet was 2x2 binned on board and expanded by the Bern pipeline: taking
    every second pixel and expanding again must give the file back."""
    path = data_dir / "level1b" / "CAS-MCO-2016-11-26T22.50.27.381-NIR-02005-B1.dat"
    full = np.fromfile(path, dtype="<f4").reshape(256, 2048).astype(np.float64)
    w = Window.default("NIR", binning=2)
    again = w.expand(full[0::2, 0::2])
    np.testing.assert_allclose(again, full, atol=1e-6)


def _pehk_window(label: Path) -> tuple[Window, int]:
    root = ElementTree.parse(label).getroot()
    fsw = next(e for e in root.iter() if e.tag.endswith("FSW_HEADER"))
    pehk = next(e for e in root.iter() if e.tag.endswith("PEHK_HEADER"))
    idx = int(fsw.get("WindowCounter")) + 1
    name = [f for f in FILTERS if f"-{f}-" in label.name][0]
    g = pehk.get
    return Window.from_code(name, int(g(f"Window{idx}_Start_Row")), int(g(f"Window{idx}_End_Row")),
                            int(g(f"Window{idx}_Start_Col")), int(g(f"Window{idx}_End_Col")),
                            int(g(f"Binning_window_{idx}"))), idx - 1


def test_flown_windows_match_data_sizes(all_bern_labels: list[Path]) -> None:
    """Each flown framelet's own window (PEHK rows/cols + binning code) explains its .dat size
    (binned windows are stored expanded to full resolution)."""
    assert len(all_bern_labels) == 5
    for label in all_bern_labels:
        w, counter = _pehk_window(label)
        assert counter == w.info.window_index or w.filter == "BLU"
        nbytes = label.with_suffix(".dat").stat().st_size
        lines, samples = w.shape
        assert nbytes == lines * samples * 4, label.name
        if w.filter == "NIR":
            assert w.binning == 2 and w.binned_shape == (128, 1024)
        if w.filter in ("PAN", "RED", "NIR"):
            assert (w.row0, w.row1) == (w.info.row0, w.info.row1)
        own = read_bern_label(label).window                  # the label reader's raw header
        assert own is not None and own.to_window(w.filter) == w, label.name
