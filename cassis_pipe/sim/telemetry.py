"""Telemetry the simulated instrument emits: SpW science frames, the TC sequence, HK frames.

Encoders are the project's (telemetry.science / tc / hk / paramtable); this module only decides
what goes in them. All times are on-board seconds (SCLK) encoded as CaSSIS time codes.
Rotation positions (motor command, science Position TLV, HK TSCP_*) are in millidegrees of the
COMMANDED angle: the true mechanism offset is never visible in telemetry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cassis_pipe.sim.config import SimConfig, WindowConfig
from cassis_pipe.telemetry.hk import encode_hk
from cassis_pipe.telemetry.paramtable import ParameterTable, window_word
from cassis_pipe.telemetry.science import ScienceFrame, encode_science_frame
from cassis_pipe.telemetry.tc import (
    encode_tc,
    move_motor_absolute,
    set_parameter_table,
    set_tm_rate,
    take_image,
)
from cassis_pipe.telemetry.timecode import encode_timecode

MOTOR_SPEED_DEG_S = 6.0      # rotation mechanism slew rate used for HK positions (deg/s)
READOUT_S = 0.004            # per-window read-out delay after the exposure end
PEHK_BYTES = bytes(64)       # PE housekeeping block: not simulated (zeros)
AUX_UID_BIT = 0x80000000     # unique ids of non-imaging commands: image UID with bit 31 set


def tcode(sclk_s: float) -> bytes:
    """8-byte CaSSIS time code of on-board seconds."""
    return encode_timecode(float(sclk_s))


def parameter_table(cfg: SimConfig, step_us: int) -> ParameterTable:
    """The commanded imaging parameter table as flown: 24-bit window words (2 x col, 2 x row);
    the end word holds the last column but the row AFTER the last row (flown data lengths show
    the commanded end row is exclusive, docs/icd.md)."""
    wins: list[WindowConfig] = list(cfg.imaging.windows)
    pad = 6 - len(wins)
    return ParameterTable(
        t_exp=cfg.imaging.t_exp_units, num_exp=cfg.imaging.num_exp, step_exp_us=step_us,
        rioc_freq=0, num_win=len(wins),
        binning=tuple(w.binning for w in wins) + (0,) * pad,
        win_str=tuple(window_word(w.col0, w.row0) for w in wins) + (0,) * pad,
        win_end=tuple(window_word(w.col1, w.row1 + 1) for w in wins) + (0,) * pad,
        pe_test=0, compr=tuple(w.comp_ratio_id for w in wins) + (0,) * pad, tec_start=0)


@dataclass(frozen=True)
class FrameId:
    """Identity of one science frame (for fault bookkeeping)."""

    uid: int
    sequence: int
    window: int
    offset: int
    length: int


def science_frames(stream: bytes, uid: int, sequence: int, window: int, ratio_id: int,
                   exposure_sclk: float, read_sclk: float, position_mdeg: int, max_data: int
                   ) -> list[tuple[FrameId, bytes]]:
    """Split one window's JPEG-LS stream into SpW science frames (<= ``max_data`` data bytes)."""
    out = []
    total = len(stream)
    for off in range(0, max(total, 1), max_data):
        part = stream[off:off + max_data]
        frame = ScienceFrame(
            timestamp=tcode(read_sclk), uid=uid, window=window, sequence=sequence & 0xFF,
            compression=ratio_id, total_length=total, offset=off, type=0, error=0,
            position_mdeg=position_mdeg, exposure_timestamp=tcode(exposure_sclk),
            pehk=PEHK_BYTES, data=part)
        out.append((FrameId(uid, sequence, window, off, len(part)), encode_science_frame(frame)))
    return out


def position_mdeg(angle_deg: float) -> int:
    """Motor position word (millidegrees, 0..359999) of an angle in degrees."""
    return int(round(angle_deg * 1000.0)) % 360000


@dataclass(frozen=True)
class Timeline:
    """Commanded events (on-board seconds): motor moves and image starts/ends."""

    moves: list[tuple[float, float, float]]      # (start time, from deg, to deg)
    images: list[tuple[int, float, float]]      # (uid, first exposure, last exposure end)
    t0: float
    t1: float


def make_timeline(angles: list[float], uids: list[int], starts: list[float], ends: list[float],
                  home_deg: float = 0.0) -> Timeline:
    """Motor slews ending 2 s before each image (never before the previous image has ended);
    HK span from 5 s before the first slew to 5 s after the last exposure."""
    moves = []
    cur = home_deg
    prev_end = None
    for a, s, e in zip(angles, starts, ends, strict=True):
        d = abs((a - cur + 180.0) % 360.0 - 180.0)
        dur = d / MOTOR_SPEED_DEG_S
        t_move = s - dur - 2.0 if prev_end is None else max(prev_end + 0.5, s - dur - 2.0)
        moves.append((t_move, cur, a))
        cur = a
        prev_end = e
    t0 = np.floor(moves[0][0] - 5.0)
    t1 = np.ceil(max(ends) + 5.0)
    return Timeline(moves, list(zip(uids, starts, ends, strict=True)), float(t0), float(t1))


