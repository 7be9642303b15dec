"""Observation geometry of a map product (the label's ``geom:Geometry`` block, solar longitude,
local true solar time, orbit and mission phase): a pure computation from the cameras the map
stage already has (ISD: spacecraft, Sun and attitude at each exposure) and the map grid.

Conventions (as the flown PSA derived label): angles at the centre pixel of the map array
against the ellipsoid normal; reference time = the observation start (first exposure);
distances from that exposure's spacecraft position; footprint vertices = the outer corners of
the label filter's strip on the ellipsoid (first framelet's first line, last framelet's last
line, pixel edges); longitudes planetocentric east in [0, 360).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from cassis_pipe.archive.conditions import local_solar_time_h, solar_longitude_deg
from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import surface_point, xyz_to_latlon
from cassis_pipe.instrument.constants import AU_KM
from cassis_pipe.labels.ids import parse_observation_id
from cassis_pipe.mapping.grid import MapGrid

#: Operation periods of the science phase (PSA ``Mission_Information``: name, identifier).
SCIENCE_PHASE = ("Science Phase", "psp")
#: Footprint vertex names in PSA order (first line left, right; last line right, left).
VERTEX_NAMES = ("Upper Left Corner", "Upper Right Corner", "Lower Right Corner",
                "Lower Left Corner")


@dataclass(frozen=True, slots=True)
class GeometryBlock:
    """What a map label says about the observing geometry. Degrees, km, AU, hours."""

    reference_time_utc: str
    centre_lat_deg: float
    centre_lon_deg: float
    incidence_deg: float
    emission_deg: float
    phase_deg: float
    subspacecraft_lat_deg: float
    subspacecraft_lon_deg: float
    subsolar_lat_deg: float
    subsolar_lon_deg: float
    spacecraft_target_center_km: float
    spacecraft_boresight_intercept_km: float | None
    spacecraft_subspacecraft_km: float
    target_heliocentric_au: float
    solar_longitude_deg: float
    local_true_solar_time_h: float
    footprint: tuple[tuple[str, float, float], ...] = ()
    """(vertex name, lat, lon) in :data:`VERTEX_NAMES` order; empty if a corner misses Mars."""
    kernels: tuple[str, ...] = ()
    """Geometry sources: SPICE kernel names, or the ISD file name for the ``file`` provider."""
    orbit_number: int = 0
    mission_phase_name: str = ""
    mission_phase_identifier: str = ""

    def with_footprint(self, footprint: tuple[tuple[str, float, float], ...]) -> GeometryBlock:
        """Copy with another footprint (the label's own filter)."""
        from dataclasses import replace

        return replace(self, footprint=footprint)


def mission_phase(observation_id: str) -> tuple[int, str, str]:
    """(orbit number, mission phase name, identifier) from the observation id: MY34..MY38 are
    the science phase (as on the PSA labels); other periods are named by their period code."""
    obs = parse_observation_id(observation_id)
    if obs.mars_year is not None:
        return obs.orbit, *SCIENCE_PHASE
    return obs.orbit, obs.period_name, obs.period_name.lower()


def _lon360(lon: float) -> float:
    return float(lon) % 360.0


def _latlon(xyz: np.ndarray) -> tuple[float, float]:
    lat, lon, _ = xyz_to_latlon(np.asarray(xyz, dtype=np.float64))
    return float(lat), _lon360(float(lon))


def strip_footprint(cameras: Sequence[FrameCamera]) -> tuple[tuple[str, float, float], ...]:
    """Outer corners of a strip of framelets (cameras in exposure order, window image
    coordinates): the first framelet's first line and the last framelet's last line, at the
    pixel edges. Empty when a corner misses Mars."""
    if not cameras:
        return ()
    first, last = cameras[0], cameras[-1]
    nl, ns = last.image_shape()
    pts = [first.image_to_ground(np.array([-0.5]), np.array([-0.5]))[0],
           first.image_to_ground(np.array([-0.5]), np.array([first.image_shape()[1] - 0.5]))[0],
           last.image_to_ground(np.array([nl - 0.5]), np.array([ns - 0.5]))[0],
           last.image_to_ground(np.array([nl - 0.5]), np.array([-0.5]))[0]]
    if not all(np.all(np.isfinite(p)) for p in pts):
        return ()
    return tuple((name, *_latlon(p)) for name, p in zip(VERTEX_NAMES, pts, strict=True))


def map_geometry(reference: FrameCamera, grid: MapGrid, start_utc: str, observation_id: str,
                 kernels: Sequence[str] = ()) -> GeometryBlock:
    """Geometry block of a map: angles at the grid's centre pixel seen from ``reference`` (the
    first exposure's camera, rotation offset applied), Sun and spacecraft from its ISD state,
    Ls from its ephemeris time, LTST at the centre longitude. No footprint (per filter:
    :func:`strip_footprint`)."""
    lat_c, lon_c = grid.index_to_latlon(np.array([(grid.lines - 1) / 2.0]),
                                        np.array([(grid.samples - 1) / 2.0]))
    a, c = reference.radii_km
    centre = surface_point(lat_c, lon_c, 0.0, a, c)
    inc, emi, pha = reference.illumination_angles(centre)
    sc_lat, sc_lon = _latlon(reference.position_km)
    sun_lat, sun_lon = _latlon(reference.sun_position_km)
    sub_sc = surface_point(np.array([sc_lat]), np.array([sc_lon]), 0.0, a, c)[0]
    bore = reference.boresight_ground()
    orbit, phase_name, phase_id = mission_phase(observation_id)
    return GeometryBlock(
        reference_time_utc=start_utc,
        centre_lat_deg=float(lat_c[0]), centre_lon_deg=_lon360(float(lon_c[0])),
        incidence_deg=float(inc[0]), emission_deg=float(emi[0]), phase_deg=float(pha[0]),
        subspacecraft_lat_deg=sc_lat, subspacecraft_lon_deg=sc_lon,
        subsolar_lat_deg=sun_lat, subsolar_lon_deg=sun_lon,
        spacecraft_target_center_km=float(np.linalg.norm(reference.position_km)),
        spacecraft_boresight_intercept_km=(
            float(np.linalg.norm(bore - reference.position_km))
            if np.all(np.isfinite(bore)) else None),
        spacecraft_subspacecraft_km=float(np.linalg.norm(reference.position_km - sub_sc)),
        target_heliocentric_au=float(np.linalg.norm(reference.sun_position_km) / AU_KM),
        solar_longitude_deg=solar_longitude_deg(reference.et),
        local_true_solar_time_h=local_solar_time_h(float(lon_c[0]), sun_lon),
        kernels=tuple(kernels), orbit_number=orbit, mission_phase_name=phase_name,
        mission_phase_identifier=phase_id)


def geometry_sources(isd_path: str | Path) -> tuple[str, ...]:
    """Names the geometry came from: the ``sources`` of the geometry stage's JSON beside the
    ISD (``geometry.json``: SPICE kernels, or the ISD file of the ``file`` provider) when it is
    there, else the ISD's own file name."""
    import json

    p = Path(isd_path)
    stage = p.parent / "geometry.json"
    try:
        sources = json.loads(stage.read_text(encoding="utf-8")).get("sources", [])
    except (OSError, ValueError, AttributeError):
        sources = []
    names = tuple(Path(str(s)).name for s in sources if str(s).strip())
    return names or (p.name,)


def processing_date(observation_start_utc: str) -> str:
    """The label's creation (modification) date, ``YYYY-MM-DD``: from ``SOURCE_DATE_EPOCH``
    (seconds since 1970, the reproducible-builds convention) when set, else the observation's
    date. Never the wall clock, so a rerun gives the same bytes (docs/icd.md)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            t = int(epoch)
        except ValueError:
            raise ValueError(f"SOURCE_DATE_EPOCH must be integer seconds, not {epoch!r}"
                             ) from None
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")
    return observation_start_utc[:10]


def ltst_text(hours: float) -> str:
    """Local true solar time as the PSA writes it: decimal hours (at least 8 characters)."""
    if not math.isfinite(hours):
        raise ValueError("local true solar time must be finite")
    return f"{hours % 24.0:.6f}"


def label_geometry(framelets: Sequence, grid: MapGrid, rotation_offset_deg: float,
                   start_utc: str, observation_id: str, kernels: Sequence[str] = ()
                   ) -> dict[str, GeometryBlock]:
    """Geometry block per filter of a map: :func:`map_geometry` from the first exposure (any
    filter) with ``rotation_offset_deg`` applied, footprint from each filter's own strip.
    ``framelets``: :class:`cassis_pipe.model.Framelet` (filter, exposure, camera)."""
    if not framelets:
        return {}
    ordered = sorted(framelets, key=lambda f: (f.camera.et, f.exposure, f.filter))
    ref = ordered[0].camera.with_rotation_offset(rotation_offset_deg)
    base = map_geometry(ref, grid, start_utc, observation_id, kernels)
    out = {}
    for name in sorted({f.filter for f in framelets}):
        cams = [f.camera.with_rotation_offset(rotation_offset_deg)
                for f in sorted((f for f in framelets if f.filter == name),
                                key=lambda f: (f.exposure, f.camera.et))]
        out[name] = base.with_footprint(strip_footprint(cams))
    return out


def filter_inputs(input_lids: Sequence[str], filter_name: str) -> tuple[str, ...]:
    """The level-1 LIDs of one filter (PSA names carry ``-<filter>-``)."""
    tag = f"-{filter_name.lower()}-"
    return tuple(lid for lid in input_lids if tag in lid.rsplit(":", 1)[-1])
