"""Radiometric calibration of CaSSIS framelets: raw DN -> I/F (see docs/calibration.md)."""

from cassis_pipe.calibrate.calfiles import CalibrationFileError, CalSet, load_calset, write_calset
from cassis_pipe.calibrate.pipeline import (
    calibrate_exposure,
    calibrate_framelet,
    calibrate_framelets,
    straylight_from_controls,
)
from cassis_pipe.calibrate.straylight import StrayModel, fit_straylight

__all__ = [
    "CalSet",
    "CalibrationFileError",
    "StrayModel",
    "calibrate_exposure",
    "calibrate_framelet",
    "calibrate_framelets",
    "fit_straylight",
    "load_calset",
    "straylight_from_controls",
    "write_calset",
]
