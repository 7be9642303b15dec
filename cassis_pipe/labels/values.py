"""Small text-to-value converters shared by the label readers (pure, never raise)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_NUM_RE = re.compile(rf"^\s*{_NUM}\s*$")
_LIST_RE = re.compile(rf"^\s*\(?\s*{_NUM}(?:\s*,\s*{_NUM})+\s*\)?\s*$")
_TIME_RE = re.compile(
    r"^\s*(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*Z?\s*$"
)


def number_or_list(s: str | None) -> float | tuple[float, ...] | str | None:
    """'1.5' -> 1.5, '(1, 2, 3)' or '1, 2, 3' -> (1.0, 2.0, 3.0); other text stays a string."""
    if s is None:
        return None
    s = s.strip()
    if not s:
        return None
    if _NUM_RE.match(s):
        return float(s)
    if _LIST_RE.match(s):
        return tuple(float(p) for p in s.strip("() \t").split(","))
    return s


def parse_utc(s: str | None) -> datetime | None:
    """ISO-like UTC time ('2016-11-26T22:50:27.381', optional 'Z') -> aware datetime, else None.

    Sub-microsecond digits are truncated.
    """
    if s is None:
        return None
    m = _TIME_RE.match(s)
    if m is None:
        return None
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    frac = (m.group(7) or "").ljust(6, "0")[:6]
    try:
        return datetime(y, mo, d, h, mi, sec, int(frac), tzinfo=UTC)
    except ValueError:
        return None


def iso_utc(t: datetime, digits: int = 3) -> str:
    """UTC datetime -> 'YYYY-MM-DDTHH:MM:SS.fff' (``digits`` fraction digits, truncated)."""
    base = t.strftime("%Y-%m-%dT%H:%M:%S")
    if digits <= 0:
        return base
    return f"{base}.{t.microsecond:06d}"[: len(base) + 1 + digits]
