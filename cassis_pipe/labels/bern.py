"""Reader for the Bern CaSSIS framelet headers (level-0 / level-1b XML, not valid PDS4).

The header has ``CaSSIS_Header`` with FSW_HEADER (science-frame TLVs as attributes),
PEHK_HEADER (decoded PE housekeeping), DERIVED_HEADER_DATA, GEOMETRIC_DATA and IMAGE_COMMAND,
plus a PDS4-like File_Area_Observational. Unknown or missing items become None.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from cassis_pipe.instrument.detector import Window
from cassis_pipe.labels.arrays import ArrayGeometry, find_array, parse_array
from cassis_pipe.labels.geometric import GeometricData, parse_geometric
from cassis_pipe.labels.ids import ObservationId, uid_to_observation_id
from cassis_pipe.labels.values import parse_utc
from cassis_pipe.labels.xmlsafe import (
    LabelError,
    child,
    find,
    load_xml,
    local,
    read_xml,
    text,
    to_float,
    to_int,
)

#: Exposure-time tick of the T_exp command parameter, in seconds (150 -> 1.440 ms).
T_EXP_TICK_S = 9.6e-6


@dataclass(frozen=True, slots=True)
class BernWindowHeader:
    """One PEHK window as written in a Bern header: 0-based inclusive rows/cols and the binning
    code (0 = none, 1 = 2x2; None if absent). :meth:`to_window` gives the detector window."""

    index: int
    start_row: int
    end_row: int
    start_col: int
    end_col: int
    binning: int | None

    @property
    def rows(self) -> int:
        """Number of detector rows in the window."""
        return self.end_row - self.start_row + 1

    @property
    def cols(self) -> int:
        """Number of detector columns in the window."""
        return self.end_col - self.start_col + 1

    def to_window(self, filter: str) -> Window:
        """The detector :class:`~cassis_pipe.instrument.detector.Window` (a missing binning
        code counts as none)."""
        return Window.from_code(filter, self.start_row, self.end_row, self.start_col,
                                self.end_col, 0 if self.binning is None else self.binning)


@dataclass(frozen=True, slots=True)
class FrameletLabel:
    """Everything the pipeline uses from one Bern framelet header (units in the names)."""

    source: str
    product_name: str | None
    product_id: str | None
    created_file_name: str | None
    filter: str | None
    uid: int | None
    window_counter: int | None
    sequence_counter: int | None
    frame_type: int | None
    compression_ratio_id: int | None
    compression_name: str | None
    compression_value: int | None
    compression_ratio_actual: float | None
    compression_ratio_requested: float | None
    number_of_windows: int | None
    windows: tuple[BernWindowHeader, ...]
    window: BernWindowHeader | None
    exposure_time_s: float | None
    t_exp: int | None
    num_exp: int | None
    step_exp_us: int | None
    rotation_deg: float | None
    exposure_timestamp_hex: str | None
    timestamp_hex: str | None
    acquisition_time: datetime | None
    acquisition_sclk: float | None
    mission_phase: str | None
    expanded: bool | None
    absolute_calibration: float | None
    heliocentric_distance_au: float | None
    target: str | None
    geometry: GeometricData
    array: ArrayGeometry | None
    fsw_header: dict[str, str] = field(default_factory=dict)
    pehk_header: dict[str, str] = field(default_factory=dict)
    image_command: dict[str, str] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)

    @property
    def binning(self) -> int | None:
        """Binning code of this framelet's own window (0 = full resolution, 1 = 2x2)."""
        return None if self.window is None else self.window.binning

    @property
    def observation_id(self) -> ObservationId | None:
        """Observation id decoded from the UID (phase 900 for non-Mars targets), else None."""
        if self.uid is None or not 0 <= self.uid < 1 << 32:
            return None
        on_mars = (self.target or "Mars").strip().lower() == "mars"
        return uid_to_observation_id(self.uid, on_mars=on_mars)


def _attr_int(d: dict[str, str], key: str) -> int | None:
    return to_int(d.get(key))


def _windows(pehk: dict[str, str]) -> tuple[BernWindowHeader, ...]:
    out = []
    for i in range(1, 7):
        vals = [
            _attr_int(pehk, f"Window{i}_{k}")
            for k in ("Start_Row", "End_Row", "Start_Col", "End_Col")
        ]
        if any(v is None for v in vals):
            continue
        sr, er, sc, ec = vals  # type: ignore[misc]
        out.append(BernWindowHeader(i, sr, er, sc, ec, _attr_int(pehk, f"Binning_window_{i}")))
    return tuple(out)


def _image_command(elem: ET.Element | None) -> dict[str, str]:
    """IMAGE_COMMAND children as {tag: text}; a repeated tag gets its Parameter attribute."""
    out: dict[str, str] = {}
    if elem is None:
        return out
    for c in elem:
        name = local(c.tag)
        if not name:
            continue
        key = name if name not in out else f"{name}[{c.get('Parameter', '')}]"
        out[key] = text(c) or ""
    return out


def _derived(elem: ET.Element | None) -> dict[str, str]:
    """DERIVED_HEADER_DATA children as {tag: text}; repeated tags keyed by their attribute name."""
    out: dict[str, str] = {}
    if elem is None:
        return out
    for c in elem:
        name = local(c.tag)
        if not name:
            continue
        key = name
        if key in out or name == "Saturation_Analysis":
            key = f"{name}[{','.join(c.attrib)}]"
        out[key] = text(c) or ""
    return out


def _expanded(s: str | None) -> bool | None:
    v = to_int(s)
    return None if v is None else bool(v)


