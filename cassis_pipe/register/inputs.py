"""Build :class:`~.fringing.Framelet` lists from calibrated window images and ISDs.

The cameras always carry the COMMANDED mechanism angle (rotation offset 0); the register
stage searches the offset on top of it. No file I/O here: callers read the ISDs
(:func:`cassis_pipe.geometry.isd.read_isd`) and images.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..geometry.builder import window_from_isd
from ..geometry.camera import FrameCamera
from ..geometry.isd import Isd
from ..instrument.detector import Window
from ..model import Framelet


def framelet_camera(isd: Isd, et: float | None = None, window: Window | None = None
                    ) -> FrameCamera:
    """Camera of one framelet at ``et`` (TDB s; default the ISD centre time) in the window's
    image coordinates (``window`` or the one stored in the ISD). Raises ``ValueError`` if
    neither gives a window."""
    win = window if window is not None else window_from_isd(isd)
    if win is None:
        raise ValueError("no detector window given and none stored in the ISD")
    return FrameCamera.from_isd(isd, window=win, et=et)


def observation_framelets(images: Mapping[tuple[str, int], np.ndarray],
                          isds: Mapping[str, Isd], exposure_ets: Sequence[float],
                          windows: Mapping[str, Window] | None = None) -> list[Framelet]:
    """Framelets for ``images[(filter, exposure)]`` (calibrated window images, float) with
    one ISD per filter sampled over the observation and the exposure times ``exposure_ets``
    (TDB s, indexed by exposure). Sorted by (exposure, filter). Raises ``ValueError`` when an
    image does not match its window's (binned) shape."""
    out = []
    for (name, k) in sorted(images, key=lambda key: (key[1], key[0])):
        win = (windows or {}).get(name)
        cam = framelet_camera(isds[name], float(exposure_ets[k]), win)
        img = np.asarray(images[(name, k)], dtype=np.float64)
        if img.shape != cam.image_shape():
            raise ValueError(f"{name} exposure {k}: image {img.shape} != window "
                             f"{cam.image_shape()}")
        out.append(Framelet(name, int(k), img, cam))
    return out
