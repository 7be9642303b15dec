"""Fixed CaSSIS instrument constants (detector, filters, NAIF ids, Mars shape).

Conventions used across cassis-pipe (see docs/icd.md section 9):
detector coordinates are 0-based ``(line, sample)`` = ``(row, column)`` with pixel *centres* at
integer values; pixel ``(r, c)`` covers ``[r - 0.5, r + 0.5] x [c - 0.5, c + 0.5]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DETECTOR_LINES: int = 2048
"""Detector rows (lines)."""
DETECTOR_SAMPLES: int = 2048
"""Detector columns (samples)."""
PIXEL_PITCH_MM: float = 0.010
"""Detector pixel pitch in millimetres (10 um)."""

MARS_RADII_KM: tuple[float, float, float] = (3396.19, 3396.19, 3376.2)
"""Mars tri-axial radii (a, b, c) in km as in pck00010 / the ISD."""

NAIF_TGO: int = -143
NAIF_TGO_SPACECRAFT_FRAME: int = -143000
NAIF_CRU_FRAME: int = -143400
"""TGO_CASSIS_CRU frame id (also the instrument id of TGO_CASSIS)."""
NAIF_TEL_FRAME: int = -143410
NAIF_FSA_FRAME: int = -143420
NAIF_J2000: int = 1
NAIF_IAU_MARS: int = 10014
NAIF_MARS: int = 499

BINNING_CODES: dict[int, int] = {0: 1, 1: 2, 2: 4, 3: 8}
"""On-board binning code (imaging parameter table / PEHK) -> binning factor (pixels per side)."""


def binning_from_code(code: int) -> int:
    """Binning factor (1, 2, 4, 8) for an on-board binning code (0..3)."""
    try:
        return BINNING_CODES[int(code)]
    except KeyError:
        raise ValueError(f"binning code {code!r} not in 0..3") from None


def code_from_binning(factor: int) -> int:
    """On-board binning code (0..3) for a binning factor (1, 2, 4, 8)."""
    for code, f in BINNING_CODES.items():
        if f == int(factor):
            return code
    raise ValueError(f"binning factor {factor!r} not one of 1, 2, 4, 8")


@dataclass(frozen=True)
class FilterInfo:
    """Static metadata of one CaSSIS filter strip."""

    name: str
    """PAN, RED, NIR or BLU."""
    window_index: int
    """Window counter / order as flown (PAN=0, RED=1, NIR=2, BLU=3)."""
    centre_nm: float
    """Centre wavelength in nm."""
    row0: int
    """First detector row of the default window (0-based, inclusive)."""
    row1: int
    """Last detector row of the default window (0-based, inclusive)."""
    naif_id: int
    """NAIF instrument id (TGO_CASSIS_<filter>)."""


FILTERS: dict[str, FilterInfo] = {
    "PAN": FilterInfo("PAN", 0, 677.0, 354, 633, -143421),
    "RED": FilterInfo("RED", 1, 835.0, 712, 967, -143422),
    "NIR": FilterInfo("NIR", 2, 940.0, 1048, 1303, -143423),
    "BLU": FilterInfo("BLU", 3, 497.0, 1409, 1664, -143424),
}
"""Filters by name, default rows from the flown PEHK headers."""

FILTER_ORDER: tuple[str, ...] = ("PAN", "RED", "NIR", "BLU")
"""Filter names in window-counter order."""

CONTROL: str = "CTL"
"""Name (prefix) of a control window outside the four filter strips (CTL, CTL1, CTL2...)."""


def filter_by_index(index: int) -> FilterInfo:
    """FilterInfo for a window counter value (0..3)."""
    if not 0 <= int(index) < len(FILTER_ORDER):
        raise ValueError(f"window index {index!r} not in 0..3")
    return FILTERS[FILTER_ORDER[int(index)]]


AU_KM: float = 149_597_870.7
"""Astronomical unit in km (IAU 2012)."""

K_TABLE: dict[str, float] = {"PAN": 1.341e-8, "RED": 3.497e-8, "NIR": 3.645e-8, "BLU": 2.658e-8}
"""Nominal absolute calibration factor per filter (I/F per DN/s at 1 AU; the simulator's
radiometric truth and the synthetic calibration sets)."""

KERNELS_DIR = Path(__file__).resolve().parents[1] / "data" / "kernels"
"""SPICE text kernels shipped with the package (SCLK and LSK for time codes)."""
DEFAULT_SCLK = KERNELS_DIR / "em16_tgo_step_20190823.tsc"
DEFAULT_LSK = KERNELS_DIR / "naif0012.tls"
