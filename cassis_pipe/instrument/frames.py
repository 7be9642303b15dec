"""CaSSIS reference frames from the TGO frames kernel (em16_tgo_v18.tf).

Chain: TGO_SPACECRAFT --fixed--> TGO_CASSIS_CRU --(rotation mechanism, about +Y)-->
TGO_CASSIS_TEL --fixed--> TGO_CASSIS_FSA. Matrices follow the SPICE convention: ``M_b_from_a``
maps a vector's components in frame ``a`` to frame ``b`` (``v_b = M @ v_a``).
``frame_rotation(angle, axis)`` is SPICE ``rotate``: the matrix from a base frame to a frame
rotated by ``+angle`` about ``axis`` (right-handed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .constants import NAIF_CRU_FRAME, NAIF_FSA_FRAME
from .kernels import KernelPool, get_floats, get_string, read_text_kernel

TEL_ROTATION_AXIS_TEL = np.array([0.0, 1.0, 0.0])
"""Rotation-mechanism axis in TGO_CASSIS_TEL (= +Y of TGO_CASSIS_CRU)."""


def frame_rotation(angle_deg: float, axis: int) -> np.ndarray:
    """3x3 matrix from a base frame to the frame rotated by ``angle_deg`` about ``axis``
    (1=X, 2=Y, 3=Z) — SPICE ``rotate``."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    i = int(axis) - 1
    if i not in (0, 1, 2):
        raise ValueError(f"axis {axis!r} not 1, 2 or 3")
    j, k = (i + 1) % 3, (i + 2) % 3
    m = np.zeros((3, 3))
    m[i, i] = 1.0
    m[j, j] = c
    m[k, k] = c
    m[j, k] = s
    m[k, j] = -s
    return m


def axis_angle_matrix(axis: np.ndarray, angle_deg: float) -> np.ndarray:
    """Frame rotation about an arbitrary unit ``axis`` by ``angle_deg`` (base -> rotated)."""
    ax = np.asarray(axis, dtype=np.float64)
    ax = ax / np.linalg.norm(ax)
    a = np.radians(angle_deg)
    k = np.array([[0, -ax[2], ax[1]], [ax[2], 0, -ax[0]], [-ax[1], ax[0], 0]])
    active = np.eye(3) + np.sin(a) * k + (1 - np.cos(a)) * (k @ k)
    return active.T


def tkframe_matrix(pool: KernelPool, frame_id: int) -> tuple[np.ndarray, str]:
    """Fixed-offset (TK) frame: (matrix from the RELATIVE frame to ``frame_id``, relative name).
    Supports SPEC = 'ANGLES' (DEGREES/RADIANS/ARCSECONDS...) and 'MATRIX'."""
    key = f"TKFRAME_{frame_id}_"
    spec = get_string(pool, key + "SPEC").upper()
    relative = get_string(pool, key + "RELATIVE")
    if spec == "MATRIX":
        m = np.array(get_floats(pool, key + "MATRIX")).reshape(3, 3, order="F")
        return m.T, relative
    if spec != "ANGLES":
        raise ValueError(f"TKFRAME spec {spec!r} not supported")
    units = get_string(pool, key + "UNITS").upper()
    scale = {"DEGREES": 1.0, "RADIANS": np.degrees(1.0), "ARCSECONDS": 1 / 3600.0,
             "ARCMINUTES": 1 / 60.0}[units]
    angles = [a * scale for a in get_floats(pool, key + "ANGLES")]
    axes = [int(a) for a in get_floats(pool, key + "AXES")]
    m = np.eye(3)
    for ang, ax in zip(angles, axes, strict=True):
        m = frame_rotation(-ang, ax) @ m
    return m, relative


@dataclass(frozen=True)
class CassisFrames:
    """Fixed CaSSIS mounting rotations (SPICE convention, see module doc)."""

    cru_from_sc: np.ndarray
    """TGO_SPACECRAFT -> TGO_CASSIS_CRU."""
    fsa_from_tel: np.ndarray
    """TGO_CASSIS_TEL -> TGO_CASSIS_FSA (the ISD ``constant_rotation``)."""

    @classmethod
    def from_pool(cls, pool: KernelPool) -> CassisFrames:
        cru, rel = tkframe_matrix(pool, NAIF_CRU_FRAME)
        if rel != "TGO_SPACECRAFT":
            raise ValueError(f"CRU relative to {rel!r}, expected TGO_SPACECRAFT")
        fsa, rel = tkframe_matrix(pool, NAIF_FSA_FRAME)
        if rel != "TGO_CASSIS_TEL":
            raise ValueError(f"FSA relative to {rel!r}, expected TGO_CASSIS_TEL")
        return cls(cru_from_sc=cru, fsa_from_tel=fsa)

    @classmethod
    def from_kernel(cls, path: str | Path) -> CassisFrames:
        """Read the TGO FK (em16_tgo_v18.tf)."""
        return cls.from_pool(read_text_kernel(path))

    @staticmethod
    def tel_from_cru(rotation_deg: float) -> np.ndarray:
        """TGO_CASSIS_CRU -> TGO_CASSIS_TEL for a rotation-mechanism angle (deg): TEL is CRU
        rotated by the angle about +Y."""
        return frame_rotation(rotation_deg, 2)

    def fsa_from_sc(self, rotation_deg: float) -> np.ndarray:
        """TGO_SPACECRAFT -> TGO_CASSIS_FSA at a rotation-mechanism angle (deg)."""
        return self.fsa_from_tel @ self.tel_from_cru(rotation_deg) @ self.cru_from_sc

    def fsa_to_spacecraft(self, rotation_deg: float) -> np.ndarray:
        """TGO_CASSIS_FSA -> TGO_SPACECRAFT (columns: FSA axes in spacecraft coordinates)."""
        return self.fsa_from_sc(rotation_deg).T

    def rotation_axis_spacecraft(self) -> np.ndarray:
        """Unit rotation-mechanism axis (+Y_CRU) in TGO_SPACECRAFT coordinates."""
        return self.cru_from_sc.T @ TEL_ROTATION_AXIS_TEL

    def boresight_spacecraft(self, rotation_deg: float) -> np.ndarray:
        """FSA +Z (optical axis) in TGO_SPACECRAFT coordinates."""
        return self.fsa_to_spacecraft(rotation_deg)[:, 2]


_DEFAULT_TKFRAMES: KernelPool = {
    "TKFRAME_-143400_RELATIVE": ["TGO_SPACECRAFT"], "TKFRAME_-143400_SPEC": ["ANGLES"],
    "TKFRAME_-143400_UNITS": ["DEGREES"], "TKFRAME_-143400_AXES": [1, 2, 3],
    "TKFRAME_-143400_ANGLES": [0.021, 0.120, -179.881],
    "TKFRAME_-143420_RELATIVE": ["TGO_CASSIS_TEL"], "TKFRAME_-143420_SPEC": ["ANGLES"],
    "TKFRAME_-143420_UNITS": ["DEGREES"], "TKFRAME_-143420_AXES": [2, 1, 3],
    "TKFRAME_-143420_ANGLES": [89.714, 80.005, 0.168],
}


def default_frames() -> CassisFrames:
    """CaSSIS frames with the em16_tgo_v18.tf values (no file needed)."""
    return CassisFrames.from_pool(_DEFAULT_TKFRAMES)
