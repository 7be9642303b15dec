"""Small synthetic observations for tests: TC stream + science frames built with the project's
encoders, following the level-0 conventions (docs/level0.md), with the true DN of every window.

No file I/O; deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cassis_pipe.codec.jpegls import encode
from cassis_pipe.codec.ratio import near_for_ratio_id
from cassis_pipe.level0.plan import add_microseconds, filter_for_window
from cassis_pipe.level0.pseudo import DEFAULT_RAW_RATIO_IDS, Key
from cassis_pipe.telemetry.paramtable import ParameterTable, window_word
from cassis_pipe.telemetry.science import ScienceFrame, encode_science_frame
from cassis_pipe.telemetry.tc import encode_tc, move_motor_absolute, set_parameter_table, take_image
from cassis_pipe.telemetry.timecode import encode_timecode

#: (start_row, end_row exclusive, start_col, end_col inclusive, binning code, ratio id):
#: PAN, RED, NIR (2x2 binned), BLU in their strips, two control windows; 32 columns wide.
SMALL_WINDOWS: tuple[tuple[int, int, int, int, int, int], ...] = (
    (354, 370, 0, 31, 0, 3),
    (712, 728, 0, 31, 0, 3),
    (1048, 1064, 0, 31, 1, 3),
    (1409, 1425, 0, 31, 0, 3),
    (200, 208, 640, 655, 0, 0),
    (1850, 1858, 1280, 1295, 0, 0),
)


def make_table(num_exp: int = 3, step_exp_us: int = 400_000, t_exp: int = 150,
               windows: tuple[tuple[int, int, int, int, int, int], ...] = SMALL_WINDOWS
               ) -> ParameterTable:
    """Parameter table with the given windows (end rows written exclusive, as flown)."""
    pad = 6 - len(windows)
    return ParameterTable(
        t_exp=t_exp, num_exp=num_exp, step_exp_us=step_exp_us, rioc_freq=0,
        num_win=len(windows),
        binning=tuple(w[4] for w in windows) + (0,) * pad,
        win_str=tuple(window_word(w[2], w[0]) for w in windows) + (0,) * pad,
        win_end=tuple(window_word(w[3], w[1]) for w in windows) + (0,) * pad,
        compr=tuple(w[5] for w in windows) + (0,) * pad)


def window_dn(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Smooth 14-bit scene plus noise, deterministic in ``seed``."""
    rng = np.random.Generator(np.random.PCG64(seed))
    r, c = np.mgrid[0 : shape[0], 0 : shape[1]]
    base = 3000 + 800 * np.sin(r / 3.0 + seed) + 500 * np.cos(c / 5.0)
    return np.clip(base + rng.normal(0, 40, shape), 0, 16383).astype(np.uint16)


@dataclass
class Observation:
    """A synthetic observation: ``tc`` bytes, science frames (key, data offset, wire bytes) in
    downlink order, and the true DN of every framelet."""

    tc: bytes
    table: ParameterTable
    uid: int
    frames: list[tuple[Key, int, bytes]] = field(default_factory=list)
    dn: dict[Key, np.ndarray] = field(default_factory=dict)

    @property
    def science(self) -> bytes:
        return b"".join(b for _, _, b in self.frames)


def build_observation(
    uid: int = 272536398,
    start_s: float = 100_000_000.0,
    table: ParameterTable | None = None,
    table_ref: int = 4,
    position_mdeg: int = 100228,
    max_frame_data: int = 256,
    raw_ratio_ids: frozenset[int] = DEFAULT_RAW_RATIO_IDS,
    seed: int = 0,
) -> Observation:
    """TC stream (table, absolute move, take-image) and its science frames, window data split
    into parts of at most ``max_frame_data`` bytes."""
    table = table or make_table()
    start = encode_timecode(start_s)
    cmds = [set_parameter_table(table_ref, table),
            move_motor_absolute(uid | 0x80000000, position_mdeg, encode_timecode(start_s - 60)),
            take_image(uid, start, table_ref)]
    obs = Observation(b"".join(encode_tc(c) for c in cmds), table, uid)
    for seq in range(table.num_exp):
        exp_tc = add_microseconds(start, seq * table.step_exp_us)
        for w in range(table.num_win):
            win = table.windows[w]
            shape = win.to_window(filter_for_window(win.start_row, win.end_row - 1),
                                  table.binning[w]).binned_shape
            dn = window_dn(shape, seed * 100_003 + seq * 101 + w)
            obs.dn[(uid, w, seq)] = dn
            ratio = table.compr[w]
            if ratio in raw_ratio_ids:
                payload = dn.astype(">u2").tobytes()
            else:
                payload = encode(dn, near=near_for_ratio_id(ratio), bits_per_sample=14)
            read = add_microseconds(exp_tc, 20_000 + 4_000 * w)
            for off in range(0, max(len(payload), 1), max_frame_data):
                part = payload[off : off + max_frame_data]
                frame = ScienceFrame(
                    timestamp=read, uid=uid, window=w, sequence=seq, compression=ratio,
                    total_length=len(payload), offset=off, type=0, error=0,
                    position_mdeg=position_mdeg, exposure_timestamp=exp_tc, pehk=bytes(64),
                    data=part)
                obs.frames.append(((uid, w, seq), off, encode_science_frame(frame)))
    return obs
