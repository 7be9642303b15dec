"""Framelet stitching: synthetic strips with known sub-pixel offsets, and push-frame renders."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_register_synth import make_obs, render

from cassis_pipe.register.stitch import predict_offsets, stitch_filter, stitch_framelets

_RNG = np.random.default_rng(77)
_K = 40
_WL = np.exp(_RNG.uniform(np.log(4.0), np.log(120.0), _K))
_TH = _RNG.uniform(0.0, np.pi, _K)
_PH = _RNG.uniform(0.0, 2 * np.pi, _K)
_AMP = (_WL / 120.0) ** 0.5


def plane_scene(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Analytic texture on the plane (px units), wavelengths 4..120 px."""
    v = np.zeros(np.broadcast(y, x).shape)
    for k in range(_K):
        v += _AMP[k] * np.sin(2 * np.pi * (np.cos(_TH[k]) * y + np.sin(_TH[k]) * x) / _WL[k]
                              + _PH[k])
    return v


def _framelets(n: int, nl: int, ns: int, sign: float, seed: int
               ) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = sign * np.cumsum(np.r_[0.0, rng.uniform(0.86, 0.92, n - 1) * nl])
    x = np.cumsum(np.r_[0.0, rng.uniform(-1.5, 1.5, n - 1)])
    ll, ss = np.mgrid[0:nl, 0:ns].astype(float)
    imgs = [plane_scene(y[k] + ll, x[k] + ss) for k in range(n)]
    return imgs, np.stack([np.diff(y), np.diff(x)], axis=1), np.stack([y, x], axis=1)


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_known_offsets_reproduce_scene(sign: float) -> None:
    imgs, true, origin = _framelets(6, 256, 192, sign, 3)
    rng = np.random.default_rng(4)
    predicted = true + rng.uniform(-0.8, 0.8, true.shape)    # geometry is never exact
    res = stitch_framelets(imgs, predicted)
    got = np.array([s.offset for s in res.seams])
    assert np.abs(got - true).max() < 0.05
    assert all(s.refined and s.peak > 0.9 for s in res.seams)
    assert res.max_seam_residual_px <= 0.1
    np.testing.assert_allclose(np.diff(res.placements, axis=0), got, atol=1e-9)
    # the strip is the scene sampled on the strip grid
    rr, cc = np.mgrid[0:res.strip.shape[0], 0:res.strip.shape[1]].astype(float)
    ref = plane_scene(origin[0, 0] + rr - res.placements[0, 0],
                      origin[0, 1] + cc - res.placements[0, 1])
    ok = np.isfinite(res.strip)
    assert ok.mean() > 0.95
    err = res.strip[ok] - ref[ok]
    assert np.sqrt(np.mean(err**2)) < 0.02 * ref.std()
    assert res.strip.shape[0] == pytest.approx(abs(origin[-1, 0]) + 256, abs=2)


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from([-1.0, 1.0]))
def test_random_offsets_round_trip(seed: int, sign: float) -> None:
    """Any sub-pixel offsets (along-track 86-92 % of a 256-line framelet, i.e. overlaps of
    20-36 lines as flown, +/-1.5 px drift) and a prediction error up to 0.8 px: refined
    offsets within 0.05 px, seams within 0.1 px."""
    imgs, true, _ = _framelets(3, 256, 96, sign, seed)
    rng = np.random.default_rng(seed + 1)
    res = stitch_framelets(imgs, true + rng.uniform(-0.8, 0.8, true.shape))
    got = np.array([s.offset for s in res.seams])
    assert np.abs(got - true).max() < 0.05
    assert res.max_seam_residual_px <= 0.1


def test_unrefined_seams_show_the_prediction_error() -> None:
    imgs, true, _ = _framelets(4, 128, 160, -1.0, 9)
    err = np.array([[0.6, 0.0], [0.0, -0.7], [0.5, 0.5]])
    res = stitch_framelets(imgs, true + err, refine=False)
    resid = np.array([s.residual_px for s in res.seams])
    np.testing.assert_allclose(resid, np.hypot(err[:, 0], err[:, 1]), atol=0.1)
    assert not any(s.refined for s in res.seams)


def test_deterministic_and_errors() -> None:
    imgs, true, _ = _framelets(3, 96, 96, 1.0, 5)
    a = stitch_framelets(imgs, true + 0.3)
    b = stitch_framelets(imgs, true + 0.3)
    assert a.strip.tobytes() == b.strip.tobytes()
    with pytest.raises(ValueError, match="offsets"):
        stitch_framelets(imgs, true[:1])
    with pytest.raises(ValueError, match="no framelets"):
        stitch_framelets([], np.zeros((0, 2)))
    # no overlap: prediction kept, flagged, no crash
    far = true.copy()
    far[:, 0] *= 1.5
    res = stitch_framelets(imgs, far)
    assert not any(s.refined for s in res.seams)


