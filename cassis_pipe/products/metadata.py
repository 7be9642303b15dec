"""Plain metadata records handed to the product writers (no I/O, no XML here)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from cassis_pipe.instrument.constants import FILTER_ORDER
from cassis_pipe.products.crs import MapProjection
from cassis_pipe.products.errors import ProductError

if TYPE_CHECKING:
    from cassis_pipe.products.geometry_block import GeometryBlock

#: Our product levels -> PDS4 ``processing_level`` (the PSA collection is ``data_<level>``).
PROCESSING_LEVELS: dict[str, str] = {
    "raw": "Raw",
    "partially_processed": "Partially Processed",
    "calibrated": "Calibrated",
    "derived": "Derived",
}

#: CaSSIS filters.

#: filter -> (centre wavelength nm, bandwidth nm or None). PAN from the flown PSA derived label,
#: RED from the flown ISIS export label (both centre and width as flown); BLU and NIR centres
#: from the data-handling paper (as ``instrument.constants.FILTERS``), their widths from the
#: flown instrument kernel em16_tgo_cassis_v07.ti ("Filter center wavelength/bw": Blue-Green
#: 485/165, IR 985/220 nm), the only flown source of a BLU or NIR width (docs/icd.md).
FILTER_WAVELENGTHS_NM: dict[str, tuple[float, float | None]] = {
    "PAN": (677.4, 231.5),
    "RED": (840.0, 100.0),
    "NIR": (940.0, 220.0),
    "BLU": (497.0, 165.0),
}

#: Fill value of float32 products (lowest float32, bits 0xFF7FFFFF = -3.4028234663852886e38):
#: what the flown PSA map product holds outside the footprint and what GDAL tools use.
FLOAT32_MISSING = float(np.finfo(np.float32).min)

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_UTC_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_LID_RE = re.compile(r"^urn(:[a-z0-9._-]+){3,5}$")


def check_text(value: str, what: str, *, ascii_only: bool = False, short: bool = True) -> str:
    """Check a label string against the PDS4 string types; returns it unchanged.

    short: 1..255 characters after XML whitespace collapsing (``*_Short_String_Collapsed``);
    otherwise at least 1 character (``*_Text_Preserved``). ascii_only: Basic Latin only.
    Characters XML cannot carry are always refused.
    """
    if not isinstance(value, str):
        raise ProductError(f"{what} must be a string, got {type(value).__name__}")
    if _XML_BAD.search(value):
        raise ProductError(f"{what} contains characters XML cannot carry: {value!r}")
    if ascii_only and not value.isascii():
        raise ProductError(f"{what} must be ASCII (PDS4 ASCII string type): {value!r}")
    n = len(re.sub(r"[ \t\n\r]+", " ", value).strip(" ")) if short else len(value)
    if n < 1 or (short and n > 255):
        raise ProductError(f"{what} must have 1..{255 if short else 'any'} characters: {value!r}")
    return value


def _is_date(value: str) -> bool:
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


def utc_z(value: str) -> str:
    """``YYYY-MM-DDThh:mm:ss[.ffffff]`` UTC with a trailing ``Z`` (as PDS4 wants)."""
    if not isinstance(value, str) or not _UTC_RE.match(value):
        raise ProductError(f"not an ISO 8601 UTC time: {value!r}")
    try:
        datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError as exc:
        raise ProductError(f"not a valid UTC time: {value!r} ({exc})") from exc
    return value if value.endswith("Z") else value + "Z"


@dataclass(frozen=True, slots=True)
class SpecialConstants:
    """Pixel values with a special meaning (in the array's own type; None = not used).

    ``missing`` -> ``missing_constant`` (no data), ``invalid`` -> ``invalid_constant``,
    ``saturated`` -> ``high_instrument_saturation`` (detector saturated, DN).
    """

    missing: float | int | None = None
    invalid: float | int | None = None
    saturated: float | int | None = None

    def values(self) -> list[float | int]:
        """The constants that are set."""
        return [v for v in (self.missing, self.invalid, self.saturated) if v is not None]


@dataclass(frozen=True, slots=True)
class ProcessingRecord:
    """Free processing history: software, calibration files, parameters, inputs.

    ``calibration_files`` are file names that carry their version (e.g. ``flat_190313.dat``);
    ``parameters`` are (name, value) pairs with the unit in the name, e.g.
    ``("rotation_offset_deg", "0.120")`` or ``("replaced_bad_pixels_count", "9")``;
    ``input_products`` are logical identifiers of the input products.
    """

    software_name: str = "cassis-pipe"
    software_version: str = "0.1.0"
    description: str = ""
    calibration_files: tuple[str, ...] = ()
    parameters: tuple[tuple[str, str], ...] = ()
    input_products: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_text(self.software_name, "software_name")
        check_text(self.software_version, "software_version", ascii_only=True)
        if self.description:
            check_text(self.description, "processing description", short=False)
        for f in self.calibration_files:
            check_text(f, "calibration file", ascii_only=True)
        for pair in self.parameters:
            if len(pair) != 2:
                raise ProductError(f"parameters are (name, value) pairs, got {pair!r}")
            check_text(pair[0], "parameter name")
            check_text(pair[1], f"value of parameter {pair[0]!r}", ascii_only=True)
        for lid in self.input_products:
            if not isinstance(lid, str) or not _LID_RE.match(lid) or len(lid) > 255:
                raise ProductError(f"input product {lid!r} is not a PDS4 logical identifier")


@dataclass(frozen=True, slots=True)
class ProductMeta:
    """Identification and observation metadata of one image product.

    ``name`` is the product name (the file stem, e.g. ``CAS-MCO-2016-11-26T22.50.27.381-PAN-00005``
    upper case allowed); the logical identifier uses it lower-cased. ``level`` is a key of
    :data:`PROCESSING_LEVELS`. Times are UTC ISO 8601; ``modification_date`` is ``YYYY-MM-DD``
    (given, not "today", so labels are deterministic). ``exposure_duration_s`` in seconds.
    """

    name: str
    level: str
    start_utc: str
    stop_utc: str
    modification_date: str
    title: str = "CaSSIS image product"
    filter_name: str | None = None
    exposure_duration_s: float | None = None
    description: str = ""
    unit: str | None = None
    version_id: str = "1.0"
    special: SpecialConstants = field(default_factory=SpecialConstants)
    processing: ProcessingRecord | None = None
    geometry: GeometryBlock | None = None
    """Map products: observing geometry (``geom:Geometry``, Ls, LTST, orbit, mission phase)."""
    scaling: tuple[float, float] | None = None
    """(scaling_factor, value_offset) of the stored values, written when set."""

    def __post_init__(self) -> None:
        if self.level not in PROCESSING_LEVELS:
            raise ProductError(
                f"level must be one of {sorted(PROCESSING_LEVELS)}, not {self.level!r}"
            )
        if not _NAME_RE.match(self.name.lower()) or len(self.name) > 200:
            raise ProductError(f"product name {self.name!r} is not usable in a PDS4 identifier")
        start = datetime.fromisoformat(utc_z(self.start_utc)[:-1])
        if datetime.fromisoformat(utc_z(self.stop_utc)[:-1]) < start:
            raise ProductError(f"stop time {self.stop_utc} is before start {self.start_utc}")
        if not _DATE_RE.match(self.modification_date) or not _is_date(self.modification_date):
            raise ProductError(
                f"modification_date must be YYYY-MM-DD, not {self.modification_date!r}"
            )
        if self.filter_name is not None and self.filter_name not in FILTER_ORDER:
            raise ProductError(f"filter must be one of {FILTER_ORDER}, not {self.filter_name!r}")
        if self.exposure_duration_s is not None and not self.exposure_duration_s > 0:
            raise ProductError("exposure duration must be positive seconds")
        check_text(self.title, "title")
        if self.description:
            check_text(self.description, "description", short=False)
        if self.unit is not None:
            check_text(self.unit, "unit")
        if not re.match(r"^\d+\.\d+$", self.version_id):
            raise ProductError(f"version_id must look like 1.0, not {self.version_id!r}")

    @property
    def logical_identifier(self) -> str:
        """``urn:esa:psa:em16_tgo_cas:data_<level>:<name lower-case>``."""
        return f"urn:esa:psa:em16_tgo_cas:data_{self.level}:{self.name.lower()}"


@dataclass(frozen=True, slots=True)
class MapInfo:
    """Where a map-projected array sits: projection, pixel size (m), corner (m), bounds (deg).

    ``upper_left_x_m``/``upper_left_y_m`` are the projected coordinates of the outer corner of the
    upper-left pixel; ``pixel_size_*_m`` are positive metres per pixel (x east, y north-down
    rows). Bounding coordinates are planetocentric degrees, longitudes east-positive.
    """

    projection: MapProjection
    pixel_size_x_m: float
    pixel_size_y_m: float
    upper_left_x_m: float
    upper_left_y_m: float
    west_deg: float
    east_deg: float
    north_deg: float
    south_deg: float

    def __post_init__(self) -> None:
        vals = (self.pixel_size_x_m, self.pixel_size_y_m, self.upper_left_x_m,
                self.upper_left_y_m, self.west_deg, self.east_deg, self.north_deg,
                self.south_deg)
        if not all(math.isfinite(v) for v in vals):
            raise ProductError("map information must be finite")
        if self.pixel_size_x_m <= 0 or self.pixel_size_y_m <= 0:
            raise ProductError("pixel sizes must be positive metres")
        if not -90.0 <= self.south_deg <= self.north_deg <= 90.0:
            raise ProductError("need -90 <= south <= north <= 90 degrees")

    def geotransform(self) -> tuple[float, float, float, float, float, float]:
        """GDAL geotransform (x0, dx, 0, y0, 0, -dy), metres."""
        return (self.upper_left_x_m, self.pixel_size_x_m, 0.0,
                self.upper_left_y_m, 0.0, -self.pixel_size_y_m)
