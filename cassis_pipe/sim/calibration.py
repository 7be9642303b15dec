"""Detector truth fields (bias, flat, bad pixels, straylight) and the calibration files.

Fields are full-detector (2048 x 2048, row-major, 0-based rows/cols) float32 arrays generated
deterministically from the seed. The calibration files the pipeline consumes are *estimates*
of these truths (as real masters are): the master bias carries 0.5 DN rms and the master flat
0.1 % rms estimation noise; the bad-pixel map and K table are exact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d

from cassis_pipe.calibrate.calfiles import CalSet, write_calset
from cassis_pipe.instrument.constants import FILTER_ORDER, K_TABLE
from cassis_pipe.sim.config import DetectorConfig

BAD_DEAD = 1
BAD_HOT = 2


@dataclass
class DetectorTruth:
    """True detector state: bias (DN), flat (relative response), bad-pixel codes, hot DN."""

    bias_dn: np.ndarray
    flat: np.ndarray
    badpix: np.ndarray
    hot_dn: np.ndarray


def _rng(seed: int, tag: int) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64([seed, tag]))


def make_detector(det: DetectorConfig, seed: int) -> DetectorTruth:
    """Bias with column/row structure, vignetted flat with PRNU, dead and hot pixels."""
    n = det.size_px
    rng = _rng(seed, 101)
    col = rng.normal(0.0, 1.0, n)
    col = 0.6 * col + 0.8 * gaussian_filter1d(rng.normal(0.0, 1.0, n), 25.0) * 5.0
    col *= det.bias_col_rms_dn / max(col.std(), 1e-9)
    row = gaussian_filter1d(rng.normal(0.0, 1.0, n), 40.0)
    row = row / max(row.std(), 1e-9) * det.bias_row_rms_dn
    bias = (det.bias_level_dn + col[None, :] + row[:, None]).astype(np.float32)
    rr, cc = np.mgrid[0:n, 0:n].astype(np.float32)
    c0 = (n - 1) / 2.0
    r2 = ((rr - c0) ** 2 + (cc - c0) ** 2) / (2.0 * c0 * c0)
    flat = (1.0 - det.flat_vignetting * r2) * (1.0 + det.flat_prnu * rng.standard_normal(
        (n, n), dtype=np.float32))
    flat = (flat / np.median(flat)).astype(np.float32)
    badpix = np.zeros((n, n), np.uint8)
    n_dead = int(round(det.dead_fraction * n * n))
    n_hot = int(round(det.hot_fraction * n * n))
    idx = rng.choice(n * n, n_dead + n_hot, replace=False)
    badpix.flat[idx[:n_dead]] = BAD_DEAD
    badpix.flat[idx[n_dead:]] = BAD_HOT
    flat.flat[idx[:n_dead]] = 0.0
    hot = np.zeros((n, n), np.float32)
    hot.flat[idx[n_dead:]] = rng.uniform(1500.0, 9000.0, n_hot).astype(np.float32)
    return DetectorTruth(bias, flat, badpix, hot)


def straylight_pattern(n: int, centre_rc: tuple[float, float], sigma_px: float = 900.0,
                       floor: float = 0.3) -> np.ndarray:
    """Smooth straylight shape (peak ~1) over the whole detector, float32 (n, n)."""
    r = np.arange(n, dtype=np.float32)[:, None] - np.float32(centre_rc[0])
    c = np.arange(n, dtype=np.float32)[None, :] - np.float32(centre_rc[1])
    return (floor + (1.0 - floor) * np.exp(-(r * r + c * c) / np.float32(2.0 * sigma_px ** 2))
            ).astype(np.float32)


def write_calibration(out: Path, truth: DetectorTruth, det: DetectorConfig, version: str,
                      seed: int) -> dict:
    """Write ``calibration/<version>/`` (bias, flat, bad pixels, K table, manifest) with
    :func:`cassis_pipe.calibrate.write_calset`; returns the manifest."""
    rng = _rng(seed, 202)
    n = det.size_px
    bias = (truth.bias_dn + rng.normal(0.0, 0.5, (n, n)).astype(np.float32)).astype(np.float32)
    flat = (truth.flat * (1.0 + rng.normal(0.0, 0.001, (n, n)).astype(np.float32))
            ).astype(np.float32)
    cal = CalSet(version, bias, flat, truth.badpix, {f: K_TABLE[f] for f in FILTER_ORDER})
    d = write_calset(out, cal, cards=[("ORIGIN", "cassis-pipe sim", "simulated calibration")],
                     bad_pixel_codes="0 good, 1 dead, 2 hot", record_settings=False)
    return json.loads((d / "manifest.json").read_text())