def test_stitch_push_frame_render() -> None:
    """PAN framelets of a synthetic observation: geometric prediction within a pixel,
    refined seams consistent to 0.1 px."""
    obs = make_obs(n_exp=4, width=256, col0=896)
    fr = [f for f in render(obs, 0.0, ("PAN",))]
    cams = [f.camera for f in fr]
    pred = predict_offsets(cams, [f.image.shape for f in fr])
    assert np.all(np.abs(pred[:, 0]) > 200) and np.all(np.abs(pred[:, 1]) < 2)
    res = stitch_filter(fr)
    for s in res.seams:
        assert s.refined
        assert np.hypot(s.offset[0] - s.predicted[0], s.offset[1] - s.predicted[1]) < 0.5
    assert res.max_seam_residual_px <= 0.1
    assert np.isfinite(res.strip).mean() > 0.95
    # a missing framelet leaves a flagged seam and a gap, not a crash
    gap = stitch_filter([fr[0], fr[1], fr[3]])
    assert [s.refined for s in gap.seams] == [True, False]
    assert np.isnan(gap.strip).all(axis=1).sum() > 150
    with pytest.raises(ValueError, match="several filters"):
        stitch_filter(render(obs, 0.0, ("PAN", "RED"))[:2])


def _reference_strip(images: list[np.ndarray], pos: np.ndarray) -> np.ndarray:
    """The blend spelled out as before the two-pass kernel: each framelet resampled with
    shift_cubic onto the full strip width, feather-weighted sums in float64."""
    from cassis_pipe.imaging.resample import shift_cubic
    n_lines = int(np.ceil(max(p[0] + im.shape[0] - 1 for p, im in zip(pos, images, strict=True))))
    n_samples = int(np.ceil(max(p[1] + im.shape[1] - 1 for p, im in zip(pos, images, strict=True))))
    acc = np.zeros((n_lines + 1, n_samples + 1))
    wsum = np.zeros_like(acc)
    for p, im in zip(pos, images, strict=True):
        row0 = int(np.ceil(p[0]))
        rows = int(np.floor(p[0] + im.shape[0] - 1)) - row0 + 1
        band = shift_cubic(im, p[0], p[1], rows, n_samples + 1, float(row0), 0.0)
        for r in range(rows):
            y = (row0 - p[0]) + r
            w = min(y + 0.5, im.shape[0] - 0.5 - y)
            if w <= 0.0:
                continue
            ok = np.isfinite(band[r])
            acc[row0 + r, ok] += w * band[r, ok]
            wsum[row0 + r, ok] += w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(wsum > 0, acc / np.where(wsum > 0, wsum, 1.0), np.nan).astype(np.float32)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), sign=st.sampled_from([-1.0, 1.0]),
       ragged=st.booleans())
def test_blend_equals_per_framelet_reference(seed: int, sign: float, ragged: bool) -> None:
    """The row-by-row two-pass blend gives the bytes of resampling every framelet and summing
    (NaN pixels, framelets of different widths, sub-pixel offsets both ways)."""
    rng = np.random.default_rng(seed)
    n = 4
    imgs = [rng.normal(size=(40, 30 - (3 * k if ragged else 0))) for k in range(n)]
    imgs[1][5, 7] = np.nan
    imgs[2][0, :4] = np.nan
    off = np.stack([sign * rng.uniform(28.0, 36.0, n - 1), rng.uniform(-2.5, 2.5, n - 1)],
                   axis=1)
    res = stitch_framelets(imgs, off, refine=False)
    ref = _reference_strip(imgs, res.placements)
    assert res.strip.dtype == np.float32 and res.strip.shape == ref.shape
    assert res.strip.tobytes() == ref.tobytes()


@pytest.mark.parametrize("sign", [-1.0, 1.0])
def test_smoothed_overlaps_are_the_full_smoothing(sign: float) -> None:
    """Smoothing only the overlap lines gives, on those lines, the bytes of smoothing the
    whole framelet, and covers the overlap widened by the largest possible correction."""
    from cassis_pipe.register.correlate import smooth
    from cassis_pipe.register.stitch import _smoothed_overlaps
    imgs, true, _ = _framelets(4, 120, 40, sign, 9)
    got = _smoothed_overlaps(imgs, true, 1.0, 4.0)
    for k, (im, g) in enumerate(zip(imgs, got, strict=True)):
        rows = np.isfinite(g).all(axis=1)
        assert rows.any() and (np.isnan(g[~rows]).all())
        assert g[rows].tobytes() == smooth(im, 1.0)[rows].tobytes()
        if k + 1 < len(imgs):        # framelet k's lines seen by k + 1, +- 10 px
            dl = true[k, 0]
            lo, hi = max(0, int(dl) - 10), min(120, int(dl + 120) + 10)
            assert rows[lo:hi].all()
