"""Build ISDs from state vectors and attitudes (used by the simulator and by SPICE providers).

Written ISDs follow the flown layout (see :mod:`cassis_pipe.geometry.isd`): pointing
quaternions J2000 -> TGO_CASSIS_TEL ``[w, x, y, z]`` plus the constant TEL -> FSA rotation.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..instrument.constants import (
    MARS_RADII_KM,
    NAIF_CRU_FRAME,
    NAIF_FSA_FRAME,
    NAIF_IAU_MARS,
    NAIF_J2000,
    NAIF_TEL_FRAME,
    NAIF_TGO_SPACECRAFT_FRAME,
)
from ..instrument.detector import Window
from ..instrument.frames import CassisFrames, default_frames
from ..instrument.optics import CASSIS_IK_ID, Optics, default_optics
from .interp import matrix_to_quat
from .isd import Isd, RotationTable, StateTable


def tel_from_j2000(sc_from_j2000: np.ndarray, rotation_deg: float,
                   frames: CassisFrames | None = None) -> np.ndarray:
    """J2000 -> TGO_CASSIS_TEL matrix from the spacecraft attitude (J2000 -> TGO_SPACECRAFT)
    and the rotation-mechanism angle (deg)."""
    fr = frames or default_frames()
    return fr.tel_from_cru(rotation_deg) @ fr.cru_from_sc @ np.asarray(sc_from_j2000, float)


def optics_keywords(optics: Optics, ik: int = CASSIS_IK_ID) -> dict[str, Any]:
    """The ``naif_keywords`` entries that :meth:`Optics.from_pool` reads (ISIS conventions)."""
    p = f"INS{ik}_"
    kw: dict[str, Any] = {
        p + "FOCAL_LENGTH": optics.focal_length_mm, p + "PIXEL_PITCH": optics.pixel_pitch_mm,
        p + "BORESIGHT_LINE": optics.boresight_line + 1.0,
        p + "BORESIGHT_SAMPLE": optics.boresight_sample + 1.0,
    }
    for i in range(3):
        kw[f"{p}OD_A{i + 1}_CORR"] = optics.corr[i].tolist()
        kw[f"{p}OD_A{i + 1}_DIST"] = optics.dist[i].tolist()
    return kw


def _state(times: np.ndarray, pos: np.ndarray, vel: np.ndarray | None) -> StateTable:
    return StateTable(np.atleast_1d(np.asarray(times, float)),
                      np.asarray(pos, float).reshape(-1, 3),
                      None if vel is None else np.asarray(vel, float).reshape(-1, 3), NAIF_J2000)


def build_isd(center_et: float, times: np.ndarray, positions_km: np.ndarray,
              velocities_kms: np.ndarray | None, tel_quaternions: np.ndarray,
              body_quaternions: np.ndarray, sun_positions_km: np.ndarray,
              body_angular_velocities: np.ndarray | None = None,
              optics: Optics | None = None, image_lines: int = 2048, image_samples: int = 2048,
              frames: CassisFrames | None = None, cassis: dict[str, Any] | None = None,
              window: Window | None = None) -> Isd:
    """Assemble an :class:`Isd`. All tables share ``times`` (ET s). Positions: TGO and Sun
    relative to Mars, J2000 km; quaternions ``[w, x, y, z]`` J2000 -> TEL and J2000 ->
    IAU_MARS; body angular velocity rad/s in J2000 axes. A ``window`` sets the image size,
    ``starting_detector_line/sample`` (0-based), the summing and ``cassis["window"]``."""
    optics = optics or default_optics()
    fr = frames or default_frames()
    t = np.atleast_1d(np.asarray(times, float))
    a, _, c = MARS_RADII_KM
    naif = {"BODY499_RADII": [a, a, c], "BODY_FRAME_CODE": NAIF_IAU_MARS, "BODY_CODE": 499}
    naif.update(optics_keywords(optics))
    pointing = RotationTable(
        t, np.asarray(tel_quaternions, float).reshape(-1, 4), None,
        [NAIF_TEL_FRAME, NAIF_CRU_FRAME, NAIF_TGO_SPACECRAFT_FRAME, NAIF_J2000],
        [NAIF_FSA_FRAME, NAIF_TEL_FRAME], fr.fsa_from_tel.copy(), NAIF_J2000)
    av = None if body_angular_velocities is None else np.asarray(
        body_angular_velocities, float).reshape(-1, 3)
    body = RotationTable(t, np.asarray(body_quaternions, float).reshape(-1, 4), av,
                         [NAIF_IAU_MARS, NAIF_J2000], None, None, NAIF_J2000)
    cassis = dict(cassis or {})
    start_line = start_sample = summing = 0
    if window is not None:
        image_lines, image_samples = window.binned_shape
        start_line, start_sample, summing = window.row0, window.col0, window.binning
        cassis["window"] = window.to_dict()
    return Isd(
        center_ephemeris_time=float(center_et),
        instrument_position=_state(t, positions_km, velocities_kms),
        instrument_pointing=pointing, body_rotation=body,
        sun_position=_state(t, sun_positions_km, None), naif_keywords=naif,
        focal_length_mm=optics.focal_length_mm,
        detector_center_line=optics.boresight_line + 1.0,
        detector_center_sample=optics.boresight_sample + 1.0,
        starting_detector_line=start_line, starting_detector_sample=start_sample,
        detector_line_summing=summing, detector_sample_summing=summing,
        image_lines=int(image_lines), image_samples=int(image_samples),
        radii_km=(a, c), cassis=cassis,
        extra={"name_model": "USGS_ASTRO_FRAME_SENSOR_MODEL",
               "name_platform": "TRACE GAS ORBITER", "name_sensor": "CaSSIS"},
    )


def quaternion_from_matrix(m: np.ndarray) -> np.ndarray:
    """``[w, x, y, z]`` for a 3x3 rotation matrix (reference -> frame)."""
    return matrix_to_quat(m)


def window_from_isd(isd: Isd) -> Window | None:
    """The window stored under ``cassis["window"]`` by :func:`build_isd`, else None (the flown
    ale ISDs do not record the window: their ``starting_detector_line`` is 0 even for RED)."""
    d = isd.cassis.get("window")
    return None if d is None else Window.from_dict(d)
