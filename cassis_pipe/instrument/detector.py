"""Detector windows: filter strips, control windows, column crops and on-board binning.

:class:`Window` is THE window of cassis-pipe (geometry, calibration, simulator); the raw forms
(Bern PEHK header fields, imaging-parameter-table coordinates) convert to it.

Coordinates: detector ``(line, sample)`` 0-based with pixel centres at integers (see
:mod:`cassis_pipe.instrument.constants`). A window covers detector rows ``row0..row1`` and
columns ``col0..col1`` (inclusive) and is read out with ``binning x binning`` summing; output
("window image") pixel ``(i, j)`` is the block of detector pixels
``row0 + i*b .. row0 + i*b + b - 1`` x ``col0 + j*b .. col0 + j*b + b - 1``. An extent not
divisible by the binning loses its last rows/columns (the PE drops the odd remainder).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .constants import (
    BINNING_CODES,
    CONTROL,
    DETECTOR_LINES,
    DETECTOR_SAMPLES,
    FILTER_ORDER,
    FILTERS,
    FilterInfo,
    binning_from_code,
)


@dataclass(frozen=True)
class Window:
    """One detector read-out window (rows/cols 0-based inclusive, binning factor 1/2/4/8).

    ``filter`` is a filter name (PAN, RED, NIR, BLU) or a control-window name starting with
    ``CTL`` (dark windows outside the filter strips, e.g. CTL1). Windows are hashable and equal
    when name, extent and binning are (calibration fields are cached per window)."""

    filter: str
    row0: int
    row1: int
    col0: int = 0
    col1: int = DETECTOR_SAMPLES - 1
    binning: int = 1

    def __post_init__(self) -> None:
        if self.filter not in FILTERS and not str(self.filter).startswith(CONTROL):
            raise ValueError(f"unknown filter {self.filter!r} (PAN, RED, NIR, BLU or {CONTROL}*)")
        if self.binning not in BINNING_CODES.values():
            raise ValueError(f"window {self.filter}: binning {self.binning!r} not one of "
                             f"{sorted(BINNING_CODES.values())}")
        if not (0 <= self.row0 <= self.row1 < DETECTOR_LINES):
            raise ValueError(f"window {self.filter}: rows {self.row0}..{self.row1} outside the "
                             "detector")
        if not (0 <= self.col0 <= self.col1 < DETECTOR_SAMPLES):
            raise ValueError(f"window {self.filter}: columns {self.col0}..{self.col1} outside "
                             "the detector")
        if self.rows < self.binning or self.cols < self.binning:
            raise ValueError(f"window {self.filter}: extent {self.shape} smaller than one "
                             f"{self.binning} x {self.binning} binned pixel")

    # -- construction -------------------------------------------------------------------
    @classmethod
    def default(cls, filter: str, binning: int = 1, col0: int = 0,
                col1: int = DETECTOR_SAMPLES - 1) -> Window:
        """The flown default window of ``filter`` (full width unless cropped)."""
        info = FILTERS[filter]
        return cls(filter, info.row0, info.row1, col0, col1, binning)

    @classmethod
    def from_extent(cls, row0: int, col0: int, rows: int, cols: int, *, filter: str,
                    binning: int = 1) -> Window:
        """Window of ``rows`` x ``cols`` detector pixels from (``row0``, ``col0``)."""
        return cls(filter, row0, row0 + rows - 1, col0, col0 + cols - 1, binning)

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
    def is_control(self) -> bool:
        """True for a control (dark) window outside the filter strips."""
        return self.filter not in FILTERS

    @property
    def rows(self) -> int:
        """Detector rows in the window."""
        return self.row1 - self.row0 + 1

    @property
    def cols(self) -> int:
        """Detector columns in the window."""
        return self.col1 - self.col0 + 1

    @property
    def shape(self) -> tuple[int, int]:
        """Full-resolution (lines, samples) covered on the detector."""
        return (self.rows, self.cols)

    @property
    def binned_shape(self) -> tuple[int, int]:
        """(lines, samples) of the window image as read out (after binning; an odd remainder
        is dropped)."""
        lines, samples = self.shape
        return (lines // self.binning, samples // self.binning)

    @property
    def used_shape(self) -> tuple[int, int]:
        """Full-resolution (lines, samples) that contribute to the window image."""
        nl, ns = self.binned_shape
        return (nl * self.binning, ns * self.binning)

    def detector_slice(self) -> tuple[slice, slice]:
        """Slices of a full-detector array covering the contributing detector pixels."""
        nl, ns = self.used_shape
        return (slice(self.row0, self.row0 + nl), slice(self.col0, self.col0 + ns))

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

    def centre_axes(self) -> tuple[np.ndarray, np.ndarray]:
        """Detector line of every window-image row and sample of every column (float64 1-D,
        px): a ``b x b`` binned pixel is centred ``(b - 1) / 2`` after its first pixel."""
        nl, ns = self.binned_shape
        b = self.binning
        off = 0.5 * (b - 1)
        return (self.row0 + b * np.arange(nl, dtype=np.float64) + off,
                self.col0 + b * np.arange(ns, dtype=np.float64) + off)

    def pixel_centres(self) -> tuple[np.ndarray, np.ndarray]:
        """Detector (line, sample) of every output pixel centre, each of ``binned_shape``."""
        nl, ns = self.binned_shape
        li, si = self.centre_axes()
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
        array (``binned_shape``), as the detector does (an odd remainder is dropped)."""
        full = np.asarray(full)
        if full.shape != self.shape:
            raise ValueError(f"array shape {full.shape} != window shape {self.shape}")
        b = self.binning
        nl, ns = self.binned_shape
        return full[:nl * b, :ns * b].reshape(nl, b, ns, b).sum(axis=(1, 3))

    def expand(self, binned: np.ndarray, method: str = "bern") -> np.ndarray:
        """Binned array (``binned_shape``) -> full-resolution array (``used_shape``).

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
    return [Window.default(name, binning.get(name, 1)) for name in FILTER_ORDER]
