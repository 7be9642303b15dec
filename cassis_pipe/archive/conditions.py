"""Illumination and season of an observation: solar incidence at the footprint centre, local
true solar time there and the areocentric solar longitude Ls.

The map stage's JSON and labels do not carry these yet (another issue adds them), so
:func:`observation_conditions` computes them from what exists: the centre of the valid map
footprint and the observation's geometry ISD (``<raw_dir>/geometry/<obs>.json``: body-fixed
Sun position, centre ephemeris time). It is the ONE place to switch to label fields later
(``Time_Coordinates/solar_longitude``, ``local_true_solar_time`` and the incidence of the
geometry class) once the map products carry them.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from cassis_pipe.geometry.camera import FrameCamera
from cassis_pipe.geometry.ellipsoid import surface_point, xyz_to_latlon
from cassis_pipe.geometry.isd import read_isd

#: Allison & McEwen (2000) perturbation terms of Mars' equation of centre:
#: (amplitude deg, period Julian years, phase deg)
_PBS = ((0.0071, 2.2353, 49.409), (0.0057, 2.7543, 168.173), (0.0039, 1.1177, 191.837),
        (0.0037, 15.7866, 21.736), (0.0021, 2.1354, 15.704), (0.0020, 2.4694, 95.528),
        (0.0018, 32.8493, 49.095))


@dataclass(frozen=True)
class Conditions:
    """Observation conditions at the footprint centre: degrees, hours (LTST 0..24)."""

    centre_lat_deg: float
    centre_lon_deg: float
    incidence_deg: float
    local_solar_time_h: float
    solar_longitude_deg: float

    def to_dict(self) -> dict[str, float]:
        return {k: round(v, 4) for k, v in asdict(self).items()}


def solar_longitude_deg(et_s: float) -> float:
    """Areocentric solar longitude Ls (deg, 0..360) at ephemeris time ``et_s`` (TDB s past
    J2000), with the Mars orbit model of Allison & McEwen (2000), good to ~0.01 deg."""
    d = et_s / 86400.0  # days past J2000 (TT ~ TDB here)
    m = math.radians(19.3871 + 0.52402073 * d)
    alpha_fms = 270.3871 + 0.524038496 * d
    pbs = sum(a * math.cos(math.radians(0.985626 * d / tau + phi)) for a, tau, phi in _PBS)
    eoc = ((10.691 + 3.0e-7 * d) * math.sin(m) + 0.623 * math.sin(2 * m)
           + 0.050 * math.sin(3 * m) + 0.005 * math.sin(4 * m) + 0.0005 * math.sin(5 * m) + pbs)
    return (alpha_fms + eoc) % 360.0


def local_solar_time_h(lon_deg: float, subsolar_lon_deg: float) -> float:
    """Local true solar time (h) at east longitude ``lon_deg``: 12 h at the subsolar point."""
    return (12.0 + ((lon_deg - subsolar_lon_deg) % 360.0) / 15.0) % 24.0


def conditions_at(isd_path: Path, centre_lat_deg: float, centre_lon_deg: float) -> Conditions:
    """Conditions at a ground point from the ISD at its centre time."""
    isd = read_isd(isd_path)
    cam = FrameCamera.from_isd(isd)
    a, c = cam.radii_km
    xyz = surface_point(np.array([centre_lat_deg]), np.array([centre_lon_deg]), 0.0, a, c)
    inc, _, _ = cam.illumination_angles(xyz)
    _, sub_lon, _ = xyz_to_latlon(cam.sun_position_km)
    return Conditions(float(centre_lat_deg), float(centre_lon_deg) % 360.0, float(inc[0]),
                      local_solar_time_h(float(centre_lon_deg), float(sub_lon)),
                      solar_longitude_deg(float(isd.center_ephemeris_time)))


def observation_conditions(raw_dir: Path, observation_id: str, centre_lat_deg: float,
                           centre_lon_deg: float) -> Conditions:
    """Conditions of an observation at its footprint centre (see the module docstring)."""
    isd = Path(raw_dir) / "geometry" / f"{observation_id}.json"
    if not isd.is_file():
        raise FileNotFoundError(f"no geometry ISD {isd} for {observation_id}")
    return conditions_at(isd, centre_lat_deg, centre_lon_deg)
