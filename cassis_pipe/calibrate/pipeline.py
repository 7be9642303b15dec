"""Per-framelet radiometric chain: raw DN -> I/F with a quality mask and statistics.

Order of operations for each framelet of one window (all kernels in this package):

1. saturation check on the raw DN (>= ``CalSet.saturation_dn``);
2. bias subtraction with the window's (binned) master bias, optional per-row offset from
   dark reference columns;
3. division by the window's flat (2 x 2 mean for binned windows) and, for sum-binned windows,
   by 4 -> DN per detector pixel; flats <= 0.05 are unusable;
4. straylight subtraction (a :class:`StrayModel` fitted on dark samples of the same exposure);
5. repair of bad (bad-pixel map, unusable flat) pixels from valid neighbours;
6. absolute calibration, I/F = DN K r_h^2 / t_exp;
7. optional expansion of binned windows to full resolution.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cassis_pipe.calibrate import flags
from cassis_pipe.calibrate._stack import as_stack, unstack
from cassis_pipe.calibrate.absolute import iof_per_dn, to_iof
from cassis_pipe.calibrate.badpix import MAX_RADIUS_PX, interpolate_bad
from cassis_pipe.calibrate.bias import subtract_bias, subtract_row_offsets
from cassis_pipe.calibrate.binning import bin_field, bin_mask, signal_per_pixel_factor
from cassis_pipe.calibrate.calfiles import CalSet
from cassis_pipe.calibrate.expand import expand, expand_mask
from cassis_pipe.calibrate.flat import MIN_FLAT, divide_flat
from cassis_pipe.calibrate.saturation import saturation_mask
from cassis_pipe.calibrate.straylight import StrayModel, fit_straylight, window_samples
from cassis_pipe.instrument.detector import Window
from cassis_pipe.parallel import set_threads


@dataclass(frozen=True)
class WindowFields:
    """Calibration fields cut out (and binned) for one window."""

    window: Window
    bias_dn: np.ndarray
    flat: np.ndarray
    bad: np.ndarray
    divisor: float


def window_fields(window: Window, calset: CalSet) -> WindowFields:
    """Cut the master bias / flat / bad-pixel map to ``window`` and bin them like the PE."""
    mode = calset.binning_mode
    return WindowFields(window, bin_field(calset.bias_dn, window, mode),
                        bin_field(calset.flat, window, "mean"),
                        bin_mask(calset.bad_pixels, window).astype(bool),
                        signal_per_pixel_factor(window, mode))


def _check_dn(stack: np.ndarray, window: Window) -> None:
    if stack.shape[1:] != window.binned_shape:
        raise ValueError(f"framelet shape {stack.shape[1:]} != window {window.filter!r} data "
                         f"shape {window.binned_shape}")


def dark_corrected(dn: np.ndarray, window: Window, calset: CalSet,
                   dark_cols: np.ndarray | None = None,
                   fields: WindowFields | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Steps 2-3 only: DN per detector pixel (float32, NaN where the flat is unusable) and a
    bool mask of pixels usable as samples (not bad, not saturated, finite)."""
    stack, single = as_stack(dn)
    _check_dn(stack, window)
    wf = fields or window_fields(window, calset)
    sat, _ = saturation_mask(stack, calset.saturation_dn)
    sig = subtract_bias(stack, wf.bias_dn)
    if dark_cols is not None:
        sig = subtract_row_offsets(sig, dark_cols)
    out, _ = divide_flat(sig, wf.flat, wf.divisor, MIN_FLAT)
    ok = ~sat & ~wf.bad[None] & np.isfinite(out)
    return unstack(out, single), unstack(ok, single)


def straylight_from_controls(controls: Sequence[tuple[np.ndarray, Window]], calset: CalSet,
                             order: int = 1, fields: Mapping[Window, WindowFields] | None = None,
                             **fit_kw: Any) -> StrayModel:
    """Fit the straylight of one exposure on its control windows (each (dn (H, W), Window)),
    DN per detector pixel. ``fields``: precomputed :func:`window_fields` per window (any
    missing are computed). See :func:`cassis_pipe.calibrate.straylight.fit_straylight`."""
    if not controls:
        raise ValueError("no control windows for the straylight fit")
    rows, cols, vals = [], [], []
    for dn, win in controls:
        wf = fields.get(win) if fields is not None else None
        img, ok = dark_corrected(np.asarray(dn), win, calset, fields=wf)
        r, c, v = window_samples(img, win, ok)
        rows.append(r)
        cols.append(c)
        vals.append(v)
    return fit_straylight(np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                          order=order, detector_px=calset.detector_px, **fit_kw)


def _per_framelet(value: float | Sequence[float] | np.ndarray, n: int, what: str) -> np.ndarray:
    a = np.asarray(value, dtype=np.float64)
    if a.ndim == 0:
        return np.full(n, float(a))
    if a.shape != (n,):
        raise ValueError(f"{what}: need a scalar or {n} values, got shape {a.shape}")
    return a


