"""Image support data (ISD) in the USGS CSM JSON layout written by ale / ISIS.

Conventions (checked against the flown ISD and SPICE, see docs/icd.md section 9):
times are ephemeris seconds past J2000 (TDB); positions km and velocities km/s in J2000
relative to Mars' centre; quaternions are SPICE-style ``[w, x, y, z]`` (scalar first) giving
the matrix from J2000 to the first ``time_dependent_frames`` entry (``q2m``);
``constant_rotation`` (row-major 3x3) maps that frame to ``constant_frames[0]`` (the sensor).
Unknown keys are kept in ``extra`` so that ``read_isd`` -> ``write_isd`` is lossless; CaSSIS
additions (commanded rotation angle, windows...) go under the top-level key ``"cassis"``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(eq=False)
class StateTable:
    """Sampled position (km) and optional velocity (km/s) in ``reference_frame``."""

    times: np.ndarray
    positions: np.ndarray
    velocities: np.ndarray | None = None
    reference_frame: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StateTable:
        d = dict(d)
        times = np.asarray(d.pop("ephemeris_times"), dtype=np.float64).reshape(-1)
        pos = np.asarray(d.pop("positions"), dtype=np.float64).reshape(-1, 3)
        vel = d.pop("velocities", None)
        vel = None if vel is None else np.asarray(vel, dtype=np.float64).reshape(-1, 3)
        ref = int(d.pop("reference_frame", 1))
        if len(times) != len(pos) or (vel is not None and len(vel) != len(pos)):
            raise ValueError("state table: times/positions/velocities lengths differ")
        return cls(times, pos, vel, ref, d)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = dict(self.extra)
        d["ephemeris_times"] = self.times.tolist()
        d["positions"] = self.positions.tolist()
        if self.velocities is not None:
            d["velocities"] = self.velocities.tolist()
        d["reference_frame"] = self.reference_frame
        return d


@dataclass(eq=False)
class RotationTable:
    """Sampled attitude: quaternions [w, x, y, z] from ``reference_frame`` to
    ``time_dependent_frames[0]``, plus an optional constant rotation to the sensor frame."""

    times: np.ndarray
    quaternions: np.ndarray
    angular_velocities: np.ndarray | None = None
    time_dependent_frames: list[int] = field(default_factory=list)
    constant_frames: list[int] | None = None
    constant_rotation: np.ndarray | None = None
    reference_frame: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RotationTable:
        d = dict(d)
        times = np.asarray(d.pop("ephemeris_times"), dtype=np.float64).reshape(-1)
        q = np.asarray(d.pop("quaternions"), dtype=np.float64).reshape(-1, 4)
        av = d.pop("angular_velocities", None)
        av = None if av is None else np.asarray(av, dtype=np.float64).reshape(-1, 3)
        tdf = [int(x) for x in d.pop("time_dependent_frames", [])]
        cf = d.pop("constant_frames", None)
        cf = None if cf is None else [int(x) for x in cf]
        cr = d.pop("constant_rotation", None)
        cr = None if cr is None else np.asarray(cr, dtype=np.float64).reshape(3, 3)
        ref = int(d.pop("reference_frame", 1))
        if len(times) != len(q):
            raise ValueError("rotation table: times/quaternions lengths differ")
        return cls(times, q, av, tdf, cf, cr, ref, d)

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"time_dependent_frames": list(self.time_dependent_frames)}
        if self.constant_frames is not None:
            d["constant_frames"] = list(self.constant_frames)
        d.update(self.extra)
        d["ephemeris_times"] = self.times.tolist()
        d["quaternions"] = self.quaternions.tolist()
        if self.angular_velocities is not None:
            d["angular_velocities"] = self.angular_velocities.tolist()
        d["reference_frame"] = self.reference_frame
        if self.constant_rotation is not None:
            d["constant_rotation"] = self.constant_rotation.reshape(-1).tolist()
        return d


_KNOWN = ("center_ephemeris_time", "instrument_position", "instrument_pointing",
          "body_rotation", "sun_position", "naif_keywords", "focal_length_model",
          "detector_center", "starting_detector_line", "starting_detector_sample",
          "detector_line_summing", "detector_sample_summing", "image_lines", "image_samples",
          "radii", "cassis")


@dataclass(eq=False)
class Isd:
    """One observation's geometry (see module doc for frames and units)."""

    center_ephemeris_time: float
    instrument_position: StateTable
    instrument_pointing: RotationTable
    body_rotation: RotationTable
    sun_position: StateTable
    naif_keywords: dict[str, Any] = field(default_factory=dict)
    focal_length_mm: float = 874.9
    detector_center_line: float = 1024.5
    """As stored (ISIS 1-based convention); optics use value - 1."""
    detector_center_sample: float = 1024.5
    starting_detector_line: int = 0
    starting_detector_sample: int = 0
    detector_line_summing: int = 0
    detector_sample_summing: int = 0
    image_lines: int = 2048
    image_samples: int = 2048
    radii_km: tuple[float, float] = (3396.19, 3376.2)
    """(semi-major, semi-minor) of the Mars ellipsoid in km."""
    cassis: dict[str, Any] = field(default_factory=dict)
    """CaSSIS additions, e.g. ``commanded_rotation_deg``, ``windows``, ``filter``."""
    extra: dict[str, Any] = field(default_factory=dict)
    radii_unit: str = "km"
    """Unit the radii were stored in (kept for lossless writing)."""
    key_order: list[str] = field(default_factory=list, repr=False, compare=False)
    """Top-level key order of the source file (kept for lossless writing)."""

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Isd:
        """Build from a parsed ISD JSON object."""
        if not isinstance(d, dict):
            raise ValueError("ISD is not a JSON object")
        try:
            radii = d.get("radii", {"semimajor": 3396.19, "semiminor": 3376.2})
            unit = radii.get("unit", "km")
            scale = 1e-3 if unit in ("m", "meters") else 1.0
            isd = cls(
                center_ephemeris_time=float(d["center_ephemeris_time"]),
                instrument_position=StateTable.from_dict(d["instrument_position"]),
                instrument_pointing=RotationTable.from_dict(d["instrument_pointing"]),
                body_rotation=RotationTable.from_dict(d["body_rotation"]),
                sun_position=StateTable.from_dict(d["sun_position"]),
                naif_keywords=dict(d.get("naif_keywords", {})),
                focal_length_mm=float(d["focal_length_model"]["focal_length"]),
                detector_center_line=float(d["detector_center"]["line"]),
                detector_center_sample=float(d["detector_center"]["sample"]),
                starting_detector_line=int(d.get("starting_detector_line", 0)),
                starting_detector_sample=int(d.get("starting_detector_sample", 0)),
                detector_line_summing=int(d.get("detector_line_summing", 0)),
                detector_sample_summing=int(d.get("detector_sample_summing", 0)),
                image_lines=int(d["image_lines"]),
                image_samples=int(d["image_samples"]),
                radii_km=(float(radii["semimajor"]) * scale, float(radii["semiminor"]) * scale),
                cassis=dict(d.get("cassis", {})),
            )
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            raise ValueError(f"ISD missing or malformed key: {exc!r}") from exc
        isd.extra = {k: v for k, v in d.items() if k not in _KNOWN}
        isd.radii_unit = str(unit)
        isd.key_order = list(d.keys())
        return isd

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (key order of the source file when read from one)."""
        scale = 1e-3 if self.radii_unit in ("m", "meters") else 1.0
        radii = {"semimajor": self.radii_km[0] / scale, "semiminor": self.radii_km[1] / scale,
                 "unit": self.radii_unit}
        known: dict[str, Any] = {
            "naif_keywords": self.naif_keywords,
            "detector_sample_summing": self.detector_sample_summing,
            "detector_line_summing": self.detector_line_summing,
            "focal_length_model": {"focal_length": self.focal_length_mm},
            "detector_center": {"line": self.detector_center_line,
                                "sample": self.detector_center_sample},
            "starting_detector_line": self.starting_detector_line,
            "starting_detector_sample": self.starting_detector_sample,
            "image_lines": self.image_lines,
            "image_samples": self.image_samples,
            "center_ephemeris_time": self.center_ephemeris_time,
            "radii": radii,
            "instrument_pointing": self.instrument_pointing.to_dict(),
            "body_rotation": self.body_rotation.to_dict(),
            "instrument_position": self.instrument_position.to_dict(),
            "sun_position": self.sun_position.to_dict(),
        }
        if self.cassis:
            known["cassis"] = self.cassis
        out: dict[str, Any] = {}
        for k in self.key_order:
            if k in known:
                out[k] = known.pop(k)
            elif k in self.extra:
                out[k] = self.extra[k]
        for k, v in self.extra.items():
            out.setdefault(k, v)
        out.update(known)
        return out


def read_isd(path: str | Path) -> Isd:
    """Read an ISD JSON file."""
    with open(path, encoding="utf-8") as fh:
        return Isd.from_dict(json.load(fh))


def write_isd(isd: Isd, path: str | Path) -> None:
    """Write an ISD JSON file (deterministic: fixed key order, full float precision)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(isd.to_dict(), fh, indent=2)
        fh.write("\n")
