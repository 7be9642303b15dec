"""HK channel catalogue, limits table and HK frames as column arrays (for the HK database).

A *channel* is one field of one HK frame type, named ``<frame name>.<FIELD>``
(``temperature_1.PT_FPA_1``); the bare field name is accepted too and means the lowest frame
type that carries it (``IMEM_FREE`` = ``fsw_status_1.IMEM_FREE``, not the imaging frame's copy).
Each frame type is one database table ``hk_<frame name>`` with one column ``f_<field>`` per
field, so every identifier that reaches SQL comes from this fixed catalogue, never from input.

Time: ``tc`` is the 8-byte CaSSIS time code as one integer (P-field, 4-byte coarse s, 3-byte
fine 2^-24 s), so for two frames with the same P-field ``tc2 - tc1 = dt * 2^24`` exactly and
ordering by ``tc`` is ordering by on-board time ``obt`` (s). Integers that do not fit a signed
64-bit database integer (8-byte fields >= 2^63) are stored as their two's complement
(:func:`to_unsigned` maps them back).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cassis_pipe.telemetry.crc import crc16
from cassis_pipe.telemetry.hk import HK_CRC_OFFSET, HK_FIELDS, HK_NAMES, read_hk_stream
from cassis_pipe.telemetry.mil import FRAME_LEN, HK_SYNC
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND, P_FIELD

TC_PER_SECOND = FINE_PER_SECOND  # time-code integer units per second (fine part)


class HkDbError(ValueError):
    """Bad input to the HK database tools (unknown channel, bad limits table, bad time)."""


@dataclass(frozen=True)
class Channel:
    """One HK channel: qualified name, frame type and field, table/column, unit, limits."""

    name: str
    field: str
    frame_type: int
    frame_name: str
    table: str
    column: str
    length: int
    unit: str
    tag: int | None


def _catalogue() -> dict[str, Channel]:
    out = {}
    for t in sorted(HK_FIELDS):
        frame = HK_NAMES[t]
        for f in HK_FIELDS[t]:
            name = f"{frame}.{f.name}"
            out[name] = Channel(name, f.name, t, frame, f"hk_{frame}", f"f_{f.name.lower()}",
                                f.length, f.unit, f.tag)
    return out


#: Qualified channel name -> Channel, in frame type then frame order.
CHANNELS: dict[str, Channel] = _catalogue()
#: Bare field name -> qualified name (lowest frame type carrying the field).
ALIASES: dict[str, str] = {}
for _ch in CHANNELS.values():
    ALIASES.setdefault(_ch.field, _ch.name)
#: Frame type -> its channels in frame order; frame name -> type.
TYPE_CHANNELS: dict[int, list[Channel]] = {
    t: [c for c in CHANNELS.values() if c.frame_type == t] for t in HK_FIELDS}
FRAME_TYPES: dict[str, int] = {name: t for t, name in HK_NAMES.items()}


def resolve_channel(name: str) -> Channel:
    """The channel called ``name`` (qualified or bare); HkDbError with suggestions otherwise."""
    qualified = name if name in CHANNELS else ALIASES.get(name)
    if qualified is None:
        close = difflib.get_close_matches(name, list(CHANNELS) + list(ALIASES), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise HkDbError(f"unknown HK channel {name[:80]!r}{hint}; `cassis-pipe hk channels` "
                        "lists them")
    return CHANNELS[qualified]


def resolve_frame_type(name: str) -> int:
    """Frame type number of a frame name (``temperature_1``) or hex id (``0x00``)."""
    if name in FRAME_TYPES:
        return FRAME_TYPES[name]
    try:
        t = int(name, 16)
    except ValueError:
        t = -1
    if t not in HK_NAMES:
        raise HkDbError(f"unknown HK frame type {name[:40]!r}; known: {', '.join(FRAME_TYPES)}")
    return t


def to_signed(values: np.ndarray) -> np.ndarray:
    """uint64 -> int64 two's complement (values < 2^63 unchanged)."""
    return np.asarray(values, dtype=np.uint64).view(np.int64)


def to_unsigned(value: int) -> int:
    """Inverse of the two's complement storage of a 64-bit value."""
    return value % (1 << 64)


def tc_to_obt(tc: np.ndarray | int) -> np.ndarray | float:
    """On-board time (s) of time-code integers (P-field ignored)."""
    t = np.asarray(tc, dtype=np.int64)
    obt = ((t >> 24) & 0xFFFFFFFF) + (t & 0xFFFFFF) / TC_PER_SECOND
    return float(obt) if obt.ndim == 0 else obt


def obt_to_tc(obt: float) -> int:
    """Time-code integer (P-field 0x2f) of on-board time ``obt`` s, rounded down to 2^-24 s."""
    if not 0.0 <= obt < 2.0**32:
        raise HkDbError(f"on-board time {obt!r} s outside 0..2^32")
    ticks = int(np.floor(obt * TC_PER_SECOND))
    return (P_FIELD << 56) | ticks


# ---- limits ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Limits:
    """Soft (warning) and hard (alarm) limits in the channel's unit; None = unbounded."""

    soft_low: float | None = None
    soft_high: float | None = None
    hard_low: float | None = None
    hard_high: float | None = None

    def level(self, value: float) -> str | None:
        """"hard", "soft" or None for a value."""
        if (self.hard_low is not None and value < self.hard_low) or (
                self.hard_high is not None and value > self.hard_high):
            return "hard"
        if (self.soft_low is not None and value < self.soft_low) or (
                self.soft_high is not None and value > self.soft_high):
            return "soft"
        return None

    def as_dict(self) -> dict[str, float | None]:
        return {"soft_low": self.soft_low, "soft_high": self.soft_high,
                "hard_low": self.hard_low, "hard_high": self.hard_high}


