"""Sub-pixel shift measurement and resampling kernels: property, exactness and fuzz tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cassis_pipe.imaging.resample import (
    node_positions,
    sample_cubic,
    shift_cubic,
    upsample_grid,
)
from cassis_pipe.register.correlate import (
    RegistrationError,
    measure_shift,
    smooth,
    tukey,
    valid_box,
)

_RNG = np.random.default_rng(11)
_WL = np.exp(_RNG.uniform(np.log(5.0), np.log(80.0), 30))
_TH = _RNG.uniform(0.0, np.pi, 30)
_PH = _RNG.uniform(0.0, 2 * np.pi, 30)


def texture(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    v = np.zeros(np.broadcast(y, x).shape)
    for wl, th, ph in zip(_WL, _TH, _PH, strict=True):
        v += np.sin(2 * np.pi * (np.cos(th) * y + np.sin(th) * x) / wl + ph) * (wl / 80) ** 0.5
    return v


_YY, _XX = np.mgrid[0:96, 0:160].astype(float)
_A = texture(_YY, _XX)


@settings(max_examples=25, deadline=None)
@given(st.floats(-12.0, 12.0), st.floats(-12.0, 12.0), st.floats(0.5, 3.0),
       st.floats(-5.0, 5.0))
def test_shift_round_trip(dl: float, ds: float, gain: float, bias: float) -> None:
    """b = a moved by (dl, ds), with a different gain and bias (another band): the shift is
    recovered to a few hundredths of a pixel."""
    b = gain * texture(_YY - dl, _XX - ds) + bias
    s = measure_shift(_A, b, max_shift_px=16)
    assert s.dl == pytest.approx(dl, abs=0.03)
    assert s.ds == pytest.approx(ds, abs=0.03)
    assert s.peak > 0.8


def test_shift_with_invalid_border_and_noise() -> None:
    rng = np.random.default_rng(1)
    b = texture(_YY - 2.3, _XX + 4.6) + rng.normal(0, 0.2, _A.shape)
    b[:10] = np.nan
    b[:, -7:] = np.nan
    b[50, 50] = np.nan                                      # isolated hole inside
    s = measure_shift(_A, b)
    assert (s.dl, s.ds) == (pytest.approx(2.3, abs=0.05), pytest.approx(-4.6, abs=0.05))
    assert s.n_valid <= 86 * 153


def test_shift_errors() -> None:
    with pytest.raises(RegistrationError, match="shape"):
        measure_shift(_A, _A[:-1])
    with pytest.raises(RegistrationError, match="overlap"):
        measure_shift(_A, np.full_like(_A, np.nan))
    with pytest.raises(RegistrationError, match="valid pixels"):
        measure_shift(_A[:5, :5], _A[:5, :5])


@settings(max_examples=40, deadline=None)
@given(st.integers(3, 40), st.integers(3, 40), st.integers(0, 2**32 - 1))
def test_fuzz_never_crashes(nl: int, ns: int, seed: int) -> None:
    """Random, constant, NaN- and inf-ridden inputs give a Shift or a RegistrationError."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(nl, ns)) * rng.choice([0.0, 1.0, 1e30])
    b = rng.normal(size=(nl, ns))
    for arr in (a, b):
        arr[rng.random((nl, ns)) < rng.uniform(0, 0.5)] = rng.choice([np.nan, np.inf])
    try:
        s = measure_shift(a, b, min_valid=9)
    except RegistrationError:
        return
    assert np.isfinite(s.dl) and np.isfinite(s.ds)


def test_valid_box() -> None:
    v = np.ones((50, 60), bool)
    v[:5] = False
    v[:, 55:] = False
    v[20, 30] = False
    assert valid_box(v) == (slice(5, 50), slice(0, 55))
    assert valid_box(np.zeros((10, 10), bool)) is None
    assert tukey(5, 0.0).tolist() == [1.0] * 5 and tukey(11, 1.0)[5] == 1.0


def test_cubic_exact_on_quadratics_and_nan_outside() -> None:
    img = 0.3 * _YY**2 - 0.2 * _YY * _XX + 1.5 * _XX + 2.0
    rng = np.random.default_rng(2)
    ll = rng.uniform(1.0, 94.0, (20, 20))
    ss = rng.uniform(1.0, 158.0, (20, 20))
    got = sample_cubic(img, ll, ss)
    np.testing.assert_allclose(got, 0.3 * ll**2 - 0.2 * ll * ss + 1.5 * ss + 2.0, atol=1e-9)
    out = sample_cubic(img, np.array([[-0.01, 95.01, 3.0]]), np.array([[3.0, 3.0, 159.5]]))
    assert np.isnan(out).all()
    np.testing.assert_array_equal(sample_cubic(img, _YY[:3, :3], _XX[:3, :3]), img[:3, :3])
    sh = shift_cubic(img, 0.5, -1.0, 4, 4, 10.0, 20.0)
    np.testing.assert_allclose(sh, sample_cubic(img, _YY[10:14, 20:24] - 0.5,
                                                _XX[10:14, 20:24] + 1.0), atol=1e-12)


