"""Command plan: the imaging sequence commanded by a TC stream (tc.bin).

The TC stream is replayed in file order as a small state machine: parameter tables (set whole,
created from a source, or changed one value at a time), absolute motor moves, and take-image
commands. Each take-image becomes an :class:`ImagingPlan` holding everything a pseudo packet
needs: UID, table, exposures and their time codes, windows (filter, size, binning, compression
ratio id) and the commanded rotation position.

Conventions (docs/level0.md): window counter = table window index - 1 (0-based, as flown);
exposure k (0-based sequence counter) starts at ``start + k * Step_exp``; a window reads
``end_row - start_row`` detector rows (commanded end row exclusive) and
``end_col - start_col + 1`` columns (inclusive), as the flown uncompressed data lengths show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cassis_pipe.instrument.constants import BINNING_CODES, CONTROL
from cassis_pipe.labels.bern import FrameletLabel, window_words
from cassis_pipe.telemetry.errors import Reject
from cassis_pipe.telemetry.paramtable import CommandedWindow, ParameterTable
from cassis_pipe.telemetry.tc import Command, read_tc_stream
from cassis_pipe.telemetry.timecode import (
    FINE_PER_SECOND,
    is_timecode,
    pack_timecode,
    unpack_timecode,
)

#: Filter strips on the detector, 0-based inclusive rows (flown PEHK windows and the IK; BLU
#: spans the IK's 1389 and the flown 1409 starts).
FILTER_STRIPS: tuple[tuple[str, int, int], ...] = (
    ("PAN", 354, 633),
    ("RED", 712, 967),
    ("NIR", 1048, 1303),
    ("BLU", 1389, 1664),
)
MAX_WINDOWS = 6


def filter_for_window(start_row: int, end_row: int) -> str:
    """Filter whose strip contains the window's centre row, else :data:`CONTROL`."""
    centre = (start_row + end_row) / 2.0
    for name, lo, hi in FILTER_STRIPS:
        if lo <= centre <= hi:
            return name
    return CONTROL


