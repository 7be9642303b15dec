"""The shared domain object of the level-1 and level-2 stages: one :class:`Framelet`.

A framelet is one filter window of one exposure: the window image (lines, samples; I/F, or
any float image in tests), the exposure index within the observation, its camera (window
attached, COMMANDED rotation angle, offset 0) and an optional validity mask (True = valid).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from cassis_pipe.geometry.camera import FrameCamera


@dataclass(frozen=True, eq=False)
class Framelet:
    """One filter window of one exposure (see the module docstring)."""

    filter: str
    """PAN, RED, NIR or BLU."""
    exposure: int
    """Exposure number within the observation (0-based sequence counter)."""
    image: np.ndarray
    """Window image (lines, samples); NaN or the PDS4 missing constant where invalid."""
    camera: FrameCamera
    mask: np.ndarray | None = None
    """Validity mask (True = valid), or None when every pixel of ``image`` counts."""

    def with_image(self, image: np.ndarray, mask: np.ndarray | None = None) -> Framelet:
        """The same framelet with another image (and mask)."""
        return replace(self, image=image, mask=mask)


def valid(image: np.ndarray) -> np.ndarray:
    """True where an I/F value is usable (finite and above the float32 special values)."""
    return np.isfinite(image) & (image > -1e30)
