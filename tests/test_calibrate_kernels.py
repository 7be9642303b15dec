"""Pure calibration kernels: binning, bias, flat, saturation, bad pixels, expansion."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cassis_pipe.calibrate import flags
from cassis_pipe.calibrate.badpix import interpolate_bad
from cassis_pipe.calibrate.bias import row_offsets, subtract_bias, subtract_row_offsets
from cassis_pipe.calibrate.binning import bin_field, bin_mask, signal_per_pixel_factor
from cassis_pipe.calibrate.expand import expand, expand_mask
from cassis_pipe.calibrate.flat import divide_flat
from cassis_pipe.calibrate.saturation import ADC_MAX_DN, saturation_mask
from cassis_pipe.instrument.detector import Window

FAST = settings(max_examples=40, deadline=None)


# --- windows and binning -------------------------------------------------------------------

def test_window_geometry() -> None:
    w = Window("NIR", 1048, 1303, 0, 2047, 2)
    assert (w.rows, w.cols, w.binned_shape) == (256, 2048, (128, 1024))
    r, c = w.centre_axes()
    assert r[0] == 1048.5 and c[-1] == 2046.5
    odd = Window("CTL1", 10, 14, 3, 9, 2)               # 5 x 7 detector pixels
    assert odd.binned_shape == (2, 3) and odd.used_shape == (4, 6)
    with pytest.raises(ValueError):
        Window.from_extent(0, 0, 10, 10, filter="PAN", binning=3)
    with pytest.raises(ValueError):
        Window.from_extent(-1, 0, 10, 10, filter="PAN")
    with pytest.raises(ValueError):
        Window.from_extent(0, 0, 1, 10, filter="PAN", binning=2)   # less than one binned row
    with pytest.raises(ValueError):
        Window.from_extent(0, 0, 10, 10, filter="X")             # neither filter nor CTL*


def test_bin_field_sum_mean_and_mask() -> None:
    rng = np.random.default_rng(1)
    f = rng.normal(300, 5, (64, 64)).astype(np.float32)
    w = Window.from_extent(3, 5, 9, 12, filter="CTL", binning=2)   # odd rows: last dropped
    s = bin_field(f, w, "sum")
    m = bin_field(f, w, "mean")
    blk = f[3:11, 5:17].astype(np.float64).reshape(4, 2, 6, 2)
    np.testing.assert_allclose(s, blk.sum(axis=(1, 3)), rtol=1e-6)
    np.testing.assert_allclose(m, blk.mean(axis=(1, 3)), rtol=1e-6)
    unbinned = Window.from_extent(3, 5, 9, 12, filter="CTL")
    np.testing.assert_array_equal(bin_field(f, unbinned, "sum"), f[3:12, 5:17])
    bad = np.zeros((64, 64), np.uint8)
    bad[4, 6] = 2
    bm = bin_mask(bad, w)
    assert bm.sum() == 1 and bm[0, 0] == 1
    assert signal_per_pixel_factor(w, "sum") == 4.0
    assert signal_per_pixel_factor(w, "mean") == 1.0
    with pytest.raises(ValueError):
        bin_field(f, Window.from_extent(60, 0, 10, 10, filter="CTL"), "sum")
    with pytest.raises(ValueError):
        bin_field(f, w, "median")


# --- bias ----------------------------------------------------------------------------------

@FAST
@given(arrays(np.uint16, st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9)),
              elements=st.integers(0, ADC_MAX_DN)), st.floats(-500, 500, width=32))
def test_subtract_bias_exact(dn: np.ndarray, level: float) -> None:
    bias = np.full(dn.shape[1:], level, np.float32) + np.arange(dn.shape[2], dtype=np.float32)
    out = subtract_bias(dn, bias)
    assert out.dtype == np.float32 and out.shape == dn.shape
    np.testing.assert_array_equal(out, dn.astype(np.float32) - bias)
    np.testing.assert_array_equal(subtract_bias(dn[0], bias), out[0])


def test_bias_shape_mismatch() -> None:
    with pytest.raises(ValueError):
        subtract_bias(np.zeros((4, 5), np.uint16), np.zeros((5, 4), np.float32))
    with pytest.raises(ValueError):
        subtract_bias(np.zeros((2, 2, 4, 5), np.uint16), np.zeros((4, 5), np.float32))


def test_row_offsets_from_dark_columns() -> None:
    rng = np.random.default_rng(2)
    drift = rng.normal(0, 3, 40).astype(np.float32)
    scene = rng.uniform(100, 1000, (40, 64)).astype(np.float32)
    scene[:, :4] = 0.0                                 # four masked (dark) columns
    noisy = scene + drift[:, None] + rng.normal(0, 0.01, (40, 64)).astype(np.float32)
    off = row_offsets(noisy, np.arange(4))
    np.testing.assert_allclose(off, drift, atol=0.05)
    np.testing.assert_allclose(subtract_row_offsets(noisy, np.arange(4)), scene, atol=0.05)
    with pytest.raises(ValueError):
        row_offsets(noisy, np.array([64]))
    with pytest.raises(ValueError):
        row_offsets(noisy, np.array([], int))


# --- flat ----------------------------------------------------------------------------------

def test_divide_flat_and_guard() -> None:
    flat = np.array([[1.0, 0.5], [0.0, np.nan]], np.float32)
    sig = np.full((3, 2, 2), 8.0, np.float32)
    out, low = divide_flat(sig, flat, divisor=4.0)
    np.testing.assert_array_equal(out[:, 0, 0], 2.0)
    np.testing.assert_array_equal(out[:, 0, 1], 4.0)
    assert np.all(np.isnan(out[:, 1, :]))
    np.testing.assert_array_equal(low, [[False, False], [True, True]])
    with pytest.raises(ValueError):
        divide_flat(sig, flat, divisor=0.0)


# --- saturation ----------------------------------------------------------------------------

@FAST
@given(arrays(np.uint16, st.tuples(st.integers(1, 4), st.integers(1, 8), st.integers(1, 8)),
              elements=st.integers(16000, ADC_MAX_DN)), st.integers(16000, 16384))
def test_saturation_counts(dn: np.ndarray, level: int) -> None:
    mask, counts = saturation_mask(dn, level)
    np.testing.assert_array_equal(mask, dn >= level)
    np.testing.assert_array_equal(counts, (dn >= level).sum(axis=(1, 2)))
    m1, c1 = saturation_mask(dn[0], level)
    assert c1 == counts[0] and np.array_equal(m1, mask[0])


# --- bad pixels ----------------------------------------------------------------------------

def test_interpolate_plane_exact() -> None:
    r, c = np.mgrid[0:30, 0:40].astype(np.float32)
    img = 100 + 2 * r - 3 * c
    bad = np.zeros(img.shape, bool)
    bad[5, 7] = bad[12, 20] = bad[20, 20:23] = True   # isolated pixels and a short run
    out, unf = interpolate_bad(img, bad)
    np.testing.assert_allclose(out, img, atol=1e-4)
    assert not unf.any()


@FAST
@given(arrays(np.float32, st.tuples(st.integers(1, 12), st.integers(1, 12)),
              elements=st.floats(-1e3, 1e3, width=32)),
       st.data())
def test_interpolate_properties(img: np.ndarray, data: st.DataObject) -> None:
    bad = data.draw(arrays(np.bool_, img.shape))
    out, unf = interpolate_bad(img, bad, max_radius=2)
    np.testing.assert_array_equal(out[~bad], img[~bad])     # good pixels untouched
    assert not unf[~bad].any()
    assert np.all(np.isnan(out[unf]))
    filled = bad & ~unf
    if filled.any() and (~bad).any():
        lo, hi = img[~bad].min(), img[~bad].max()
        assert np.all(out[filled] >= lo - 1e-3) and np.all(out[filled] <= hi + 1e-3)
    if bad.all():
        assert unf.all()


def test_interpolate_stack_and_nan() -> None:
    img = np.ones((2, 6, 6), np.float32)
    img[1, 2, 2] = np.nan                   # not flagged: stays NaN, never used as neighbour
    img[0, 3, 3] = np.nan                   # flagged: repaired
    bad = np.zeros((2, 6, 6), bool)
    bad[:, 0, 0] = bad[:, 2, 3] = bad[0, 3, 3] = True
    out, unf = interpolate_bad(img, bad)
    assert np.isnan(out[1, 2, 2]) and np.sum(np.isnan(out)) == 1 and not unf.any()
    assert np.all(out[bad] == 1.0)
    with pytest.raises(ValueError):
        interpolate_bad(img, np.zeros((5, 6), bool))


# --- expansion -----------------------------------------------------------------------------

def test_expand_matches_flown_nir(data_dir) -> None:
    """The Bern level-1b NIR file (2x2 binned on board) is a bilinear expansion: binned
    pixel (i, j) at (2i, 2j), neighbours averaged, last row/column repeated."""
    path = next((data_dir / "level1b").glob("*NIR*.dat"))
    full = np.fromfile(path, "<f4").reshape(256, 2048)
    blocks = full.reshape(128, 2, 1024, 2)
    assert not np.all(blocks == blocks[:, :1, :, :1])  # not 2x2 replicated blocks
    out = expand(full[0::2, 0::2], "bilinear")
    assert out.shape == full.shape
    np.testing.assert_allclose(out, full, rtol=0, atol=1e-7)  # <= 3 float32 ulp
    rep = expand(full[0::2, 0::2], "replicate")
    assert np.abs(rep - full).max() > 100 * np.abs(out - full).max()


@FAST
@given(arrays(np.float32, st.tuples(st.integers(1, 3), st.integers(1, 7), st.integers(1, 7)),
              elements=st.floats(-1e4, 1e4, width=32)))
def test_expand_properties(img: np.ndarray) -> None:
    bl = expand(img, "bilinear")
    rp = expand(img, "replicate")
    assert bl.shape == rp.shape == (img.shape[0], 2 * img.shape[1], 2 * img.shape[2])
    np.testing.assert_array_equal(bl[:, 0::2, 0::2], img)
    np.testing.assert_array_equal(rp[:, 0::2, 1::2], img)
    np.testing.assert_array_equal(rp[:, 1::2, 0::2], img)
    lo, hi = img.min(), img.max()
    assert bl.min() >= lo - 1e-3 * (1 + abs(lo)) and bl.max() <= hi + 1e-3 * (1 + abs(hi))
    np.testing.assert_array_equal(bl[:, -1], bl[:, -2])
    np.testing.assert_array_equal(bl[:, :, -1], bl[:, :, -2])


def test_expand_mask() -> None:
    m = np.zeros((3, 4), np.uint8)
    m[1, 1] = flags.BAD_PIXEL
    m[2, 3] = flags.SATURATED
    rep = expand_mask(m, "replicate")
    assert rep.sum() == 4 * flags.BAD_PIXEL + 4 * flags.SATURATED
    bl = expand_mask(m, "bilinear")
    # pixels that use binned (1, 1): rows 1..3, cols 1..3 of the full grid
    assert np.array_equal(np.argwhere(bl & flags.BAD_PIXEL).min(0), [1, 1])
    assert np.array_equal(np.argwhere(bl & flags.BAD_PIXEL).max(0), [3, 3])
    assert bl[4, 6] & flags.SATURATED and bl[5, 7] & flags.SATURATED
    with pytest.raises(ValueError):
        expand(m.astype(np.float32), "cubic")
