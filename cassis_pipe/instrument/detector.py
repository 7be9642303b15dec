"""Detector windows: filter strips, column crops and on-board binning.

Coordinates: detector ``(line, sample)`` 0-based with pixel centres at integers (see
:mod:`cassis_pipe.instrument.constants`). A window covers detector rows ``row0..row1`` and
columns ``col0..col1`` (inclusive) and is read out with ``binning x binning`` summing; output
("window image") pixel ``(i, j)`` is the block of detector pixels
``row0 + i*b .. row0 + i*b + b - 1`` x ``col0 + j*b .. col0 + j*b + b - 1``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import DETECTOR_LINES, DETECTOR_SAMPLES, FILTERS, FilterInfo, binning_from_code


@dataclass(frozen=True)
class Window:
    """One detector read-out window (rows/cols 0-based inclusive, binning factor 1/2/4/8)."""

    filter: str
    row0: int
    row1: int
    col0: int = 0
    col1: int = DETECTOR_SAMPLES - 1
    binning: int = 1

    def __post_init__(self) -> None:
        if self.filter not in FILTERS:
            raise ValueError(f"unknown filter {self.filter!r}")
        if self.binning not in (1, 2, 4, 8):
            raise ValueError(f"binning {self.binning!r} not one of 1, 2, 4, 8")
        if not (0 <= self.row0 <= self.row1 < DETECTOR_LINES):
            raise ValueError(f"rows {self.row0}..{self.row1} outside the detector")
        if not (0 <= self.col0 <= self.col1 < DETECTOR_SAMPLES):
            raise ValueError(f"columns {self.col0}..{self.col1} outside the detector")
        lines, samples = self.shape
        if lines % self.binning or samples % self.binning:
            raise ValueError(f"window {self.shape} not divisible by binning {self.binning}")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def default(cls, filter: str, binning: int = 1, col0: int = 0,
                col1: int = DETECTOR_SAMPLES - 1) -> Window:
        """The flown default window of ``filter`` (full width unless cropped)."""
        info = FILTERS[filter]
        return cls(filter, info.row0, info.row1, col0, col1, binning)

    @classmethod
    def from_code(cls, filter: str, row0: int, row1: int, col0: int, col1: int,
                  binning_code: int) -> Window:
        """Window from the imaging-parameter-table binning code (0..3 -> 1, 2, 4, 8)."""
        return cls(filter, row0, row1, col0, col1, binning_from_code(binning_code))

    def to_dict(self) -> dict[str, int | str]:
        """JSON-ready dict (keys: filter, row0, row1, col0, col1, binning)."""
        return {"filter": self.filter, "row0": self.row0, "row1": self.row1, "col0": self.col0,
                "col1": self.col1, "binning": self.binning}

    @classmethod
    def from_dict(cls, d: dict) -> Window:
        """Inverse of :meth:`to_dict` (col0/col1/binning optional)."""
        return cls(str(d["filter"]), int(d["row0"]), int(d["row1"]), int(d.get("col0", 0)),
                   int(d.get("col1", DETECTOR_SAMPLES - 1)), int(d.get("binning", 1)))

    # -- sizes ----------------------------------------------------------------------------
    @property
    def info(self) -> FilterInfo:
        """Static filter metadata (centre wavelength, window index, NAIF id)."""
        return FILTERS[self.filter]

    @property
    def shape(self) -> tuple[int, int]:
        """Full-resolution (lines, samples) covered on the detector."""
        return (self.row1 - self.row0 + 1, self.col1 - self.col0 + 1)

    @property
    def binned_shape(self) -> tuple[int, int]:
        """(lines, samples) of the window image as read out (after binning)."""
        lines, samples = self.shape
        return (lines // self.binning, samples // self.binning)

    # -- coordinates --------------------------------------------------------------------
    def to_detector(self, line: np.ndarray | float, sample: np.ndarray | float
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Window-image (binned) coordinates -> detector coordinates (both pixel-centre-integer,
        continuous). Binned pixel centre ``i`` maps to the centre of its ``b x b`` block."""
        b = self.binning
        line = np.asarray(line, dtype=np.float64)
        sample = np.asarray(sample, dtype=np.float64)
        return (self.row0 - 0.5 + (line + 0.5) * b, self.col0 - 0.5 + (sample + 0.5) * b)

    def from_detector(self, line: np.ndarray | float, sample: np.ndarray | float
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Detector coordinates -> window-image (binned) coordinates (inverse of to_detector)."""
        b = self.binning
        line = np.asarray(line, dtype=np.float64)
        sample = np.asarray(sample, dtype=np.float64)
        return ((line - self.row0 + 0.5) / b - 0.5, (sample - self.col0 + 0.5) / b - 0.5)

    def pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Detector (line, sample) of every output pixel centre, each of ``binned_shape``."""
        nl, ns = self.binned_shape
        li, si = self.to_detector(np.arange(nl, dtype=np.float64),
                                  np.arange(ns, dtype=np.float64))
        return np.broadcast_to(li[:, None], (nl, ns)).copy(), np.broadcast_to(
            si[None, :], (nl, ns)).copy()

    def contains(self, line: np.ndarray, sample: np.ndarray) -> np.ndarray:
        """True where detector coordinates fall inside the window's pixel area."""
        line = np.asarray(line)
        sample = np.asarray(sample)
        return ((line >= self.row0 - 0.5) & (line < self.row1 + 0.5)
                & (sample >= self.col0 - 0.5) & (sample < self.col1 + 0.5))

    # -- data -----------------------------------------------------------------------------
    def bin(self, full: np.ndarray) -> np.ndarray:
        """Sum ``b x b`` blocks of a full-resolution window array (``shape``) into a binned
        array (``binned_shape``), as the detector does."""
        full = np.asarray(full)
        if full.shape != self.shape:
            raise ValueError(f"array shape {full.shape} != window shape {self.shape}")
        b = self.binning
        nl, ns = self.binned_shape
        return full.reshape(nl, b, ns, b).sum(axis=(1, 3))

    def expand(self, binned: np.ndarray, method: str = "bern") -> np.ndarray:
        """Binned array (``binned_shape``) -> full-resolution array (``shape``).

        ``method="bern"`` reproduces the flown level-1b files: binned pixel ``k`` is put on
        full-resolution index ``b*k`` and the ``b - 1`` pixels after it are linearly
        interpolated towards pixel ``k + 1`` (the last ones repeat the last binned value).
        Note this places each binned value at the first pixel of its block, i.e.
        ``(b - 1) / 2`` full-resolution pixels before the block centre.
        ``method="replicate"`` repeats each value over its block (geometry-exact).
        Values are not rescaled (a sum stays a sum)."""
        binned = np.asarray(binned, dtype=np.float64)
        if binned.shape != self.binned_shape:
            raise ValueError(f"array shape {binned.shape} != binned shape {self.binned_shape}")
        b = self.binning
        if method == "replicate":
            return np.repeat(np.repeat(binned, b, axis=0), b, axis=1)
        if method != "bern":
            raise ValueError(f"unknown expand method {method!r}")
        return _interp_axis(_interp_axis(binned, b, 0), b, 1)


def _interp_axis(a: np.ndarray, b: int, axis: int) -> np.ndarray:
    n = a.shape[axis]
    pos = np.arange(n * b, dtype=np.float64) / b
    k = np.minimum(np.floor(pos).astype(np.int64), n - 1)
    k1 = np.minimum(k + 1, n - 1)
    w = pos - k
    a0 = np.take(a, k, axis=axis)
    a1 = np.take(a, k1, axis=axis)
    shape = [1] * a.ndim
    shape[axis] = n * b
    w = w.reshape(shape)
    return a0 + (a1 - a0) * w


def default_windows(binning: dict[str, int] | None = None) -> list[Window]:
    """The four flown filter windows, in window-counter order (PAN, RED, NIR, BLU)."""
    binning = binning or {}
    return [Window.default(name, binning.get(name, 1)) for name in ("PAN", "RED", "NIR", "BLU")]
