"""CaSSIS 8-byte on-board time code and its conversion to ET/UTC through a SPICE SCLK kernel.

Layout (manual section 6, a CCSDS CUC segment): byte 0 is the P-field ``0x2f``, bytes 1-4 the
coarse time in seconds (unsigned, big-endian), bytes 5-7 the fine time in units of 2^-24 s.

The TGO SPICE clock (id -143) counts ticks of 1/65536 s, so the encoded SCLK of a time code is
``coarse * 65536 + fine / 256`` ticks; the fractional part of that tick count is kept and
handed to ``sct2e`` (which interpolates within a tick), so no precision is lost.
"""

from __future__ import annotations

import threading
from pathlib import Path

import spiceypy
from spiceypy.utils.exceptions import SpiceyError

from cassis_pipe.telemetry.errors import FrameError

#: SPICE kernels shipped with the package (cassis_pipe/data/kernels): TGO SCLK and NAIF LSK.
PACKAGED_KERNELS = Path(__file__).resolve().parents[1] / "data" / "kernels"
PACKAGED_SCLK = PACKAGED_KERNELS / "em16_tgo_step_20190823.tsc"
PACKAGED_LSK = PACKAGED_KERNELS / "naif0012.tls"

P_FIELD = 0x2F
TIMECODE_LENGTH = 8
FINE_PER_SECOND = 1 << 24
COARSE_LIMIT = 1 << 32
TGO_SCLK_ID = -143
SCLK_TICKS_PER_SECOND = 65536


class KernelError(RuntimeError):
    """A SPICE kernel is missing or unusable, or SPICE refused a time conversion."""


def pack_timecode(coarse: int, fine: int) -> bytes:
    """Time code bytes from ``coarse`` s (0..2^32-1) and ``fine`` 2^-24 s units (0..2^24-1)."""
    if not 0 <= coarse < COARSE_LIMIT:
        raise ValueError(f"coarse time {coarse} s outside 0..2^32-1")
    if not 0 <= fine < FINE_PER_SECOND:
        raise ValueError(f"fine time {fine} outside 0..2^24-1")
    return bytes((P_FIELD,)) + coarse.to_bytes(4, "big") + fine.to_bytes(3, "big")


def unpack_timecode(b: bytes | bytearray | memoryview, offset: int = 0) -> tuple[int, int]:
    """``(coarse seconds, fine 2^-24 s units)`` of the time code at ``b[offset:offset+8]``.

    Raises FrameError for a short buffer or a P-field other than 0x2f (``offset`` is reported).
    """
    mv = memoryview(b)
    if len(mv) - offset < TIMECODE_LENGTH:
        raise FrameError("truncated time code", offset)
    if mv[offset] != P_FIELD:
        raise FrameError(f"bad time code P-field 0x{mv[offset]:02x}", offset)
    coarse = int.from_bytes(mv[offset + 1 : offset + 5], "big")
    fine = int.from_bytes(mv[offset + 5 : offset + 8], "big")
    return coarse, fine


def encode_timecode(seconds: float) -> bytes:
    """Time code for on-board time ``seconds`` (rounded to the nearest 2^-24 s)."""
    if not 0.0 <= seconds < COARSE_LIMIT:
        raise ValueError(f"on-board time {seconds!r} s outside 0..2^32")
    coarse = int(seconds)
    fine = round((seconds - coarse) * FINE_PER_SECOND)
    if fine >= FINE_PER_SECOND:
        coarse, fine = coarse + 1, fine - FINE_PER_SECOND
    if coarse >= COARSE_LIMIT:
        raise ValueError(f"on-board time {seconds!r} s rounds past 2^32")
    return pack_timecode(coarse, fine)


def decode_timecode(b: bytes | bytearray | memoryview) -> float:
    """On-board time in s of an 8-byte time code (exact below 2^29 s, else within 2.5e-7 s)."""
    if len(b) != TIMECODE_LENGTH:
        raise FrameError(f"time code must be 8 bytes, got {len(b)}", 0)
    coarse, fine = unpack_timecode(b)
    return coarse + fine / FINE_PER_SECOND


