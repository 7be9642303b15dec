"""Detector windows and on-board binning of full-detector calibration fields.

Coordinates are 0-based detector (row, col) = (line, sample) on the 2048 x 2048 detector.
A window covers ``rows`` x ``cols`` detector pixels starting at (``row0``, ``col0``); with
``binning`` = 2 the PE sums (or averages) 2 x 2 blocks, so the data are
``(rows // 2, cols // 2)`` and an odd last row/column is dropped (as the simulator does).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BIN_MODES = ("sum", "mean")


@dataclass(frozen=True)
class Window:
    """One read-out window on the detector (full-resolution pixel extent)."""

    row0: int
    col0: int
    rows: int
    cols: int
    binning: int = 1
    name: str = ""

    def __post_init__(self) -> None:
        if self.binning not in (1, 2):
            raise ValueError(f"window {self.name!r}: binning {self.binning} not 1 or 2")
        if self.row0 < 0 or self.col0 < 0 or self.rows < self.binning or self.cols < self.binning:
            raise ValueError(f"window {self.name!r}: bad extent {self}")

    @classmethod
    def from_bounds(cls, row0: int, row1: int, col0: int, col1: int, binning: int = 1,
                    name: str = "") -> Window:
        """Window from inclusive detector bounds; ``binning`` 1 (none) or 2 (2 x 2)."""
        return cls(row0, col0, row1 - row0 + 1, col1 - col0 + 1, binning, name)

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of the window data as read out (binned if commanded), pixels."""
        return self.rows // self.binning, self.cols // self.binning

    @property
    def used_rows(self) -> int:
        """Detector rows that contribute to the data (odd remainder dropped when binned)."""
        return self.shape[0] * self.binning

    @property
    def used_cols(self) -> int:
        """Detector columns that contribute to the data."""
        return self.shape[1] * self.binning

    def detector_slice(self) -> tuple[slice, slice]:
        """Slices of a full-detector array covering the contributing detector pixels."""
        return (slice(self.row0, self.row0 + self.used_rows),
                slice(self.col0, self.col0 + self.used_cols))

    def pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Detector (row, col) of the centre of every data pixel, float64 1-D arrays, px.

        The centre of detector pixel (r, c) is (r, c); a 2 x 2 binned pixel is centred at
        (r + 0.5, c + 0.5) of its first detector pixel.
        """
        h, w = self.shape
        off = 0.5 * (self.binning - 1)
        r = self.row0 + self.binning * np.arange(h, dtype=np.float64) + off
        c = self.col0 + self.binning * np.arange(w, dtype=np.float64) + off
        return r, c


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
    of ``window.shape``; an unbinned window returns a float32 copy of the cut-out.
    """
    if mode not in BIN_MODES:
        raise ValueError(f"binning mode {mode!r} not one of {BIN_MODES}")
    sub = _check_field(field, window).astype(np.float64)
    if window.binning == 1:
        return sub.astype(np.float32)
    h, w = window.shape
    blocks = sub.reshape(h, 2, w, 2).sum(axis=(1, 3))
    if mode == "mean":
        blocks *= 0.25
    return blocks.astype(np.float32)


def bin_mask(mask: np.ndarray, window: Window) -> np.ndarray:
    """Cut out and bin a full-detector bad-pixel map: a data pixel is bad (1) if any of its
    detector pixels is non-zero. Returns uint8 of ``window.shape``."""
    sub = _check_field(mask, window) != 0
    if window.binning == 1:
        return sub.astype(np.uint8)
    h, w = window.shape
    return sub.reshape(h, 2, w, 2).any(axis=(1, 3)).astype(np.uint8)


def signal_per_pixel_factor(window: Window, mode: str) -> float:
    """Divisor turning bias-subtracted window DN into DN per detector pixel (4 for 2 x 2 sum
    binning, else 1)."""
    if mode not in BIN_MODES:
        raise ValueError(f"binning mode {mode!r} not one of {BIN_MODES}")
    return float(window.binning * window.binning) if mode == "sum" else 1.0