def add_microseconds(timecode: bytes, micros: int) -> bytes:
    """Time code ``micros`` microseconds later, rounded to the nearest 2^-24 s (ties up)."""
    coarse, fine = unpack_timecode(timecode)
    ticks = coarse * FINE_PER_SECOND + fine
    ticks += (2 * micros * FINE_PER_SECOND + 1_000_000) // 2_000_000
    return pack_timecode(ticks // FINE_PER_SECOND, ticks % FINE_PER_SECOND)


@dataclass(frozen=True, slots=True)
class WindowPlan:
    """One commanded window. ``rows``/``cols`` are detector pixels read (before binning)."""

    counter: int
    filter: str
    window: CommandedWindow
    binning: int
    compression: int
    rows: int
    cols: int

    @property
    def bin_factor(self) -> int:
        """Pixels binned per side (1, 2, 4, 8); unknown codes count as 1 (reported by the plan)."""
        return BINNING_CODES.get(self.binning, 1)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) of the full binned rows of the level-0 framelet."""
        f = self.bin_factor
        return self.rows // f, self.cols // f

    @property
    def n_pixels(self) -> int:
        """Pixel values the PE delivers: rows x cols / f^2 (flown NIR: 2048 x 255 / 4)."""
        f = self.bin_factor
        return self.rows * self.cols // (f * f)

    @property
    def raw_bytes(self) -> int:
        """Bytes of the window data when sent uncompressed (2 bytes per pixel)."""
        return 2 * self.n_pixels

    def as_dict(self) -> dict[str, Any]:
        return {
            "counter": self.counter,
            "filter": self.filter,
            "window": self.window._asdict(),
            "binning": self.binning,
            "compression": self.compression,
            "rows": self.rows,
            "cols": self.cols,
            "shape": list(self.shape),
            "raw_bytes": self.raw_bytes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WindowPlan:
        """Inverse of :meth:`as_dict` (derived fields are recomputed, not read)."""
        return cls(int(d["counter"]), str(d["filter"]), CommandedWindow(**d["window"]),
                   int(d["binning"]), int(d["compression"]), int(d["rows"]), int(d["cols"]))


@dataclass(frozen=True, slots=True)
class ImagingPlan:
    """What one take-image command should produce. ``table`` is None if it is unknown."""

    index: int
    uid: int
    start_timecode: bytes
    table_ref: int
    table: ParameterTable | None
    windows: tuple[WindowPlan, ...]
    position_mdeg: int | None
    tc_offset: int | None = None
    move_tc_offset: int | None = None
    issues: tuple[str, ...] = ()

    @property
    def num_exp(self) -> int:
        return self.table.num_exp if self.table is not None else 0

    @property
    def step_exp_us(self) -> int:
        return self.table.step_exp_us if self.table is not None else 0

    @property
    def exposure_time_s(self) -> float | None:
        """Commanded exposure (integration) time in seconds, T_exp x 9.6 us."""
        return self.table.exposure_time_s if self.table is not None else None

    def exposure_timecode(self, sequence: int) -> bytes | None:
        """Time code of exposure ``sequence`` (0-based): start + sequence x Step_exp; None when
        the commanded start is not a CaSSIS time code (e.g. 0, as the flown labels print it)."""
        if not is_timecode(self.start_timecode):
            return None
        return add_microseconds(self.start_timecode, sequence * self.step_exp_us)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "uid": self.uid,
            "start_timecode": self.start_timecode.hex(),
            "table_ref": self.table_ref,
            "table": self.table.values() if self.table is not None else None,
            "num_exp": self.num_exp,
            "step_exp_us": self.step_exp_us,
            "exposure_time_s": self.exposure_time_s,
            "position_mdeg": self.position_mdeg,
            "tc_offset": self.tc_offset,
            "move_tc_offset": self.move_tc_offset,
            "windows": [w.as_dict() for w in self.windows],
            "issues": list(self.issues),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ImagingPlan:
        """Inverse of :meth:`as_dict`."""
        table = None if d["table"] is None else ParameterTable.from_values(d["table"])
        return cls(int(d["index"]), int(d["uid"]), bytes.fromhex(d["start_timecode"]),
                   int(d["table_ref"]), table,
                   tuple(WindowPlan.from_dict(w) for w in d["windows"]), d["position_mdeg"],
                   d["tc_offset"], d["move_tc_offset"], tuple(d["issues"]))


@dataclass(slots=True)
class CommandPlan:
    """The whole commanded sequence of a TC stream."""

    images: list[ImagingPlan] = field(default_factory=list)
    tables: dict[int, ParameterTable | None] = field(default_factory=dict)
    moves: list[dict[str, Any]] = field(default_factory=list)
    other: list[dict[str, Any]] = field(default_factory=list)  # test images, dumps
    tc_rejects: list[Reject] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    n_commands: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "n_commands": self.n_commands,
            "images": [im.as_dict() for im in self.images],
            "tables": {str(k): (v.values() if v is not None else None)
                       for k, v in sorted(self.tables.items())},
            "moves": self.moves,
            "other": self.other,
            "tc_rejects": [r.as_dict() for r in self.tc_rejects],
            "issues": list(self.issues),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CommandPlan:
        """Inverse of :meth:`as_dict`: the plan as the validate stage wrote it (``plan.json``),
        so that later stages do not parse tc.bin again. Raises KeyError/ValueError/TypeError
        on a malformed dict."""
        return cls(
            images=[ImagingPlan.from_dict(im) for im in d["images"]],
            tables={int(k): (None if v is None else ParameterTable.from_values(v))
                    for k, v in d["tables"].items()},
            moves=list(d["moves"]), other=list(d["other"]),
            tc_rejects=[Reject(int(r["offset"]), int(r["length"]), str(r["reason"]))
                        for r in d["tc_rejects"]],
            issues=list(d["issues"]), n_commands=int(d["n_commands"]))


def table_from_label(label: FrameletLabel) -> ParameterTable:
    """The commanded parameter table printed in a Bern header's IMAGE_COMMAND block."""
    ic = label.image_command
    words = window_words(label)
    vals = {k: int(ic[k]) for k in ("T_exp", "Num_exp", "Step_exp", "RIOC_Freq", "Num_win",
                                    "PE_test", "TEC_start")}
    for i in range(1, MAX_WINDOWS + 1):
        vals[f"Bin_win{i}"] = int(ic[f"Bin_win{i}"])
        vals[f"Win{i}_CompR"] = int(ic[f"Win{i}_CompR"])
        vals[f"Win{i}_str"], vals[f"Win{i}_end"] = words[i - 1]
    return ParameterTable.from_values(vals)


def window_plans(table: ParameterTable) -> tuple[tuple[WindowPlan, ...], list[str]]:
    """The ``Num_win`` used windows of a table, and any problem found with them."""
    issues: list[str] = []
    n = table.num_win
    if n > MAX_WINDOWS:
        issues.append(f"Num_win {n} > {MAX_WINDOWS}: only {MAX_WINDOWS} windows planned")
        n = MAX_WINDOWS
    out = []
    for i in range(n):
        w = table.windows[i]
        rows, cols = w.rows, w.cols
        if rows == 0 or cols == 0:
            issues.append(f"window {i} is empty: {w}")
        if table.binning[i] not in BINNING_CODES:
            issues.append(f"window {i}: unknown binning code {table.binning[i]}")
        out.append(WindowPlan(i, filter_for_window(w.start_row, max(w.end_row - 1, w.start_row)),
                              w, table.binning[i], table.compr[i], rows, cols))
    return tuple(out), issues


