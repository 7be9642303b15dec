"""CaSSIS imaging parameter table: the 31 parameters (ids 0x00-0x1e) and the 53-byte packed form.

Packed layout (big-endian, byte offsets), carried by "set imaging parameter table" (cid 0x07):

    0x00 T_exp      2   exposure time, units of 9.6 us (flown files: 150 -> 1.440 ms)
    0x02 Num_exp    1   exposures in the image
    0x03 Step_exp   4   time between exposures, us
    0x07 RIOC_Freq  1   RIOC clock id (0: 1.25 MHz, 1: 2.5 MHz, 2: 5 MHz)
    0x08 Num_win    1   number of windows used
    0x09 Bin        3   six 4-bit binning codes, window 1 in the high nibble of byte 0x09
    0x0c Win_1..6   6x6 per window: start word (24 bit) then end word (24 bit); each word holds
                        2 x column in its upper 12 bits and 2 x row in its lower 12 bits
    0x30 PE_test    1
    0x31 CompR      3   six 4-bit compression ratio ids, window 1 in the high nibble
    0x34 TEC_start  1

Every bit of the 53 bytes belongs to exactly one field, so pack/unpack is a bijection.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import NamedTuple

from cassis_pipe.instrument.detector import Window

PACKED_LEN = 53  # bytes
N_WINDOWS = 6
T_EXP_UNIT_S = 9.6e-6  # seconds per T_exp count (flown files; the manual says 1 us)

#: Parameter id (index) -> name, as in the manual and the flown IMAGE_COMMAND (ECSP1000 + id).
PARAMETER_NAMES: tuple[str, ...] = (
    ("T_exp", "Num_exp", "Step_exp", "RIOC_Freq", "Num_win")
    + tuple(f"Bin_win{i}" for i in range(1, 7))
    + tuple(f"Win{i}_{e}" for i in range(1, 7) for e in ("str", "end"))
    + ("PE_test",)
    + tuple(f"Win{i}_CompR" for i in range(1, 7))
    + ("TEC_start",)
)
PARAMETER_IDS: dict[str, int] = {name: i for i, name in enumerate(PARAMETER_NAMES)}


class CommandedWindow(NamedTuple):
    """A window as decoded from its command words: 0-based pixel coordinates, exactly as
    commanded (the wire form; :meth:`to_window` gives the detector
    :class:`~cassis_pipe.instrument.detector.Window`).

    The flown files do not fix whether ``end_row`` is the last row read (2016 commands) or one
    past it (2018 commands); the PE read-back in PEHK_HEADER is usually ``end_row - 1``.
    """

    start_col: int
    start_row: int
    end_col: int
    end_row: int

    @property
    def rows(self) -> int:
        """Detector rows read, level-0 convention: ``end_row`` exclusive (0 if empty)."""
        return max(self.end_row - self.start_row, 0)

    @property
    def cols(self) -> int:
        """Detector columns read: ``end_col`` inclusive (0 if empty)."""
        return max(self.end_col - self.start_col + 1, 0)

    def to_window(self, filter: str, binning_code: int) -> Window:
        """The detector window read (:attr:`rows` x :attr:`cols`); ValueError if empty."""
        return Window.from_code(filter, self.start_row, self.start_row + self.rows - 1,
                                self.start_col, self.start_col + self.cols - 1, binning_code)


def window_word(col: int, row: int) -> int:
    """24-bit window command word for a detector (column, row) in pixels (0..2047)."""
    if not (0 <= col < 2048 and 0 <= row < 2048):
        raise ValueError(f"window coordinate out of range: col={col} row={row} (0..2047 px)")
    return ((2 * col) << 12) | (2 * row)


def window_coords(word: int) -> tuple[int, int]:
    """(column, row) in pixels from a 24-bit window command word (the fields' LSB is ignored)."""
    return ((word >> 12) & 0xFFF) >> 1, (word & 0xFFF) >> 1


def _check(name: str, value: int, bits: int) -> int:
    if not isinstance(value, int) or not 0 <= value < (1 << bits):
        raise ValueError(f"{name}={value!r} does not fit in {bits} unsigned bits")
    return value


def _pack_nibbles(name: str, values: tuple[int, ...]) -> bytes:
    word = 0
    for i, v in enumerate(values):
        word = (word << 4) | _check(f"{name}[{i}]", v, 4)
    return word.to_bytes(3, "big")


def _unpack_nibbles(b: bytes) -> tuple[int, ...]:
    word = int.from_bytes(b, "big")
    return tuple((word >> (20 - 4 * i)) & 0xF for i in range(N_WINDOWS))


@dataclass(frozen=True, slots=True)
class ParameterTable:
    """One imaging parameter table, values exactly as commanded (raw command units)."""

    t_exp: int = 0  # units of 9.6 us
    num_exp: int = 0
    step_exp_us: int = 0  # microseconds
    rioc_freq: int = 0
    num_win: int = 0
    binning: tuple[int, ...] = (0,) * N_WINDOWS  # 4-bit codes (0: 1x1, 1: 2x2 in flown files)
    win_str: tuple[int, ...] = (0,) * N_WINDOWS  # 24-bit start words
    win_end: tuple[int, ...] = (0,) * N_WINDOWS  # 24-bit end words
    pe_test: int = 0
    compr: tuple[int, ...] = (0,) * N_WINDOWS  # 4-bit compression ratio ids
    tec_start: int = 0

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, tuple) and len(v) != N_WINDOWS:
                raise ValueError(f"{f.name} needs {N_WINDOWS} entries, got {len(v)}")

    @property
    def exposure_time_s(self) -> float:
        """Exposure time in seconds (T_exp x 9.6 us)."""
        return self.t_exp * T_EXP_UNIT_S

    @property
    def windows(self) -> tuple[CommandedWindow, ...]:
        """All six windows decoded to pixel coordinates (including unused ones)."""
        out = []
        for s, e in zip(self.win_str, self.win_end, strict=True):
            sc, sr = window_coords(s)
            ec, er = window_coords(e)
            out.append(CommandedWindow(sc, sr, ec, er))
        return tuple(out)

    def pack(self) -> bytes:
        """The 53-byte packed table (raises ValueError if a field does not fit)."""
        out = bytearray()
        out += _check("t_exp", self.t_exp, 16).to_bytes(2, "big")
        out.append(_check("num_exp", self.num_exp, 8))
        out += _check("step_exp_us", self.step_exp_us, 32).to_bytes(4, "big")
        out.append(_check("rioc_freq", self.rioc_freq, 8))
        out.append(_check("num_win", self.num_win, 8))
        out += _pack_nibbles("binning", self.binning)
        for i in range(N_WINDOWS):
            out += _check(f"win_str[{i}]", self.win_str[i], 24).to_bytes(3, "big")
            out += _check(f"win_end[{i}]", self.win_end[i], 24).to_bytes(3, "big")
        out.append(_check("pe_test", self.pe_test, 8))
        out += _pack_nibbles("compr", self.compr)
        out.append(_check("tec_start", self.tec_start, 8))
        assert len(out) == PACKED_LEN
        return bytes(out)

    @classmethod
    def unpack(cls, b: bytes | bytearray | memoryview) -> ParameterTable:
        """Inverse of :meth:`pack`; ``b`` must be exactly 53 bytes."""
        b = bytes(b)
        if len(b) != PACKED_LEN:
            raise ValueError(f"packed parameter table must be {PACKED_LEN} bytes, got {len(b)}")
        win = [int.from_bytes(b[0x0C + 3 * k : 0x0F + 3 * k], "big") for k in range(12)]
        return cls(
            t_exp=int.from_bytes(b[0:2], "big"),
            num_exp=b[2],
            step_exp_us=int.from_bytes(b[3:7], "big"),
            rioc_freq=b[7],
            num_win=b[8],
            binning=_unpack_nibbles(b[9:12]),
            win_str=tuple(win[0::2]),
            win_end=tuple(win[1::2]),
            pe_test=b[0x30],
            compr=_unpack_nibbles(b[0x31:0x34]),
            tec_start=b[0x34],
        )

    def values(self) -> dict[str, int]:
        """Parameter name (manual/label spelling) -> raw value, in id order."""
        vals = [self.t_exp, self.num_exp, self.step_exp_us, self.rioc_freq, self.num_win]
        vals += list(self.binning)
        for s, e in zip(self.win_str, self.win_end, strict=True):
            vals += [s, e]
        vals += [self.pe_test, *self.compr, self.tec_start]
        return dict(zip(PARAMETER_NAMES, vals, strict=True))

    @classmethod
    def from_values(cls, values: dict[str, int]) -> ParameterTable:
        """Build from parameter names as in :data:`PARAMETER_NAMES` (missing ones are 0)."""
        unknown = set(values) - set(PARAMETER_IDS)
        if unknown:
            raise ValueError(f"unknown imaging parameters: {sorted(unknown)}")
        v = [int(values.get(name, 0)) for name in PARAMETER_NAMES]
        return cls(
            t_exp=v[0],
            num_exp=v[1],
            step_exp_us=v[2],
            rioc_freq=v[3],
            num_win=v[4],
            binning=tuple(v[5:11]),
            win_str=tuple(v[11:23:2]),
            win_end=tuple(v[12:23:2]),
            pe_test=v[23],
            compr=tuple(v[24:30]),
            tec_start=v[30],
        )

    def get(self, param_id: int) -> int:
        """Value of parameter ``param_id`` (0x00-0x1e)."""
        return self.values()[PARAMETER_NAMES[param_id]]

    def with_value(self, param_id: int, value: int) -> ParameterTable:
        """A copy with one parameter changed, as "set imaging parameter value" (0x06) does.

        Window parameters (0x0b-0x16) take the same 24-bit command word as the packed table.
        """
        if not 0 <= param_id < len(PARAMETER_NAMES):
            raise ValueError(f"imaging parameter id 0x{param_id:02x} not in 0x00..0x1e")
        vals = self.values()
        vals[PARAMETER_NAMES[param_id]] = value
        new = ParameterTable.from_values(vals)
        new.pack()  # raises ValueError if the value does not fit the parameter
        return new
