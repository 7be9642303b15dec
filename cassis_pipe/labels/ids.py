"""CaSSIS image UID <-> observation identifier ('MY34_002002_211_2').

The 32-bit UID of a take-image command packs, from the least significant bit:
bits 0-1 image type (0 single, 1 stereo first, 2 stereo second, 3 reserved), bits 2-10 orbit
phase (degrees of orbit, 0-359, see :func:`orbit_phase_from_latitude`), bits 11-27 orbit number,
bits 28-30 operation period (0 CRUS, 1 MY34 ... 5 MY38, 6 TBD, 7 TEST). Bit 31 is not used.
This is the mapping ISIS ``tgocassis2isis`` applies; for a non-Mars target ISIS writes orbit
phase 900 instead of the UID's bits (``on_mars=False`` here).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

OPERATION_PERIODS: tuple[str, ...] = ("CRUS", "MY34", "MY35", "MY36", "MY37", "MY38", "TBD", "TEST")
IMAGE_TYPES: tuple[str, ...] = ("single", "stereo-1", "stereo-2", "reserved")
#: Orbit phase written for observations of targets other than Mars (ISIS convention).
NON_MARS_PHASE = 900
MAX_ORBIT = (1 << 17) - 1
MAX_PHASE = (1 << 9) - 1

#: Observation id 'MY34_002002_211_2' (period_orbit_phase_type) as a regular expression, without
#: anchors: the one definition the workflow's wildcard constraint and the sheet schema use.
OBSERVATION_ID_PATTERN = r"(?:CRUS|MY3[4-8]|TBD|TEST)_[0-9]{6}_[0-9]{3}_[0-3]"
_OBS_RE = re.compile(f"^{OBSERVATION_ID_PATTERN}$")


@dataclass(frozen=True, slots=True, order=True)
class ObservationId:
    """Decoded UID fields; ``str()`` gives the 'MY34_002002_211_2' form."""

    period: int
    orbit: int
    phase: int
    image_type: int

    def __post_init__(self) -> None:
        if not 0 <= self.period <= 7:
            raise ValueError(f"operation period {self.period} not in 0..7")
        if not 0 <= self.orbit <= MAX_ORBIT:
            raise ValueError(f"orbit {self.orbit} not in 0..{MAX_ORBIT}")
        if not (0 <= self.phase <= MAX_PHASE or self.phase == NON_MARS_PHASE):
            raise ValueError(f"orbit phase {self.phase} not in 0..{MAX_PHASE} (or 900)")
        if not 0 <= self.image_type <= 3:
            raise ValueError(f"image type {self.image_type} not in 0..3")

    @property
    def period_name(self) -> str:
        """'CRUS', 'MY34' ... 'MY38', 'TBD' or 'TEST'."""
        return OPERATION_PERIODS[self.period]

    @property
    def mars_year(self) -> int | None:
        """Mars year (34..38) of the operation period, None for CRUS/TBD/TEST."""
        return 33 + self.period if 1 <= self.period <= 5 else None

    def __str__(self) -> str:
        return f"{self.period_name}_{self.orbit:06d}_{self.phase:03d}_{self.image_type}"


def uid_to_observation_id(uid: int, *, on_mars: bool = True) -> ObservationId:
    """Decode a UID (0 <= uid < 2**32) into its observation id fields."""
    if not 0 <= uid < 1 << 32:
        raise ValueError(f"UID {uid} is not a 32-bit unsigned integer")
    phase = (uid >> 2) & MAX_PHASE if on_mars else NON_MARS_PHASE
    return ObservationId((uid >> 28) & 7, (uid >> 11) & MAX_ORBIT, phase, uid & 3)


def observation_id_to_uid(obs: ObservationId | str) -> int:
    """Encode observation id fields (or its string) into a UID with bit 31 clear."""
    if isinstance(obs, str):
        obs = parse_observation_id(obs)
    if obs.phase > MAX_PHASE:
        raise ValueError(f"orbit phase {obs.phase} (non-Mars marker) cannot be encoded in a UID")
    return (obs.period << 28) | (obs.orbit << 11) | (obs.phase << 2) | obs.image_type


def parse_observation_id(s: str) -> ObservationId:
    """'MY34_002002_211_2' -> ObservationId; ValueError for anything else."""
    text = s.strip().upper()
    if _OBS_RE.match(text) is None:
        raise ValueError(f"not a CaSSIS observation id: {s!r}")
    period, orbit, phase, image_type = text.split("_")
    return ObservationId(OPERATION_PERIODS.index(period), int(orbit), int(phase), int(image_type))


def observation_id_string(uid: int, *, on_mars: bool = True) -> str:
    """UID -> 'MY34_002002_211_2' in one call."""
    return str(uid_to_observation_id(uid, on_mars=on_mars))


def orbit_phase_from_latitude(
    lat_deg: float, ascending: bool, inclination_deg: float = 74.0
) -> float:
    """Orbit phase in degrees (argument of latitude, from the ascending node) for a circular orbit.

    On the real products the UID phase is within ~1 deg above this value computed from the
    boresight latitude (MY34_002002_211_2: -28.85 deg descending -> 210.1; MY36_015782_024_0:
    22.31 deg ascending -> 23.3), so the phase counts degrees along the orbit from the node.
    """
    s = math.sin(math.radians(lat_deg)) / math.sin(math.radians(inclination_deg))
    u = math.degrees(math.asin(max(-1.0, min(1.0, s))))
    return (u if ascending else 180.0 - u) % 360.0