class _Replay:
    """State machine over the commands in stream order."""

    def __init__(self, initial_position_mdeg: int | None) -> None:
        self.plan = CommandPlan()
        self.position = initial_position_mdeg
        self.move_offset: int | None = None

    def _base(self, source_ref: int, target: int) -> ParameterTable | None:
        if source_ref in self.plan.tables:
            return self.plan.tables[source_ref]
        self.plan.issues.append(f"table {target} created from table {source_ref}, which is "
                                "unknown (default table contents are not known)")
        return None

    def apply(self, cmd: Command, offset: int | None) -> None:
        p, tables = cmd.params, self.plan.tables
        if cmd.name == "set_parameter_table":
            tables[int(p["table_ref"])] = ParameterTable.unpack(p["table"])  # type: ignore[arg-type]
        elif cmd.name == "create_parameter_table":
            ref = int(p["table_ref"])  # type: ignore[arg-type]
            tables[ref] = self._base(int(p["source_ref"]), ref)  # type: ignore[arg-type]
        elif cmd.name == "set_parameter_value":
            ref = int(p["table_ref"])  # type: ignore[arg-type]
            base = tables[ref] if ref in tables else self._base(int(p["source_ref"]), ref)  # type: ignore[arg-type]
            if base is not None:
                try:
                    base = base.with_value(int(p["param_id"]), int(p["value"]))  # type: ignore[arg-type]
                except ValueError as exc:
                    self.plan.issues.append(f"TC at byte {offset}: {exc}")
            tables[ref] = base
        elif cmd.name == "move_motor_absolute":
            self.position = int(p["position"])  # type: ignore[arg-type]
            self.move_offset = offset
            self.plan.moves.append({"uid": cmd.uid, "position_mdeg": self.position,
                                    "timestamp": f"{int(p['timestamp']):016x}",  # type: ignore[arg-type]
                                    "tc_offset": offset})
        elif cmd.name == "move_motor_relative":
            self.position, self.move_offset = None, offset
            self.plan.moves.append({"uid": cmd.uid, "relative": True, "tc_offset": offset})
            self.plan.issues.append(f"relative motor move at byte {offset}: rotation position "
                                    "not predicted until the next absolute move")
        elif cmd.name == "take_image":
            self._take_image(cmd, offset)
        elif cmd.name in ("take_test_image", "dump"):
            self.plan.other.append({"name": cmd.name, "uid": cmd.uid, "tc_offset": offset})

    def _take_image(self, cmd: Command, offset: int | None) -> None:
        ref = int(cmd.params["table_ref"])  # type: ignore[arg-type]
        start = int(cmd.params["timestamp"]).to_bytes(8, "big")  # type: ignore[arg-type]
        table = self.plan.tables.get(ref)
        issues: list[str] = []
        windows: tuple[WindowPlan, ...] = ()
        if table is None:
            issues.append(f"parameter table {ref} unknown: no exposures predicted")
        else:
            windows, issues = window_plans(table)
            if table.num_exp == 0:
                issues.append("Num_exp is 0")
        if not is_timecode(start):
            issues.append("start time stamp is not a CaSSIS time code: exposure times not "
                          "predicted")
        uid = int(cmd.uid or 0)
        if any(im.uid == uid for im in self.plan.images):
            issues.append(f"UID {uid} used by an earlier take-image")
        self.plan.images.append(ImagingPlan(
            len(self.plan.images), uid, start, ref, table, windows, self.position, offset,
            self.move_offset, tuple(issues)))


def build_plan(
    commands: Sequence[Command],
    offsets: Sequence[int] | None = None,
    rejects: Sequence[Reject] = (),
    initial_position_mdeg: int | None = None,
) -> CommandPlan:
    """Replay ``commands`` (stream order; ``offsets`` = their byte offsets in tc.bin).

    ``initial_position_mdeg`` is the rotation position before the first absolute move (None:
    unknown, so images taken before any move get no predicted position).
    """
    replay = _Replay(initial_position_mdeg)
    offs = list(offsets) if offsets is not None else [None] * len(commands)
    for cmd, off in zip(commands, offs, strict=True):
        replay.apply(cmd, off)
    plan = replay.plan
    plan.n_commands = len(commands)
    plan.tc_rejects = list(rejects)
    return plan


def plan_from_tc(data: bytes | bytearray | memoryview,
                 initial_position_mdeg: int | None = None) -> CommandPlan:
    """Read a TC stream (concatenated 64-byte frames) and build its plan; TC rejects are kept."""
    res = read_tc_stream(data)
    return build_plan(res.frames, res.offsets, res.rejects, initial_position_mdeg)


def plan_from_files(tc_path: str | Path, initial_position_mdeg: int | None = None) -> CommandPlan:
    """:func:`plan_from_tc` of a file."""
    return plan_from_tc(Path(tc_path).read_bytes(), initial_position_mdeg)