def parse_bern_root(root: ET.Element, source: str) -> FrameletLabel:
    """Build a :class:`FrameletLabel` from an already parsed Bern header root."""
    header = find(root, "CaSSIS_Header")
    if header is None:
        raise LabelError(source, "not a Bern CaSSIS header (no CaSSIS_Header element)")
    fsw_e, pehk_e = child(header, "FSW_HEADER"), child(header, "PEHK_HEADER")
    fsw = dict(fsw_e.attrib) if fsw_e is not None else {}
    pehk = dict(pehk_e.attrib) if pehk_e is not None else {}
    der_e = child(header, "DERIVED_HEADER_DATA")
    cmd_e = child(header, "IMAGE_COMMAND")
    cmd = _image_command(cmd_e)
    windows = _windows(pehk)
    wc = _attr_int(fsw, "WindowCounter")
    own = next((w for w in windows if wc is not None and w.index == wc + 1), None)
    t_exp = to_int(cmd.get("T_exp"))
    exp_s = to_float(pehk.get("Exposure_Time"))
    if exp_s is None and t_exp is not None:
        exp_s = t_exp * T_EXP_TICK_S
    pos = _attr_int(fsw, "Position")
    rot = to_float(text(child(der_e, "TelescopeRotationAngle"))) if pos is None else pos / 1000.0
    fa = find(root, "File_Area_Observational")
    arr_e = find_array(fa)
    geo = parse_geometric(child(header, "GEOMETRIC_DATA"))
    return FrameletLabel(
        source=source,
        product_name=text(child(fa, "File", "file_name")),
        product_id=text(find(root, "Product_Id")),
        created_file_name=text(child(fa, "File", "created_file_name")),
        filter=text(child(der_e, "Filter")),
        uid=_attr_int(fsw, "UID"),
        window_counter=wc,
        sequence_counter=_attr_int(fsw, "SequenceCounter"),
        frame_type=_attr_int(fsw, "Type"),
        compression_ratio_id=_attr_int(fsw, "CompressionRatio"),
        compression_name=text(child(der_e, "CompressionName")),
        compression_value=to_int(text(child(der_e, "CompressionValue"))),
        compression_ratio_actual=to_float(text(child(der_e, "ActualCompressionRatio"))),
        compression_ratio_requested=to_float(text(child(der_e, "RequestedCompressionRatio"))),
        number_of_windows=_attr_int(pehk, "Number_of_windows"),
        windows=windows,
        window=own,
        exposure_time_s=exp_s,
        t_exp=t_exp,
        num_exp=to_int(cmd.get("Num_exp")),
        step_exp_us=to_int(cmd.get("Step_exp")),
        rotation_deg=rot,
        exposure_timestamp_hex=fsw.get("ExposureTimestamp"),
        timestamp_hex=fsw.get("Timestamp"),
        acquisition_time=parse_utc(text(child(der_e, "OnboardImageAcquisitionTime"))),
        acquisition_sclk=to_float(text(child(der_e, "OnboardAcquisitionSCLKTime"))),
        mission_phase=text(child(der_e, "MissionPhase")),
        expanded=_expanded(text(child(der_e, "Expanded"))),
        absolute_calibration=to_float(text(child(der_e, "ABSOLUTE_CALIBRATION"))),
        heliocentric_distance_au=geo.heliocentric_distance_au,
        target=geo.target,
        geometry=geo,
        array=parse_array(arr_e) if arr_e is not None else None,
        fsw_header=fsw,
        pehk_header=pehk,
        image_command=cmd,
        derived=_derived(der_e),
    )


def read_bern_label(path: str | Path) -> FrameletLabel:
    """Read a Bern framelet header file; raises :class:`LabelError` naming the file on failure."""
    p = Path(path)
    return parse_bern_root(read_xml(p), p.name)


def parse_bern_label(data: bytes, source: str = "<bytes>") -> FrameletLabel:
    """Parse Bern framelet header bytes (see :func:`read_bern_label`)."""
    return parse_bern_root(load_xml(data, source), source)


def window_words(label: FrameletLabel) -> tuple[tuple[int, int], ...]:
    """Commanded window words (start, end) per window from IMAGE_COMMAND, as 24-bit integers.

    The 2017 level-1b headers print them in hex without a prefix ('2C4', 'FFE4F2'), the 2018
    ones in decimal ('1049284'). Decimal is assumed unless a value has a hex letter or does not
    fit 24 bits; when both readings fit, the one whose window-1 start row (lower 12 bits / 2)
    matches PEHK_HEADER wins. Upper 12 bits = 2 x column, lower 12 bits = 2 x row.
    """
    raw = []
    for i in range(1, 7):
        s, e = label.image_command.get(f"Win{i}_str"), label.image_command.get(f"Win{i}_end")
        if s is None or e is None:
            break
        raw.append((s.strip(), e.strip()))
    if not raw:
        return ()
    flat = [v for pair in raw for v in pair]

    def conv(base: int) -> list[tuple[int, int]] | None:
        try:
            vals = [(int(a, base), int(b, base)) for a, b in raw]
        except ValueError:
            return None
        if any(not 0 <= v <= 0xFFFFFF for pair in vals for v in pair):
            return None
        return vals

    dec, hexa = conv(10), conv(16)
    if any(c in "abcdefABCDEF" for v in flat for c in v):
        dec = None
    if dec is not None and hexa is not None and label.windows:
        want = label.windows[0].start_row
        if (hexa[0][0] & 0xFFF) // 2 == want and (dec[0][0] & 0xFFF) // 2 != want:
            dec = None
    chosen = dec if dec is not None else hexa
    if chosen is None:
        raise LabelError(label.source, "IMAGE_COMMAND window words are not 24-bit integers")
    return tuple(chosen)