def calibrate_framelets(dn: np.ndarray, window: Window, calset: CalSet,
                        t_exp_s: float | Sequence[float], r_h_au: float | Sequence[float], *,
                        filter_name: str | None = None,
                        straylight: StrayModel | Sequence[StrayModel | None] | None = None,
                        dark_cols: np.ndarray | None = None, interpolate: bool = True,
                        max_radius: int = MAX_RADIUS_PX, expand_mode: str | None = None,
                        threads: int | None = None, fields: WindowFields | None = None
                        ) -> tuple[np.ndarray, np.ndarray, list[dict[str, Any]]]:
    """Calibrate a stack (N, H, W) of raw DN framelets of one window to I/F.

    ``t_exp_s`` (s) and ``r_h_au`` (AU) are scalars or one per framelet; ``filter_name``
    (default ``window.filter``) selects K; ``straylight`` is one model for all framelets or one
    per framelet (None = no straylight). ``expand_mode`` ("bilinear" as the Bern level-1b
    files, or "replicate") expands 2 x 2 binned windows to full resolution. ``threads`` sets
    the numba thread count; ``fields`` are the window's :func:`window_fields` if already
    computed (same window and ``calset``; reused across framelets). Returns (I/F float32,
    flags uint8, per-framelet stats dicts).
    """
    set_threads(threads)
    stack, _ = as_stack(dn)              # a single (H, W) framelet becomes a stack of one
    _check_dn(stack, window)
    n = stack.shape[0]
    name = filter_name if filter_name is not None else window.filter
    k = calset.k(name)
    t_exp = _per_framelet(t_exp_s, n, "t_exp_s")
    r_h = _per_framelet(r_h_au, n, "r_h_au")
    factors = np.array([iof_per_dn(k, r, t) for r, t in zip(r_h, t_exp, strict=True)])
    wf = fields if fields is not None else window_fields(window, calset)
    if wf.window != window:
        raise ValueError(f"fields of window {wf.window} given for window {window}")

    sat, sat_counts = saturation_mask(stack, calset.saturation_dn)
    sig = subtract_bias(stack, wf.bias_dn)
    if dark_cols is not None:
        sig = subtract_row_offsets(sig, dark_cols)
    dnpp, low = divide_flat(sig, wf.flat, wf.divisor, MIN_FLAT)
    missing = ~np.isfinite(sig)

    models: list[StrayModel | None]
    if straylight is None or isinstance(straylight, StrayModel):
        models = [straylight] * n
    else:
        models = list(straylight)
        if len(models) != n:
            raise ValueError(f"need {n} straylight models, got {len(models)}")
    stray_mean = np.zeros(n)
    cache: dict[int, np.ndarray] = {}
    for i, m in enumerate(models):
        if m is None:
            continue
        if id(m) not in cache:
            cache[id(m)] = m.window_field(window)
        field = cache[id(m)]
        dnpp[i] -= field
        stray_mean[i] = float(field.mean())

    repair = wf.bad | low
    unfilled = np.zeros(stack.shape, dtype=bool)
    if interpolate and repair.any():
        dnpp, unfilled = interpolate_bad(dnpp, repair, max_radius)
    iof = to_iof(dnpp, factors)

    mask = np.zeros(stack.shape, dtype=np.uint8)
    mask |= (wf.bad * flags.BAD_PIXEL).astype(np.uint8)[None]
    mask |= (low * flags.LOW_FLAT).astype(np.uint8)[None]
    mask[sat] |= flags.SATURATED
    mask[unfilled] |= flags.UNFILLED
    mask[missing] |= flags.MISSING
    if not interpolate:
        mask[:, low] |= flags.UNFILLED

    npx = window.binned_shape[0] * window.binned_shape[1]
    stats = []
    for i in range(n):
        m = models[i]
        stats.append({
            "window": window.filter, "filter": name, "calibration_version": calset.version,
            "pixels": npx, "saturated_px": int(sat_counts[i]),
            "saturated_fraction": float(sat_counts[i]) / npx,
            "bad_px": int(wf.bad.sum()), "low_flat_px": int(low.sum()),
            "unfilled_px": int(np.count_nonzero(mask[i] & flags.UNFILLED)),
            "missing_px": int(np.count_nonzero(missing[i])),
            "k": k, "t_exp_s": float(t_exp[i]), "r_h_au": float(r_h[i]),
            "iof_per_dn": float(factors[i]),
            "straylight_order": None if m is None else m.order,
            "straylight_mean_dn": float(stray_mean[i]),
        })
    if expand_mode is not None and window.binning == 2:
        iof = expand(iof, expand_mode)
        mask = expand_mask(mask, expand_mode)
    return iof, mask, stats


def calibrate_framelet(dn: np.ndarray, window: Window, calset: CalSet, t_exp_s: float,
                       r_h_au: float, **kw: Any
                       ) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """Calibrate one framelet (H, W) of raw DN to I/F; keywords as
    :func:`calibrate_framelets`. Returns (I/F float32, flags uint8, stats dict)."""
    a = np.asarray(dn)
    if a.ndim != 2:
        raise ValueError(f"one framelet must be 2-D, got shape {a.shape}")
    iof, mask, stats = calibrate_framelets(a[None], window, calset, t_exp_s, r_h_au, **kw)
    return iof[0], mask[0], stats[0]


def calibrate_exposure(windows: Mapping[str, tuple[np.ndarray, Window]], calset: CalSet,
                       t_exp_s: float, r_h_au: float, *,
                       control_names: Sequence[str] = ("CTL1", "CTL2"), order: int = 1,
                       **kw: Any) -> dict[str, tuple[np.ndarray, np.ndarray, dict[str, Any]]]:
    """Calibrate every filter window of one exposure, fitting the straylight on the windows
    named in ``control_names`` that are present (none present: no straylight removal).
    Control windows are not returned."""
    controls = [windows[c] for c in control_names if c in windows]
    model = straylight_from_controls(controls, calset, order) if controls else None
    out = {}
    for name, (dn, win) in windows.items():
        if name in control_names:
            continue
        out[name] = calibrate_framelet(dn, win, calset, t_exp_s, r_h_au, straylight=model,
                                       **kw)
    return out
