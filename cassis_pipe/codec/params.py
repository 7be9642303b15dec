"""JPEG-LS coding parameters (ITU-T T.87 clauses A.2, C.2.4.1): defaults and derived values."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import JpegLsError

#: Run-length order table J[0..31] (T.87 A.7.1.2).
J_TABLE = np.array(
    [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3,
     4, 4, 5, 5, 6, 6, 7, 7, 8, 9, 10, 11, 12, 13, 14, 15],
    dtype=np.int64,
)

DEFAULT_RESET = 64
_BASIC_T1, _BASIC_T2, _BASIC_T3 = 3, 7, 21


def _clamp(i: int, j: int, maxval: int) -> int:
    return j if (i > maxval or i < j) else i


def default_thresholds(maxval: int, near: int) -> tuple[int, int, int]:
    """Default gradient thresholds (T1, T2, T3) for a sample range 0..maxval (T.87 C.2.4.1.1.1)."""
    if maxval >= 128:
        factor = (min(maxval, 4095) + 128) // 256
        t1 = _clamp(factor * (_BASIC_T1 - 2) + 2 + 3 * near, near + 1, maxval)
        t2 = _clamp(factor * (_BASIC_T2 - 3) + 3 + 5 * near, t1, maxval)
        t3 = _clamp(factor * (_BASIC_T3 - 4) + 4 + 7 * near, t2, maxval)
    else:
        factor = 256 // (maxval + 1)
        t1 = _clamp(max(2, _BASIC_T1 // factor + 3 * near), near + 1, maxval)
        t2 = _clamp(max(3, _BASIC_T2 // factor + 5 * near), t1, maxval)
        t3 = _clamp(max(4, _BASIC_T3 // factor + 7 * near), t2, maxval)
    return t1, t2, t3


@dataclass(frozen=True)
class ScanParams:
    """Everything the scan coder needs. Sample values are integers 0..maxval (DN)."""

    width: int
    height: int
    bits: int
    maxval: int
    near: int
    t1: int
    t2: int
    t3: int
    reset: int
    restart_interval: int = 0

    @property
    def n_intervals(self) -> int:
        """Number of restart intervals (1 when restart markers are not used)."""
        if self.restart_interval <= 0:
            return 1
        return -(-self.height // self.restart_interval)

    def as_array(self) -> np.ndarray:
        """Packed int64 vector handed to the numba kernels (see ``kernel_params``)."""
        return np.array(
            [self.width, self.height, self.maxval, self.near, self.t1, self.t2, self.t3,
             self.reset, self.restart_interval if self.restart_interval > 0 else self.height],
            dtype=np.int64,
        )


def resolve_params(
    width: int,
    height: int,
    bits: int,
    near: int,
    maxval: int = 0,
    t1: int = 0,
    t2: int = 0,
    t3: int = 0,
    reset: int = 0,
    restart_interval: int = 0,
    offset: int = -1,
) -> ScanParams:
    """Apply defaults (0 = default, as in an LSE segment) and validate against T.87 C.2.4.1.1."""
    if not 2 <= bits <= 16:
        raise JpegLsError(f"unsupported bits per sample {bits} (2..16)", offset)
    if width < 1 or height < 1:
        raise JpegLsError(f"invalid image size {width}x{height}", offset)
    full = (1 << bits) - 1
    mx = maxval if maxval else full
    if not 1 <= mx <= full:
        raise JpegLsError(f"MAXVAL {mx} outside 1..{full}", offset)
    if not 0 <= near <= min(255, mx // 2):
        raise JpegLsError(f"NEAR {near} outside 0..{min(255, mx // 2)}", offset)
    d1, d2, d3 = default_thresholds(mx, near)
    t1 = t1 or d1
    t2 = t2 or d2
    t3 = t3 or d3
    if not (near + 1 <= t1 <= mx and t1 <= t2 <= mx and t2 <= t3 <= mx):
        raise JpegLsError(f"invalid thresholds T1={t1} T2={t2} T3={t3}", offset)
    rs = reset or DEFAULT_RESET
    if not 3 <= rs <= max(255, mx):
        raise JpegLsError(f"RESET {rs} outside 3..{max(255, mx)}", offset)
    if restart_interval < 0:
        raise JpegLsError("negative restart interval", offset)
    return ScanParams(width, height, bits, mx, near, t1, t2, t3, rs, restart_interval)
