"""Routing rules of the ingest (pure): science by UID, TC commands to the observations they
command, HK by the time window of an observation.

TC history: the unique TC frames in history order (delivery slot, then byte offset). A command
whose UID (bit 31 ignored, as the observation id ignores it) is that of a take-image belongs to
that image's observation; any other command (no UID, or an auxiliary UID) belongs to the next
take-image after it in the history, or stays pending in the history while there is none yet.
Each observation's tc.bin holds its own commands plus the *context* it needs to replay its plan
(:func:`cassis_pipe.level0.plan.plan_from_tc`): the table definitions since the last
``set_parameter_table`` of its table reference and the last absolute motor move (with any
relative moves after it) before its take-image, when those belong to another observation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from cassis_pipe.labels.ids import observation_id_string
from cassis_pipe.level0.plan import plan_from_tc
from cassis_pipe.telemetry.tc import Command, decode_tc
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND, is_timecode

TABLE_COMMANDS = ("set_parameter_table", "create_parameter_table", "set_parameter_value")
MOVE_COMMANDS = ("move_motor_absolute", "move_motor_relative")
UID_MASK = 0x7FFFFFFF


def obs_of_uid(uid: int) -> str:
    """Observation id of a UID (bit 31 ignored)."""
    return observation_id_string(uid & UID_MASK)


@dataclass(slots=True)
class TcRouting:
    """Per history entry its observation (None = pending); per observation its entries (own
    and context, history order) and the context entries alone."""

    owner: list[str | None]
    files: dict[str, list[int]] = field(default_factory=dict)
    context: dict[str, list[int]] = field(default_factory=dict)


def _context(cmds: Sequence[Command], t: int) -> list[int]:
    """History indices the take-image at ``t`` needs to replay its table and rotation."""
    ref = int(cmds[t].params.get("table_ref", 0))  # type: ignore[arg-type]
    start = 0
    for i in range(t - 1, -1, -1):
        c = cmds[i]
        if c.name == "set_parameter_table" and int(c.params["table_ref"]) == ref:  # type: ignore[arg-type]
            start = i
            break
    out = [i for i in range(start, t) if cmds[i].name in TABLE_COMMANDS]
    for i in range(t - 1, -1, -1):
        if cmds[i].name == "move_motor_absolute":
            out += [j for j in range(i, t) if cmds[j].name in MOVE_COMMANDS]
            break
    return out


def route_tc(history: Sequence[bytes]) -> TcRouting:
    """Route every TC frame of the history (valid 64-byte frames, history order)."""
    cmds = [decode_tc(b) for b in history]
    takes = {i: obs_of_uid(int(c.uid or 0)) for i, c in enumerate(cmds) if c.name == "take_image"}
    by_uid = {int(cmds[i].uid or 0) & UID_MASK: o for i, o in takes.items()}
    owner: list[str | None] = [None] * len(cmds)
    nxt: str | None = None
    for i in range(len(cmds) - 1, -1, -1):
        if i in takes:
            nxt = takes[i]
        uid = cmds[i].uid
        own = by_uid.get(int(uid) & UID_MASK) if uid is not None else None
        owner[i] = own if own is not None else nxt
    rt = TcRouting(owner)
    for t, obs in takes.items():
        own = [i for i, o in enumerate(owner) if o == obs]
        ctx = [i for i in _context(cmds, t) if owner[i] != obs]
        rt.files[obs] = sorted(set(own) | set(ctx))
        rt.context[obs] = sorted(ctx)
    return rt


def hk_window(tc: bytes, uid: int, margin_s: float) -> tuple[int, int] | None:
    """(first, last) HK time in 2^-24 s ticks an observation's hk.bin covers: from ``margin_s``
    before its own first time-tagged command (motor move or take-image with its UID, bit 31
    ignored; context commands of other observations do not count) to ``margin_s`` after the
    end of its last exposure, widened to whole seconds. None when the plan has no exposures."""
    plan = plan_from_tc(tc)
    images = [im for im in plan.images if im.uid == uid and im.num_exp > 0]
    if not images or images[0].exposure_timecode(0) is None:
        return None
    im = images[0]
    starts = []
    for k in range(0, len(tc) - 63, 64):
        try:
            c = decode_tc(tc, k)
        except ValueError:
            continue
        ts = c.params.get("timestamp")
        if c.uid is None or c.uid & UID_MASK != uid & UID_MASK:
            continue
        if isinstance(ts, int) and is_timecode(ts.to_bytes(8, "big")):
            starts.append(ts)
    first = min(_ticks8(s) for s in starts)
    last_tc = im.exposure_timecode(im.num_exp - 1)
    last = _ticks8(int.from_bytes(last_tc, "big")) + round((im.exposure_time_s or 0.0)
                                                            * FINE_PER_SECOND)
    t0 = math.floor(first / FINE_PER_SECOND - margin_s)
    t1 = math.ceil(last / FINE_PER_SECOND + margin_s)
    return t0 * FINE_PER_SECOND, t1 * FINE_PER_SECOND


def _ticks8(value: int) -> int:
    """Ticks of an 8-byte time code held as an integer (P-field in the top byte)."""
    coarse = (value >> 24) & 0xFFFFFFFF
    return coarse * FINE_PER_SECOND + (value & 0xFFFFFF)
