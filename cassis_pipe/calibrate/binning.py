"""On-board binning of full-detector calibration fields onto a detector window.

Windows are :class:`cassis_pipe.instrument.detector.Window`: with ``binning`` = b the PE sums
(or averages) b x b blocks, so the data are ``window.binned_shape`` and an odd last row/column
is dropped (as the simulator does).
"""

from __future__ import annotations

import numpy as np

from cassis_pipe.instrument.detector import Window

BIN_MODES = ("sum", "mean")


def _check_field(field: np.ndarray, window: Window) -> np.ndarray:
    if field.ndim != 2:
        raise ValueError(f"calibration field must be 2-D, got shape {field.shape}")
    sl = window.detector_slice()
    if sl[0].stop > field.shape[0] or sl[1].stop > field.shape[1]:
        raise ValueError(f"window {window} extends beyond the {field.shape} detector field")
    return field[sl]


def bin_field(field: np.ndarray, window: Window, mode: str) -> np.ndarray:
    """Cut ``window`` out of a full-detector float field and bin it like the PE does.

    ``mode`` "sum" adds the 2 x 2 detector values (use for bias in DN when the PE sums),
    "mean" averages them (bias with averaging PE, and always the flat). Returns float32
    of ``window.binned_shape``; an unbinned window returns a float32 copy of the cut-out.
    """
    if mode not in BIN_MODES:
        raise ValueError(f"binning mode {mode!r} not one of {BIN_MODES}")
    sub = _check_field(field, window).astype(np.float64)
    b = window.binning
    if b == 1:
        return sub.astype(np.float32)
    h, w = window.binned_shape
    blocks = sub.reshape(h, b, w, b).sum(axis=(1, 3))
    if mode == "mean":
        blocks *= 1.0 / (b * b)
    return blocks.astype(np.float32)


def bin_mask(mask: np.ndarray, window: Window) -> np.ndarray:
    """Cut out and bin a full-detector bad-pixel map: a data pixel is bad (1) if any of its
    detector pixels is non-zero. Returns uint8 of ``window.binned_shape``."""
    sub = _check_field(mask, window) != 0
    b = window.binning
    if b == 1:
        return sub.astype(np.uint8)
    h, w = window.binned_shape
    return sub.reshape(h, b, w, b).any(axis=(1, 3)).astype(np.uint8)


def signal_per_pixel_factor(window: Window, mode: str) -> float:
    """Divisor turning bias-subtracted window DN into DN per detector pixel (b^2 for b x b sum
    binning, else 1)."""
    if mode not in BIN_MODES:
        raise ValueError(f"binning mode {mode!r} not one of {BIN_MODES}")
    return float(window.binning * window.binning) if mode == "sum" else 1.0
