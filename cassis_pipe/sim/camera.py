"""CaSSIS frame chain and pinhole detector model used by the simulator.

Frames (from the TGO frames kernel em16_tgo_v18.tf):
TGO_SPACECRAFT -> TGO_CASSIS_CRU (fixed) -> TGO_CASSIS_TEL (rotation about +Y by the motor angle)
-> TGO_CASSIS_FSA (fixed; +Z boresight, +X along detector rows, +Y along detector columns).

All matrices here transform vector COORDINATES from the first named frame to the second.
Detector: 0-based (row, col); the pixel centre (r, c) maps to the focal-plane point
x_mm = (c - 1023.5) * pitch, y_mm = (r - 1023.5) * pitch, z_mm = focal length.
No optical distortion is simulated (ideal pinhole).
"""

from __future__ import annotations

import numpy as np
import spiceypy as sp

# TKFRAME_-143400 (CRU relative to TGO_SPACECRAFT): AXES (1, 2, 3), ANGLES in degrees
CRU_AXES = (1, 2, 3)
CRU_ANGLES_DEG = (0.021, 0.120, -179.881)
# TKFRAME_-143420 (FSA relative to TGO_CASSIS_TEL): AXES (2, 1, 3), ANGLES in degrees
FSA_AXES = (2, 1, 3)
FSA_ANGLES_DEG = (89.714, 80.005, 0.168)
#: detector centre (0-based pixel coordinates) = ISIS BORESIGHT_SAMPLE/LINE 1024.5 (1-based)
CENTER_PX = 1023.5


def tkframe_matrix(axes: tuple[int, int, int], angles_deg: tuple[float, float, float]
                   ) -> np.ndarray:
    """Relative-frame -> TK-frame coordinate matrix for a SPICE TKFRAME ``ANGLES`` definition."""
    a = np.radians(angles_deg)
    return np.array(sp.eul2m(-a[2], -a[1], -a[0], axes[2], axes[1], axes[0]))


SC_TO_CRU = tkframe_matrix(CRU_AXES, CRU_ANGLES_DEG)
TEL_TO_FSA = tkframe_matrix(FSA_AXES, FSA_ANGLES_DEG)


def cru_to_tel(angle_deg: float) -> np.ndarray:
    """CRU -> TEL coordinates for a motor angle (counter-clockwise about +Y, degrees)."""
    return np.array(sp.rotate(np.radians(angle_deg), 2))


def sc_to_fsa(angle_deg: float) -> np.ndarray:
    """TGO_SPACECRAFT -> TGO_CASSIS_FSA coordinates for a motor angle in degrees."""
    return TEL_TO_FSA @ cru_to_tel(angle_deg) @ SC_TO_CRU


def pixel_directions(rows: np.ndarray, cols: np.ndarray, pitch_mm: float, focal_mm: float
                     ) -> np.ndarray:
    """Unit look directions in the FSA frame for 0-based pixel centres (broadcast rows/cols)."""
    r, c = np.broadcast_arrays(np.asarray(rows, float), np.asarray(cols, float))
    v = np.stack([(c - CENTER_PX) * pitch_mm, (r - CENTER_PX) * pitch_mm,
                  np.full(r.shape, focal_mm)], axis=-1)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def fsa_to_pixel(v: np.ndarray, pitch_mm: float, focal_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`pixel_directions`: FSA vectors -> (row, col) 0-based, float."""
    v = np.asarray(v, float)
    s = focal_mm / v[..., 2]
    return v[..., 1] * s / pitch_mm + CENTER_PX, v[..., 0] * s / pitch_mm + CENTER_PX
