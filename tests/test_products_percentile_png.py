"""Exact fast percentiles (against numpy) and the libdeflate PNG encoder (round trip)."""

from __future__ import annotations

import io
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from cassis_pipe.products.images import composite_png, composite_rgba, stretch_limits
from cassis_pipe.products.percentile import band_percentiles, same_mask, validity_bits
from cassis_pipe.products.png import encode_rgba, png_from_scanlines


def _np_pct(values: np.ndarray, pcts) -> list[float]:
    return [float(v) for v in np.percentile(values, list(pcts))]


@settings(max_examples=60, deadline=None)
@given(lines=st.integers(1, 40), samples=st.integers(1, 40), seed=st.integers(0, 2**31),
       f32=st.booleans(), sample_px=st.sampled_from([1, 7, 64, 1 << 20]),
       pcts=st.sampled_from([(0.5, 99.5), (0.0, 100.0), (2.0, 98.0), (50.0, 50.0001)]),
       ties=st.booleans())
def test_percentiles_equal_numpy(lines, samples, seed, f32, sample_px, pcts, ties) -> None:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.2, 0.05, (lines, samples))
    if ties:
        a = np.round(a, 2)
    a = a.astype(np.float32 if f32 else np.float64)
    bad = rng.random(a.shape) < 0.3
    a[bad & (rng.random(a.shape) < 0.5)] = np.nan
    a[bad & ~np.isnan(a)] = np.float32(-3.4028234663852886e38)
    bits = validity_bits([a])
    ok = bits.astype(bool)
    got = band_percentiles(a, pcts, bits, 1, sample_px=sample_px, margin=0.0)
    if not ok.any():
        assert got is None
    else:
        assert got == _np_pct(a[ok], pcts)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), sample_px=st.sampled_from([3, 50, 1 << 20]))
def test_half_sum_and_joint_mask(seed, sample_px) -> None:
    rng = np.random.default_rng(seed)
    pan = rng.random((23, 31)).astype(np.float32)
    blu = rng.random((23, 31)).astype(np.float32)
    pan[rng.random(pan.shape) < 0.2] = np.nan
    blu[rng.random(blu.shape) < 0.2] = -np.inf
    bits = validity_bits([pan, blu])
    ok = np.isfinite(pan) & np.isfinite(blu)
    mean = 0.5 * (pan.astype(np.float64) + blu.astype(np.float64))
    got = band_percentiles(pan, (0.5, 99.5), bits, 3, blu, sample_px=sample_px)
    assert got == _np_pct(mean[ok], (0.5, 99.5))
    assert same_mask(bits, 3, 3) and same_mask(bits, 1, 1)
    assert same_mask(bits, 1, 2) == bool(np.array_equal(np.isfinite(pan), np.isfinite(blu)))


def test_large_band_exact_and_bracket_miss() -> None:
    rng = np.random.default_rng(5)
    a = rng.lognormal(-1.5, 0.4, (700, 600)).astype(np.float32)   # above the fast threshold
    a[:, :50] = np.nan
    mask = np.isfinite(a)
    assert stretch_limits(a, mask) == tuple(_np_pct(a[mask], (0.5, 99.5)))
    # a huge tie block: the subsample brackets are degenerate, the result stays exact
    b = np.full((700, 600), 0.25, np.float32)
    b[::97, ::89] = rng.random(b[::97, ::89].shape)
    assert stretch_limits(b, np.ones(b.shape, bool)) == tuple(
        _np_pct(b.ravel(), (0.5, 99.5)))
    nan_in_mask = a.copy()
    assert all(np.isnan(v) for v in stretch_limits(nan_in_mask, np.ones(a.shape, bool)))


@pytest.mark.parametrize("shape", [(1, 1), (1, 9), (65, 3), (130, 17)])
def test_png_round_trip_and_filtered_rows(shape) -> None:
    rng = np.random.default_rng(shape[0])
    rgba = rng.integers(0, 256, shape + (4,), dtype=np.uint8)
    rgba[: shape[0] // 2, :, 3] = 0
    one = encode_rgba(rgba)
    assert one == encode_rgba(rgba.copy())
    img = Image.open(io.BytesIO(one))
    assert img.mode == "RGBA" and np.array_equal(np.asarray(img), rgba)
    # every scanline uses filter 2 ("Up")
    idat = one[one.index(b"IDAT") + 4:one.index(b"IEND") - 8]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(shape[0], -1)
    assert (raw[:, 0] == 2).all()


def test_composite_scanlines_match_rgba() -> None:
    rng = np.random.default_rng(3)
    bands = {f: rng.random((150, 37)).astype(np.float32) for f in ("PAN", "RED", "NIR", "BLU")}
    bands["BLU"][4, 5] = np.nan
    for combo in ("NIR-RED-BLU", "PAN-BLU"):
        rows = composite_png(bands, combo)
        png = png_from_scanlines(rows, 37)
        assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))),
                              composite_rgba(bands, combo))
