"""The per-framelet chain on synthetic data with known bias, flat, bad pixels and K."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_calibrate_synth import expose, make_truth, smooth_scene

from cassis_pipe.calibrate import flags
from cassis_pipe.calibrate.calfiles import CalibrationFileError
from cassis_pipe.calibrate.pipeline import calibrate_framelet, calibrate_framelets
from cassis_pipe.instrument.detector import Window

T_EXP_S = 1.44e-3
R_H_AU = 1.387


def _check_recovery(iof: np.ndarray, truth: np.ndarray, mask: np.ndarray, tol: float) -> None:
    good = mask == 0
    assert np.isfinite(iof).all()
    np.testing.assert_allclose(iof[good], truth[good], rtol=tol)
    rep = ((mask & (flags.BAD_PIXEL | flags.LOW_FLAT)) != 0) & ((mask & flags.SATURATED) == 0)
    if rep.any():
        np.testing.assert_allclose(iof[rep], truth[rep], rtol=5e-3)


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("binning", [1, 2])
def test_noise_free_exact_recovery(mode: str, binning: int) -> None:
    cal, hot = make_truth(128, seed=1, mode=mode, n_dead=40, n_hot=40)
    w = Window.from_extent(8, 4, 100, 120, filter="RED", binning=binning)
    scene = smooth_scene(w, mean_iof=0.2 / binning ** 2)   # 2x2 sums saturate 4x earlier
    dn = expose(scene, w, cal, hot, T_EXP_S, R_H_AU, noise=False)
    iof, mask, stats = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU)
    assert iof.shape == mask.shape == w.binned_shape and iof.dtype == np.float32
    h, wd = w.binned_shape
    truth = scene if binning == 1 else scene.reshape(h, 2, wd, 2).mean(axis=(1, 3))
    # DN quantisation: 0.5 DN in ~2000 DN (mean binning rounds the 4-pixel mean: 0.125 DN)
    _check_recovery(iof, truth, mask, tol=5e-4 if binning == 1 else 2e-3)
    assert stats["bad_px"] == np.count_nonzero(mask & flags.BAD_PIXEL)
    assert stats["bad_px"] > 0 and stats["saturated_px"] == 0
    assert stats["iof_per_dn"] == pytest.approx(3.497e-8 * R_H_AU ** 2 / T_EXP_S)


def test_sum_binning_saturates_at_the_binned_level() -> None:
    cal, hot = make_truth(64, seed=1, mode="sum", n_dead=0, n_hot=0)
    w = Window.from_extent(0, 0, 64, 64, filter="NIR", binning=2)
    dn = expose(np.full((64, 64), 0.2), w, cal, hot, T_EXP_S, R_H_AU, noise=False)
    _, mask, stats = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU)
    assert stats["saturated_px"] == 32 * 32 and np.all(mask & flags.SATURATED)


def test_noisy_recovery_is_unbiased() -> None:
    cal, hot = make_truth(256, seed=2)
    w = Window.from_extent(0, 0, 256, 256, filter="PAN")
    scene = np.full((256, 256), 0.2)
    dn = expose(scene, w, cal, hot, T_EXP_S, R_H_AU, seed=9)
    iof, mask, _ = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU)
    good = mask == 0
    s_dn = 0.2 * T_EXP_S / (1.341e-8 * R_H_AU ** 2)            # ~7400 DN per pixel
    sigma = np.sqrt(s_dn / 7.0 + (61.0 / 7.0) ** 2) / s_dn      # relative noise
    rel = iof[good] / 0.2 - 1.0
    assert abs(rel.mean()) < 5 * sigma / np.sqrt(rel.size)
    assert rel.std() == pytest.approx(sigma, rel=0.1)


def test_saturation_counted_and_flagged() -> None:
    cal, hot = make_truth(64, seed=3, n_dead=0, n_hot=0)
    w = Window.from_extent(0, 0, 64, 64, filter="PAN")
    scene = np.full((64, 64), 0.2)
    scene[10:20, 30:40] = 1.0                                   # ~37000 DN: saturates
    dn = expose(scene, w, cal, hot, T_EXP_S, R_H_AU, noise=False)
    iof, mask, stats = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU)
    assert stats["saturated_px"] == 100
    assert stats["saturated_fraction"] == pytest.approx(100 / 64 ** 2)
    assert np.array_equal(np.argwhere(mask & flags.SATURATED).min(0), [10, 30])
    assert np.all(iof[10:20, 30:40] < 1.0)                      # clipped values, lower limits


def test_batch_equals_single_and_threads_deterministic() -> None:
    cal, hot = make_truth(128, seed=4)
    w = Window.from_extent(0, 0, 64, 128, filter="BLU")
    stack = np.stack([expose(smooth_scene(w, seed=i), w, cal, hot, T_EXP_S, R_H_AU, seed=i)
                      for i in range(5)])
    t = [T_EXP_S * (1 + 0.1 * i) for i in range(5)]
    a, ma, sa = calibrate_framelets(stack, w, cal, t, R_H_AU, threads=1)
    b, mb, sb = calibrate_framelets(stack, w, cal, t, R_H_AU, threads=2)
    assert np.array_equal(a, b) and np.array_equal(ma, mb) and sa == sb
    for i in range(5):
        one, m1, s1 = calibrate_framelet(stack[i], w, cal, t[i], R_H_AU)
        assert np.array_equal(one, a[i]) and np.array_equal(m1, ma[i]) and s1 == sa[i]
    assert sa[3]["t_exp_s"] == pytest.approx(1.3 * T_EXP_S)


def test_expand_binned_output_and_bad_input() -> None:
    cal, hot = make_truth(128, seed=5)
    w = Window.from_extent(10, 0, 64, 128, filter="NIR", binning=2)
    scene = smooth_scene(w, mean_iof=0.05)
    dn = expose(scene, w, cal, hot, T_EXP_S, R_H_AU, noise=False)
    iof, mask, stats = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU, expand_mode="bilinear")
    assert iof.shape == mask.shape == (64, 128) and stats["saturated_px"] == 0
    np.testing.assert_allclose(iof, scene, rtol=1e-2)
    with pytest.raises(ValueError):
        calibrate_framelet(dn[:-1], w, cal, T_EXP_S, R_H_AU)
    with pytest.raises(CalibrationFileError):
        calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU, filter_name="UV")
    with pytest.raises(ValueError):
        calibrate_framelets(np.stack([dn, dn]), w, cal, [1e-3], R_H_AU)


def test_no_interpolation_keeps_flags() -> None:
    cal, hot = make_truth(64, seed=6, n_dead=5, n_hot=0)
    w = Window.from_extent(0, 0, 64, 64, filter="PAN")
    dn = expose(np.full((64, 64), 0.2), w, cal, hot, T_EXP_S, R_H_AU, noise=False)
    iof, mask, stats = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU, interpolate=False)
    dead = cal.flat == 0
    assert np.all(np.isnan(iof[dead])) and np.all(mask[dead] & flags.UNFILLED)
    assert stats["low_flat_px"] == 5 and stats["unfilled_px"] == 5


def test_missing_input_is_flagged_not_invented() -> None:
    cal, hot = make_truth(64, seed=8, n_dead=0, n_hot=0)
    w = Window.from_extent(0, 0, 32, 32, filter="PAN")
    dn = expose(np.full((32, 32), 0.2), w, cal, hot, T_EXP_S, R_H_AU, noise=False)
    dn = dn.astype(np.float32)
    dn[5:7, 5:9] = np.nan                                   # e.g. a lost packet
    iof, mask, stats = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU)
    assert stats["missing_px"] == 8 and np.all(np.isnan(iof[5:7, 5:9]))
    assert np.all(mask[5:7, 5:9] & flags.MISSING) and np.isfinite(iof).sum() == 32 * 32 - 8


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.sampled_from(["sum", "mean"]), st.sampled_from([1, 2]),
       st.sampled_from(["PAN", "RED", "NIR", "BLU"]), st.floats(0.3e-3, 3e-3),
       st.floats(1.38, 1.67), st.floats(0.02, 0.3))
def test_round_trip_property(seed: int, mode: str, binning: int, filt: str, t_exp: float,
                             r_h: float, level: float) -> None:
    """Any calibration set, exposure and scene: noise-free DN calibrate back to the scene
    within the DN quantisation, unless flagged saturated. (With mean binning a block where
    only some detector pixels clipped cannot be detected: such blocks are left out.)"""
    cal, hot = make_truth(48, seed=seed % 1000, mode=mode, n_dead=3, n_hot=3)
    rng = np.random.default_rng(seed)
    w = Window.from_extent(int(rng.integers(0, 8)), int(rng.integers(0, 8)), 32, 40, filter=filt,
                           binning=binning)
    scene = level * (1 + 0.05 * rng.standard_normal((32, 40)))
    scene = scene.reshape(32 // binning, binning, 40 // binning, binning).mean(axis=(1, 3))
    scene = np.repeat(np.repeat(scene, binning, 0), binning, 1)       # flat inside 2x2 blocks
    dn = expose(scene, w, cal, hot, t_exp, r_h, noise=False)
    iof, mask, stats = calibrate_framelet(dn, w, cal, t_exp, r_h)
    truth = scene[::binning, ::binning]
    sl = w.detector_slice()
    raw = scene * t_exp / (cal.k(filt) * r_h ** 2) * cal.flat[sl] + cal.bias_dn[sl] + hot[sl]
    clipped = (raw >= 16382.5).reshape(truth.shape[0], binning, truth.shape[1], binning)
    ok = (mask == 0) & ~clipped.any(axis=(1, 3))
    s_dn = truth / stats["iof_per_dn"]                                 # DN per detector pixel
    flat = cal.flat[sl].reshape(truth.shape[0], binning, truth.shape[1], binning).mean((1, 3))
    # rounding: 0.5 DN per pixel; a mean-binned value is rounded once more (another 0.5)
    q = 1.0 if (binning == 2 and mode == "mean") else 0.5
    tol_dn = (q + 0.02) / np.maximum(flat, 0.5)
    assert np.all(np.abs(iof[ok] / stats["iof_per_dn"] - s_dn[ok]) <= tol_dn[ok])
    assert stats["saturated_px"] == int(np.count_nonzero(mask & flags.SATURATED))


def test_dark_column_row_offsets_in_the_chain() -> None:
    """A per-row bias drift since the master was made is removed with dark columns."""
    cal, hot = make_truth(64, seed=9, n_dead=0, n_hot=0)
    w = Window.from_extent(0, 0, 64, 64, filter="RED")
    scene = np.full((64, 64), 0.25)
    scene[:, :4] = 0.0                                       # masked columns 0-3
    dn = expose(scene, w, cal, hot, T_EXP_S, R_H_AU, noise=False).astype(np.float64)
    drift = np.linspace(-20.0, 30.0, 64)
    dn += drift[:, None]
    plain, _, _ = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU)
    fixed, _, _ = calibrate_framelet(dn, w, cal, T_EXP_S, R_H_AU, dark_cols=np.arange(4))
    assert np.abs(plain[:, 4:] / 0.25 - 1).max() > 0.005
    np.testing.assert_allclose(fixed[:, 4:], 0.25, rtol=6e-4)


def test_stack_with_models_and_fields_equals_single_calls() -> None:
    """The stage calibrates each window's framelets as one stack with one straylight model
    per framelet and precomputed window fields: identical to one call per framelet."""
    from cassis_pipe.calibrate.pipeline import window_fields
    from cassis_pipe.calibrate.straylight import StrayModel

    cal, hot = make_truth(128, seed=5)
    w = Window.from_extent(8, 0, 64, 128, filter="RED")
    stack = np.stack([expose(smooth_scene(w, seed=i), w, cal, hot, T_EXP_S, R_H_AU, seed=i)
                      for i in range(4)])
    models = [StrayModel(1, (2.0 + i, 0.3 * i, -0.2)) for i in range(3)] + [None]
    t = [T_EXP_S * (1 + 0.2 * i) for i in range(4)]
    r_h = [R_H_AU * (1 + 0.01 * i) for i in range(4)]
    wf = window_fields(w, cal)
    a, ma, sa = calibrate_framelets(stack, w, cal, t, r_h, straylight=models, fields=wf)
    for i in range(4):
        one, m1, s1 = calibrate_framelet(stack[i], w, cal, t[i], r_h[i], straylight=models[i])
        assert one.tobytes() == a[i].tobytes() and np.array_equal(m1, ma[i]) and s1 == sa[i]
    with pytest.raises(ValueError, match="fields of window"):
        calibrate_framelets(stack, Window.from_extent(0, 0, 64, 128, filter="RED"), cal, t, r_h,
                            fields=wf)