def _pair(entry: dict[str, Any], key: str, name: str) -> tuple[float | None, float | None]:
    v = entry.get(key)
    if v is None:
        return None, None
    if not (isinstance(v, list) and len(v) == 2 and all(
            x is None or (isinstance(x, int | float) and not isinstance(x, bool)) for x in v)):
        raise HkDbError(f"limits for {name}: {key} must be [low, high] (numbers or null)")
    return v[0], v[1]


def load_limits(path: str | Path | None = None) -> dict[str, Limits]:
    """Limits table (qualified channel name -> Limits); default: the package's hk_limits.yaml.

    Raises HkDbError for unknown channels, malformed entries or soft limits outside hard ones.
    """
    if path is None:
        text = resources.files("cassis_pipe.data").joinpath("hk_limits.yaml").read_text()
    else:
        text = Path(path).read_text()
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise HkDbError("limits table must be a mapping channel -> {soft: [lo, hi], hard: [..]}")
    out = {}
    for name, entry in data.items():
        ch = resolve_channel(str(name))
        if not isinstance(entry, dict) or set(entry) - {"soft", "hard"}:
            raise HkDbError(f"limits for {name}: only 'soft' and 'hard' ranges are allowed")
        sl, sh = _pair(entry, "soft", name)
        hl, hh = _pair(entry, "hard", name)
        lim = Limits(sl, sh, hl, hh)
        lows = [x for x in (hl, sl) if x is not None]
        highs = [x for x in (sh, hh) if x is not None]
        if lows != sorted(lows) or highs != sorted(highs) or (
                lows and highs and max(lows) > min(highs)):
            raise HkDbError(f"limits for {name}: need hard_low <= soft_low <= soft_high <= "
                            "hard_high")
        out[ch.name] = lim
    return out


# ---- frames as column arrays --------------------------------------------------------------------

_CRC_TABLE = np.array([crc16(bytes([i]), init=0) for i in range(256)], dtype=np.uint16)


def crc_rows(frames: np.ndarray, n: int = HK_CRC_OFFSET) -> np.ndarray:
    """CRC-16/CCITT-FALSE of the first ``n`` bytes of every row of a (rows, 64) uint8 array."""
    crc = np.full(frames.shape[0], 0xFFFF, dtype=np.uint16)
    for j in range(n):
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ frames[:, j]) & 0xFF]
    return crc


def _be(rows: np.ndarray, start: int, length: int) -> np.ndarray:
    """Big-endian unsigned field at ``start`` of every row, as int64 (two's complement)."""
    if length in (1, 2, 4, 8):
        block = np.ascontiguousarray(rows[:, start:start + length])
        return to_signed(block.view(f">u{length}").ravel().astype(np.uint64))
    acc = np.zeros(rows.shape[0], dtype=np.uint64)
    for j in range(start, start + length):  # odd lengths (a 3-byte reserved field)
        acc = (acc << np.uint64(8)) | rows[:, j].astype(np.uint64)
    return to_signed(acc)


@dataclass
class TypeBatch:
    """Frames of one HK type as columns: ``tc``, ``crc`` and one int64 array per channel."""

    frame_type: int
    tc: np.ndarray
    crc: np.ndarray
    columns: dict[str, np.ndarray]

    def __len__(self) -> int:
        return int(self.tc.size)


@dataclass
class DecodedHk:
    """Every valid frame of an HK byte string (by type) and what was rejected."""

    batches: dict[int, TypeBatch]
    valid: int
    rejects: list[dict[str, Any]]

    @property
    def rejected_bytes(self) -> int:
        return sum(r["length"] for r in self.rejects)


def _batches(rows: np.ndarray) -> dict[int, TypeBatch]:
    out = {}
    for t in np.unique(rows[:, 1]).tolist():
        sel = rows[rows[:, 1] == t]
        cols = {c.column: _be(sel, f.offset, f.length)
                for c, f in zip(TYPE_CHANNELS[t], HK_FIELDS[t], strict=True)}
        out[t] = TypeBatch(t, _be(sel, 2, 8), _be(sel, HK_CRC_OFFSET, 2), cols)
    return out


def decode_hk_arrays(data: bytes | bytearray | memoryview) -> DecodedHk:
    """Every HK frame of ``data`` as column arrays; never raises.

    Fast path when ``data`` is whole aligned frames that all pass the checks of the frame
    decoder (sync, known type, CRC): then every frame is valid, exactly as
    :func:`~cassis_pipe.telemetry.hk.read_hk_stream` would find. Otherwise the stream reader
    itself runs, so corrupt input gets its exact reject spans.
    """
    arr = np.frombuffer(data, dtype=np.uint8)
    if arr.size and arr.size % FRAME_LEN == 0:
        rows = arr.reshape(-1, FRAME_LEN)
        stored = (rows[:, HK_CRC_OFFSET].astype(np.uint16) << 8) | rows[:, HK_CRC_OFFSET + 1]
        if (np.all(rows[:, 0] == HK_SYNC) and np.all(np.isin(rows[:, 1], list(HK_FIELDS)))
                and np.array_equal(crc_rows(rows), stored)):
            return DecodedHk(_batches(rows), rows.shape[0], [])
    result = read_hk_stream(data)
    rejects = [r.as_dict() for r in result.rejects]
    if not result.frames:
        return DecodedHk({}, 0, rejects)
    rows = np.stack([arr[o:o + FRAME_LEN] for o in result.offsets])
    return DecodedHk(_batches(rows), result.valid, rejects)
