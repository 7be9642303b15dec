"""SPK type 13 and CK type 3 segments as DAF arrays (pure Python; layouts from NAIF's SPK and CK
required reading), for writing simulated kernels without the SPICE toolkit.

SPK type 13 (Hermite interpolation, unequal steps): N states (x, y, z, vx, vy, vz; km, km/s),
N epochs (ET s), every 100th epoch as a directory, window size - 1, N. Summary: ET start/end;
target, centre, frame, type 13.

CK type 3 (linear interpolation of rotation within intervals): N records of a quaternion
``[w, x, y, z]`` of the C-matrix (reference -> instrument, SPICE ``m2q``) and, when rates are
present, angular velocity (rad/s); N encoded-SCLK times; every 100th time as a directory;
interval start times and their directory; number of intervals; N. Summary: SCLK start/end;
instrument, reference frame, type 3, rates flag.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .daf import DafArray, DafError, DafFile


def _directory(values: np.ndarray) -> np.ndarray:
    """Every 100th value (the DAF epoch / time directory); empty below 101 values."""
    return values[99:-1:100] if len(values) > 100 else values[:0]


def spk13_array(target: int, center: int, frame: int, epochs: np.ndarray, states: np.ndarray,
                degree: int = 3, name: str = "") -> DafArray:
    """An SPK type 13 segment: states (N, 6) km, km/s at strictly increasing ``epochs`` (ET s),
    Hermite interpolation of odd ``degree`` (window (degree + 1) / 2 states)."""
    t = np.asarray(epochs, dtype=np.float64).reshape(-1)
    s = np.asarray(states, dtype=np.float64).reshape(-1, 6)
    window = (degree + 1) // 2
    if degree % 2 == 0 or not 1 <= degree <= 27:
        raise DafError(f"SPK type 13 degree must be odd in 1..27, got {degree}")
    if len(t) != len(s) or len(t) < window or np.any(np.diff(t) <= 0):
        raise DafError("SPK type 13 needs increasing epochs, one state each, at least a window")
    data = np.concatenate([s.reshape(-1), t, _directory(t), [window - 1, len(t)]])
    return DafArray(name, (float(t[0]), float(t[-1])), (target, center, frame, 13), data)


def ck3_array(inst: int, ref: int, sclk: np.ndarray, quats: np.ndarray,
              rates: np.ndarray | None = None, starts: Sequence[float] | None = None,
              name: str = "") -> DafArray:
    """A CK type 3 segment: quaternions (N, 4) ``[w, x, y, z]`` at increasing encoded-SCLK
    ``sclk`` ticks, optional angular velocities (N, 3) rad/s, interpolation intervals starting at
    ``starts`` (default one interval over the whole segment)."""
    t = np.asarray(sclk, dtype=np.float64).reshape(-1)
    q = np.asarray(quats, dtype=np.float64).reshape(-1, 4)
    if len(t) != len(q) or len(t) == 0 or np.any(np.diff(t) <= 0):
        raise DafError("CK type 3 needs increasing SCLK times, one quaternion each")
    recs = q if rates is None else np.hstack([q, np.asarray(rates, float).reshape(-1, 3)])
    if len(recs) != len(t):
        raise DafError("CK type 3: one angular velocity per quaternion")
    st = np.asarray([t[0]] if starts is None else starts, dtype=np.float64)
    if len(st) == 0 or st[0] != t[0] or np.any(np.diff(st) <= 0) or not np.isin(st, t).all():
        raise DafError("CK type 3 interval starts must be increasing record times from the first")
    data = np.concatenate([recs.reshape(-1), t, _directory(t), st, _directory(st),
                           [len(st), len(t)]])
    return DafArray(name, (float(t[0]), float(t[-1])),
                    (inst, ref, 3, 0 if rates is None else 1), data)


def spk_file(arrays: list[DafArray], ifname: str, comments: list[str] | None = None) -> DafFile:
    """An SPK (``DAF/SPK``, ND=2, NI=6) holding ``arrays``."""
    return DafFile("DAF/SPK ", 2, 6, ifname, list(arrays), list(comments or []))


def ck_file(arrays: list[DafArray], ifname: str, comments: list[str] | None = None) -> DafFile:
    """A CK (``DAF/CK``, ND=2, NI=6) holding ``arrays``."""
    return DafFile("DAF/CK  ", 2, 6, ifname, list(arrays), list(comments or []))