def test_upsample_grid_exact_for_bilinear() -> None:
    rl = node_positions(50, 16)
    rs = node_positions(37, 8)
    assert rl.tolist() == [0, 16, 32, 48, 49] and rs[-1] == 36
    f = lambda y, x: 2.0 + 0.5 * y - 0.25 * x + 0.01 * x * y  # noqa: E731
    nodes = f(rl[:, None], rs[None, :])
    dense = upsample_grid(np.ascontiguousarray(nodes), rl, rs, 50, 37)
    yy, xx = np.mgrid[0:50, 0:37].astype(float)
    np.testing.assert_allclose(dense, f(yy, xx), atol=1e-12)


def test_smooth_preserves_mean_and_constant() -> None:
    c = np.full((20, 30), 3.0)
    np.testing.assert_allclose(smooth(c, 1.5), c)
    s = smooth(_A, 1.0)
    assert s.shape == _A.shape and s.std() < _A.std()
    assert smooth(_A, 0.0) is not None


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 60), st.integers(1, 60), st.floats(0.0, 1.0), st.integers(0, 2**31))
def test_integral_matches_cumsum(nl: int, ns: int, frac: float, seed: int) -> None:
    """The numba summed-area table behind valid_box equals the numpy double cumsum."""
    from cassis_pipe.register.correlate import _integral

    v = np.random.default_rng(seed).random((nl, ns)) < frac
    ref = np.zeros((nl + 1, ns + 1), dtype=np.int64)
    ref[1:, 1:] = np.cumsum(np.cumsum(v, axis=0, dtype=np.int64), axis=1)
    assert np.array_equal(_integral(v), ref)


@settings(max_examples=15, deadline=None)
@given(st.floats(-12.0, 12.0), st.floats(-12.0, 12.0), st.integers(1, 2))
def test_single_precision_agrees_with_double(dl: float, ds: float, iterations: int) -> None:
    """The complex64 correlation (rotation search) gives the float64 shift to < 1e-5 px."""
    b = 1.7 * texture(_YY - dl, _XX - ds) + 0.3
    b[:4] = np.nan
    s64 = measure_shift(_A, b, max_shift_px=16, iterations=iterations)
    s32 = measure_shift(_A, b, max_shift_px=16, iterations=iterations, single=True)
    assert abs(s32.dl - s64.dl) < 1e-5 and abs(s32.ds - s64.ds) < 1e-5
    assert s32.peak == pytest.approx(s64.peak, abs=1e-5) and s32.n_valid == s64.n_valid


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 40), st.integers(1, 70), st.integers(1, 9), st.integers(0, 2**31))
def test_resample_through_nodes_equals_two_step(nl: int, ns: int, step: int, seed: int
                                                ) -> None:
    """The fused mapping + cubic kernel of the fringing metric gives exactly the values of
    upsample_grid followed by sample_cubic (NaN nodes and positions outside included)."""
    from cassis_pipe.imaging.resample import resample_through_nodes

    rng = np.random.default_rng(seed)
    rl, rs = node_positions(nl, step), node_positions(ns, step)
    dl = rl[:, None] * 1.01 + rng.normal(0, 2, (rl.size, rs.size))
    ds = rs[None, :] * 0.99 + rng.normal(0, 2, (rl.size, rs.size))
    dl[rng.random(dl.shape) < 0.05] = np.nan
    img = rng.normal(size=(nl + 3, ns + 2))
    two = sample_cubic(img, upsample_grid(dl, rl, rs, nl, ns), upsample_grid(ds, rl, rs, nl, ns))
    one = resample_through_nodes(img, dl, ds, rl, rs, nl, ns)
    assert np.array_equal(one, two, equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), dl=st.floats(-30.0, 30.0), ds=st.floats(-30.0, 30.0),
       l0=st.integers(-5, 5), s0=st.integers(-5, 5))
def test_shift_cubic_equals_sample_cubic_bytewise(seed: int, dl: float, ds: float, l0: int,
                                                  s0: int) -> None:
    """shift_cubic (weights computed once per column and per row) gives exactly the values
    of per-pixel sample_cubic at the same positions, NaN included."""
    rng = np.random.default_rng(seed)
    img = rng.normal(size=(37, 23))
    img[rng.integers(0, 37), rng.integers(0, 23)] = np.nan
    nl, ns = 45, 31
    lines = (float(l0) + np.arange(nl, dtype=float))[:, None] - dl + np.zeros((1, ns))
    samples = (float(s0) + np.arange(ns, dtype=float))[None, :] - ds + np.zeros((nl, 1))
    got = shift_cubic(img, dl, ds, nl, ns, float(l0), float(s0))
    want = sample_cubic(img, lines, samples)
    assert got.tobytes() == want.tobytes()
