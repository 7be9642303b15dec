"""Minimal, robust reader for SPICE text kernels (IK, IAK, FK, LSK, SCLK, PCK).

Only the ``\\begindata`` blocks are read. Supported: ``NAME = value``, ``NAME += value``,
parenthesised lists spanning lines, numbers with ``E``/``D`` exponents, quoted strings with
``''`` escapes, and ``@`` calendar dates (converted like SPICE to seconds past J2000 with no
leap seconds). Malformed data raises :class:`TextKernelError` with the character offset.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

Value = float | int | str
KernelPool = dict[str, list[Value]]

_J2000 = datetime(2000, 1, 1, 12, 0, 0)
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])}
_DATE_RE = re.compile(
    r"^@(\d{4})-(\w{3}|\d{1,2})-(\d{1,2})(?:[/T-](\d{1,2}):(\d{1,2})(?::(\d{1,2}(?:\.\d*)?))?)?$",
    re.IGNORECASE)
_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$")


class TextKernelError(ValueError):
    """Malformed text kernel; ``offset`` is the character offset in the file text."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} at offset {offset}")
        self.reason = reason
        self.offset = offset


def _date_seconds(token: str, offset: int) -> float:
    m = _DATE_RE.match(token)
    if not m:
        raise TextKernelError(f"unsupported @date {token!r}", offset)
    year, mon, day, hh, mm, ss = m.groups()
    month = _MONTHS.get(mon.upper()) if not mon.isdigit() else int(mon)
    if month is None:
        raise TextKernelError(f"bad month in {token!r}", offset)
    sec = float(ss) if ss else 0.0
    try:
        dt = datetime(int(year), month, int(day), int(hh or 0), int(mm or 0))
    except ValueError as exc:
        raise TextKernelError(f"bad date {token!r}: {exc}", offset) from None
    return (dt - _J2000).total_seconds() + sec


def _convert(token: str, offset: int) -> Value:
    if token.startswith("@"):
        return _date_seconds(token, offset)
    if _INT_RE.match(token):
        return int(token)
    if _FLOAT_RE.match(token):
        return float(token.replace("D", "E").replace("d", "e"))
    raise TextKernelError(f"bad value token {token!r}", offset)


def _data_blocks(text: str) -> list[tuple[int, str]]:
    """(offset, text) of every data block."""
    blocks: list[tuple[int, str]] = []
    in_data = False
    start = 0
    pos = 0
    for line in text.splitlines(keepends=True):
        marker = line.strip()
        if marker == "\\begindata":
            if not in_data:
                in_data = True
                start = pos + len(line)
        elif marker == "\\begintext":
            if in_data:
                blocks.append((start, text[start:pos]))
                in_data = False
        pos += len(line)
    if in_data:
        blocks.append((start, text[start:pos]))
    return blocks


class _Scanner:
    def __init__(self, text: str, base: int) -> None:
        self.s = text
        self.i = 0
        self.base = base

    def off(self) -> int:
        return self.base + self.i

    def skip(self, commas: bool = False) -> None:
        s = self.s
        while self.i < len(s) and (s[self.i].isspace() or (commas and s[self.i] == ",")):
            self.i += 1

    def eof(self) -> bool:
        self.skip()
        return self.i >= len(self.s)

    def name(self) -> str:
        s, j = self.s, self.i
        while j < len(s) and not s[j].isspace() and s[j] != "=":
            if s[j] == "+" and j + 1 < len(s) and s[j + 1] == "=":
                break
            j += 1
        if j == self.i:
            raise TextKernelError("expected a variable name", self.off())
        name = s[self.i:j]
        self.i = j
        return name

    def operator(self) -> bool:
        """True for '+=', False for '='."""
        self.skip()
        s = self.s
        if s.startswith("+=", self.i):
            self.i += 2
            return True
        if s.startswith("=", self.i):
            self.i += 1
            return False
        raise TextKernelError("expected '=' or '+='", self.off())

    def item(self) -> Value:
        s = self.s
        if self.i >= len(s):
            raise TextKernelError("unexpected end of data", self.off())
        if s[self.i] == "'":
            start = self.off()
            out = []
            j = self.i + 1
            while True:
                k = s.find("'", j)
                if k < 0:
                    raise TextKernelError("unterminated string", start)
                out.append(s[j:k])
                if k + 1 < len(s) and s[k + 1] == "'":
                    out.append("'")
                    j = k + 2
                    continue
                self.i = k + 1
                return "".join(out)
        j = self.i
        while j < len(s) and not s[j].isspace() and s[j] not in ",()":
            j += 1
        if j == self.i:
            raise TextKernelError(f"unexpected character {s[self.i]!r}", self.off())
        tok_off = self.off()
        tok = s[self.i:j]
        self.i = j
        return _convert(tok, tok_off)

    def values(self) -> list[Value]:
        self.skip()
        if self.i < len(self.s) and self.s[self.i] == "(":
            start = self.off()
            self.i += 1
            vals: list[Value] = []
            while True:
                self.skip(commas=True)
                if self.i >= len(self.s):
                    raise TextKernelError("unterminated '(' list", start)
                if self.s[self.i] == ")":
                    self.i += 1
                    return vals
                vals.append(self.item())
        return [self.item()]


def parse_text_kernel(text: str, pool: KernelPool | None = None) -> KernelPool:
    """Parse the data of a SPICE text kernel into ``{name: [values]}`` (later assignments win;
    ``+=`` appends). Pass an existing ``pool`` to accumulate several kernels."""
    out: KernelPool = {} if pool is None else pool
    for base, block in _data_blocks(text):
        sc = _Scanner(block, base)
        while not sc.eof():
            name = sc.name()
            append = sc.operator()
            vals = sc.values()
            if append and name in out:
                out[name] = out[name] + vals
            else:
                out[name] = vals
    return out


def read_text_kernel(path: str | Path, pool: KernelPool | None = None) -> KernelPool:
    """Read one text kernel file (see :func:`parse_text_kernel`)."""
    return parse_text_kernel(Path(path).read_text(encoding="latin-1"), pool)


def get_floats(pool: KernelPool, name: str) -> list[float]:
    """Numeric values of ``name`` as floats; KeyError if absent, ValueError if not numeric."""
    vals = pool[name]
    if any(isinstance(v, str) for v in vals):
        raise ValueError(f"{name} is not numeric")
    return [float(v) for v in vals]


def get_float(pool: KernelPool, name: str) -> float:
    """The single numeric value of ``name``."""
    vals = get_floats(pool, name)
    if len(vals) != 1:
        raise ValueError(f"{name} has {len(vals)} values, expected 1")
    return vals[0]


def get_string(pool: KernelPool, name: str) -> str:
    """The single string value of ``name``."""
    vals = pool[name]
    if len(vals) != 1 or not isinstance(vals[0], str):
        raise ValueError(f"{name} is not a single string")
    return vals[0]