def tc_bytes(cfg: SimConfig, table: ParameterTable, tl: Timeline) -> bytes:
    """MIL TC frames: set TM rate, set imaging parameter table, then per image a motor move
    (absolute, mdeg) and a take-image command, in time order."""
    ref = cfg.imaging.param_table_ref
    cmds = [set_tm_rate(AUX_UID_BIT | 0x40000000 | (tl.images[0][0] & 0x0FFFFFFF), 1),
            set_parameter_table(ref, table)]
    for (t_move, _, a), (uid, start, _) in zip(tl.moves, tl.images, strict=True):
        cmds.append(move_motor_absolute(AUX_UID_BIT | uid, position_mdeg(a),
                                        int.from_bytes(tcode(t_move), "big")))
        cmds.append(take_image(uid, int.from_bytes(tcode(start), "big"), ref))
    return b"".join(encode_tc(c) for c in cmds)


def motor_position(tl: Timeline, t: float) -> tuple[float, float, int]:
    """(actual, target, status) of the commanded mechanism at on-board time ``t``."""
    cur, target, status = tl.moves[0][1], tl.moves[0][1], 0
    for t_move, a0, a1 in tl.moves:
        if t < t_move:
            break
        delta = (a1 - a0 + 180.0) % 360.0 - 180.0
        dur = abs(delta) / MOTOR_SPEED_DEG_S
        target = a1
        if t < t_move + dur:
            cur, status = a0 + np.sign(delta) * MOTOR_SPEED_DEG_S * (t - t_move), 1
        else:
            cur, status = a1, 0
    return cur % 360.0, target % 360.0, status


def hk_bytes(tl: Timeline, seed: int) -> bytes:
    """HK frames at 1 sample/s (TM rate "normal"): types 0x00-0x03, 0x10, 0x11 every second and
    the imaging frame 0x20 while an image is being taken."""
    rng = np.random.Generator(np.random.PCG64([seed, 303]))
    out = []
    n = int(tl.t1 - tl.t0) + 1
    uptime0 = 86400
    for i in range(n):
        t = tl.t0 + i
        ts = tcode(t)
        act, tgt, stat = motor_position(tl, t)
        temps = {name: int(2700 + 30 * k + rng.integers(-2, 3)) for k, name in enumerate(
            ("PT_DPM", "PT_PE_2", "PT_PE_1", "PT_FPA_1", "PT_FPA_2", "PT_TEL_M1_1",
             "PT_TEL_M1_2", "PT_TEL_RB_1", "PT_TEL_RB_2", "PT_TEL_M2", "PT_TEL_FB",
             "PT_PCM_5V", "PT_PCM_PE", "PT_RCM", "PT_PCM_MOT", "PT_MOT_1", "PT_MOT_2"))}
        if stat:
            temps["PT_MOT_1"] += 15
            temps["PT_MOT_2"] += 15
        out.append(encode_hk(0x00, ts, temps))
        zones = {f"Z{z}_CALC_TEMP": 2730 + 10 * z + int(rng.integers(-1, 2)) for z in range(1, 6)}
        zones.update({f"Z{z}_MIN_TEMP": 2700 + 10 * z for z in range(1, 6)})
        zones.update({f"Z{z}_MAX_TEMP": 2760 + 10 * z for z in range(1, 6)})
        zones.update({"TSCP_ACTUAL_POS": position_mdeg(act), "TSCP_TARGET_POS": position_mdeg(tgt),
                      "TSCP_ROT_STAT": stat, "TSCP_ROT_SWHEALTH": 1, "FPGA_COMM_STAT": 1})
        out.append(encode_hk(0x01, ts, zones))
        power = {"U_3V3_PE": 3300 + int(rng.integers(-3, 4)), "U_8V5": 8500, "U_N8V5": 8500,
                 "U_25V": 25000, "24V_MOT_1": 24000 + (200 if stat else 0)}
        out.append(encode_hk(0x02, ts, power))
        out.append(encode_hk(0x03, ts, {"PE_HK_STAT": 1, "PE_HK_TEMP_FPA1": 2731,
                                         "PE_HK_TEMP_FPA2": 2728, "PE_HK_TEMP_PE": 2284,
                                         "PE_HK_33V": 3478}))
        out.append(encode_hk(0x10, ts, {"FSW_VERSION": 0x0102, "FSW_MODE": 1,
                                         "FSW_UPTIME": uptime0 + i}))
        last = [u for u, s, _ in tl.images if s <= t]
        out.append(encode_hk(0x11, ts, {"FSW_LAST_EXEC": last[-1] if last else 0,
                                         "FSW_CMEM_FREE": 100 - len(tl.images) + len(last)}))
        if any(s <= t <= e for _, s, e in tl.images):
            out.append(encode_hk(0x20, ts, power))
    return b"".join(out)