def is_timecode(b: bytes | bytearray | memoryview) -> bool:
    """True if ``b`` is 8 bytes with the 0x2f P-field (e.g. False for all-zero dump stamps)."""
    return len(b) == TIMECODE_LENGTH and b[0] == P_FIELD


def timecode_to_ticks(b: bytes | bytearray | memoryview) -> float:
    """Encoded TGO SCLK (ticks of 1/65536 s, fractional part kept) of an 8-byte time code."""
    if len(b) != TIMECODE_LENGTH:
        raise FrameError(f"time code must be 8 bytes, got {len(b)}", 0)
    coarse, fine = unpack_timecode(b)
    return coarse * SCLK_TICKS_PER_SECOND + fine / (FINE_PER_SECOND // SCLK_TICKS_PER_SECOND)


# --- SPICE kernels -------------------------------------------------------------------------------

_LOCK = threading.RLock()
_ACTIVE: dict[str, str] = {}  # role ("sclk" / "lsk") -> path furnished last for that role


def _furnish(path: str | Path, role: str) -> None:
    """Make ``path`` the one kernel of ``role`` ("sclk"/"lsk") this module has loaded.

    Loaded once per process and kept while it stays the active kernel of its role; asking for
    another kernel of the same role unloads the previous one first, so a kernel lacking the
    needed variables fails loudly instead of silently using stale pool values.
    """
    resolved = Path(path).expanduser()
    if not resolved.is_file():
        raise KernelError(f"{role} kernel not found: {path}")
    key = str(resolved.resolve())
    previous = _ACTIVE.get(role)
    if previous == key and _still_loaded(key):
        return
    if previous is not None and previous != key:
        _unload(previous)
        del _ACTIVE[role]
    try:
        spiceypy.furnsh(key)
    except SpiceyError as exc:
        raise KernelError(f"cannot load {role} kernel {path}: {exc.short or exc}") from exc
    _ACTIVE[role] = key


def _still_loaded(key: str) -> bool:
    """False if someone else unloaded the kernel (e.g. ``kclear``) behind this module's back."""
    try:
        spiceypy.kinfo(key)
    except SpiceyError:
        return False
    return True


def _unload(key: str) -> None:
    try:
        spiceypy.unload(key)
    except SpiceyError:
        pass


def clear_kernel_cache() -> None:
    """Unload every kernel this module furnished (the next conversion loads them again)."""
    with _LOCK:
        for key in sorted(set(_ACTIVE.values())):
            _unload(key)
        _ACTIVE.clear()


def timecode_to_et(b: bytes | bytearray | memoryview, sclk: str | Path, lsk: str | Path) -> float:
    """Ephemeris time (TDB seconds past J2000) of a time code, through TGO SCLK kernel ``sclk``."""
    ticks = timecode_to_ticks(b)
    with _LOCK:
        _furnish(lsk, "lsk")
        _furnish(sclk, "sclk")
        try:
            return float(spiceypy.sct2e(TGO_SCLK_ID, ticks))
        except SpiceyError as exc:
            raise KernelError(f"SCLK conversion failed: {exc.short or exc}") from exc


def timecode_to_utc(b: bytes | bytearray | memoryview, sclk: str | Path, lsk: str | Path) -> str:
    """UTC (ISO 8601, millisecond precision, e.g. ``2016-11-26T22:32:14.582``) of a time code."""
    et = timecode_to_et(b, sclk, lsk)
    with _LOCK:
        try:
            return str(spiceypy.et2utc(et, "ISOC", 3))
        except SpiceyError as exc:
            raise KernelError(f"UTC conversion failed: {exc.short or exc}") from exc


def parse_hex_timecode(text: str) -> bytes:
    """Time code bytes from a 16-digit hex string (optional ``0x`` prefix, spaces ignored)."""
    s = text.strip().replace(" ", "").lower()
    s = s.removeprefix("0x")
    try:
        raw = bytes.fromhex(s)
    except ValueError as exc:
        raise FrameError(f"time code is not hex: {text!r}", 0) from exc
    if len(raw) != TIMECODE_LENGTH:
        raise FrameError(f"time code must be 8 bytes, got {len(raw)}", 0)
    unpack_timecode(raw)
    return raw
