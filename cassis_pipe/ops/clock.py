"""UTC <-> CaSSIS on-board time (OBT, s) through the TGO SCLK kernel, for the HK tools.

Kernels are loaded through :mod:`cassis_pipe.telemetry.timecode` (one SCLK and one LSK per
process). UTC days are the HK database's day unit: a day's bounds in OBT are converted once
and cached. Unix seconds (for the web page's time axis) are derived from UTC strings, so leap
seconds follow the LSK.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import spiceypy
from spiceypy.utils.exceptions import SpiceyError

from cassis_pipe.ops.hkframes import HkDbError
from cassis_pipe.telemetry import timecode as tcmod

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class Clock:
    """Conversions with one SCLK/LSK kernel pair (paths)."""

    def __init__(self, sclk: str | Path, lsk: str | Path) -> None:
        self.sclk, self.lsk = str(sclk), str(lsk)
        self._day_obt = lru_cache(maxsize=4096)(self._day_start_obt)

    def _load(self) -> None:
        # furnishes both kernels (cached by timecode) with a harmless conversion
        tcmod.timecode_to_et(tcmod.encode_timecode(1.0), self.sclk, self.lsk)

    def obt_to_utc(self, obt: float, places: int = 3) -> str:
        """ISO UTC (``places`` decimals) of on-board time ``obt`` s."""
        code = tcmod.encode_timecode(min(max(float(obt), 0.0), 2.0**32 - 1))
        et = tcmod.timecode_to_et(code, self.sclk, self.lsk)
        with tcmod._LOCK:
            return str(spiceypy.et2utc(et, "ISOC", places))

    def utc_to_obt(self, utc: str) -> float:
        """On-board time (s) of a UTC string (ISO 8601, e.g. ``2019-05-15T07:18:54.5``)."""
        self._load()
        with tcmod._LOCK:
            try:
                et = spiceypy.str2et(utc)
                ticks = spiceypy.sce2c(tcmod.TGO_SCLK_ID, et)
            except SpiceyError as exc:
                raise HkDbError(f"cannot convert UTC {utc[:40]!r}: {exc.short or exc}") from exc
        return float(ticks) / tcmod.SCLK_TICKS_PER_SECOND

    def obt_to_unix(self, obt: float) -> float:
        """Unix seconds (UTC) of on-board time ``obt`` s (millisecond precision)."""
        return utc_to_unix(self.obt_to_utc(obt))

    def day_of(self, obt: float) -> str:
        """UTC date ``YYYY-MM-DD`` of on-board time ``obt``."""
        return self.obt_to_utc(obt)[:10]

    def _day_start_obt(self, day: str) -> float:
        return self.utc_to_obt(f"{day}T00:00:00")

    def day_bounds(self, day: str) -> tuple[float, float]:
        """OBT (s) of the start of UTC day ``day`` and of the next day."""
        nxt = (dt.date.fromisoformat(day) + dt.timedelta(days=1)).isoformat()
        return self._day_obt(day), self._day_obt(nxt)

    def days_between(self, obt0: float, obt1: float) -> list[str]:
        """Every UTC day touched by on-board times ``obt0`` .. ``obt1``."""
        d0 = dt.date.fromisoformat(self.day_of(obt0))
        d1 = dt.date.fromisoformat(self.day_of(obt1))
        return [(d0 + dt.timedelta(days=k)).isoformat() for k in range((d1 - d0).days + 1)]


def utc_to_unix(utc: str) -> float:
    """Unix seconds of an ISO UTC string without zone (``2019-05-15T07:18:54.465``)."""
    t = dt.datetime.fromisoformat(utc).replace(tzinfo=dt.UTC)
    return (t - _EPOCH).total_seconds()


def parse_time(text: str, clock: Clock) -> float:
    """On-board time (s) of a CLI/URL time: ``obt:SECONDS`` or an ISO UTC date/time.

    Raises HkDbError for anything else (the text is never passed to SQL).
    """
    s = text.strip()
    if s.lower().startswith("obt:"):
        try:
            v = float(s[4:])
        except ValueError:
            raise HkDbError(f"bad on-board time {s[:40]!r}") from None
        if not 0.0 <= v < 2.0**32:
            raise HkDbError(f"on-board time {s[:40]!r} outside 0..2^32 s")
        return v
    try:
        t = dt.datetime.fromisoformat(s)
    except ValueError:
        raise HkDbError(f"bad time {s[:40]!r}: use ISO UTC (2019-05-15T07:18:54) or "
                        "obt:SECONDS") from None
    if t.tzinfo is not None:
        t = t.astimezone(dt.UTC).replace(tzinfo=None)
    return clock.utc_to_obt(t.isoformat(timespec="microseconds"))
