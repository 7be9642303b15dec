"""NAIF DAF transfer format (``.xsp``, ``.xc``, ``.xbc``...) -> binary DAF, in pure Python.

The transfer format is the portable text form of a DAF: a header line
``DAFETF NAIF DAF ENCODED TRANSFER FILE``, then quoted values (id word, ND, NI, internal file
name), then per array ``BEGIN_ARRAY <n> <count>``, the quoted name, the ND summary doubles and the
NI - 2 summary integers, data blocks (a decimal count, then that many values) and
``END_ARRAY <n> <count>``; finally ``TOTAL_ARRAYS <n>`` and an optional comment block between
``~NAIF/SPC BEGIN COMMENTS~`` and ``~NAIF/SPC END COMMENTS~``. Integers are signed hexadecimal
(``'-22E98'`` = -143000); doubles are a signed hexadecimal fraction and a hexadecimal power of
16 (``'1FCC22FCE311D6^8'`` = 0x0.1FCC22FCE311D6 x 16^8), so conversion is exact.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .daf import DafArray, DafError, DafFile, check_layout, write_daf

HEADER = "DAFETF NAIF DAF ENCODED TRANSFER FILE"
BEGIN_COMMENTS = "~NAIF/SPC BEGIN COMMENTS~"
END_COMMENTS = "~NAIF/SPC END COMMENTS~"
_HEX = re.compile(r"-?[0-9A-F]+\Z")


class TransferFormatError(ValueError):
    """A DAF transfer file is malformed; ``line`` is the 1-based line number of the problem."""

    def __init__(self, message: str, line: int, source: str = "") -> None:
        where = f"{source}:" if source else "line "
        super().__init__(f"{where}{line}: {message}")
        self.line = line
        self.source = source


def is_transfer_file(head: bytes) -> bool:
    """True if the first bytes of a file are a DAF transfer-format header."""
    return head.lstrip().startswith(b"DAFETF")


class _Tokens:
    """Tokens of the data part: quoted strings (``''`` is a quote inside) and bare words, each
    with its line number."""

    def __init__(self, lines: list[str], first_line: int, source: str) -> None:
        self._items = list(self._scan(lines, first_line, source))
        self._k = 0
        self.source = source
        self.last_line = first_line + len(lines) - 1

    @staticmethod
    def _scan(lines: list[str], first: int, source: str) -> Iterator[tuple[str, bool, int]]:
        for i, line in enumerate(lines):
            n, k = first + i, 0
            while k < len(line):
                c = line[k]
                if c.isspace():
                    k += 1
                elif c == "'":
                    buf, k = [], k + 1
                    while True:
                        if k >= len(line):
                            raise TransferFormatError("unterminated quoted value", n, source)
                        if line[k] == "'":
                            if line[k + 1:k + 2] == "'":
                                buf.append("'")
                                k += 2
                                continue
                            k += 1
                            break
                        buf.append(line[k])
                        k += 1
                    yield "".join(buf), True, n
                else:
                    j = k
                    while j < len(line) and not line[j].isspace():
                        j += 1
                    yield line[k:j], False, n
                    k = j

    def next(self, what: str, quoted: bool | None = None) -> tuple[str, int]:
        if self._k >= len(self._items):
            raise TransferFormatError(f"file ends where {what} was expected", self.last_line,
                                      self.source)
        text, q, line = self._items[self._k]
        if quoted is not None and q != quoted:
            kind = "a quoted value" if quoted else "a bare word"
            raise TransferFormatError(f"expected {what} ({kind}), found {text!r}", line,
                                      self.source)
        self._k += 1
        return text, line

    def peek(self) -> tuple[str, bool, int] | None:
        return self._items[self._k] if self._k < len(self._items) else None

    def error(self, message: str, line: int) -> TransferFormatError:
        return TransferFormatError(message, line, self.source)


def decode_int(text: str, line: int = 0, source: str = "") -> int:
    """Integer from its transfer encoding (signed hexadecimal)."""
    t = text.strip()
    if not _HEX.match(t):
        raise TransferFormatError(f"bad encoded integer {text!r}", line, source)
    return int(t, 16)


def decode_double(text: str, line: int = 0, source: str = "") -> float:
    """Double from its transfer encoding ``[-]MANTISSA^[-]EXPONENT`` (hexadecimal fraction and
    power of 16)."""
    mant, sep, exp = text.strip().partition("^")
    if not sep or not _HEX.match(mant) or not _HEX.match(exp):
        raise TransferFormatError(f"bad encoded double {text!r}", line, source)
    digits = mant.lstrip("-")
    sign = -1.0 if mant.startswith("-") else 1.0
    power = 4 * (int(exp, 16) - len(digits))
    m = int(digits, 16)
    if m == 0:
        return 0.0 * sign
    if m.bit_length() + power > 1024 or m.bit_length() + power < -1074:
        raise TransferFormatError(f"encoded double {text!r} out of range", line, source)
    shift = max(0, m.bit_length() - 60)  # keep 60 bits: exact for every IEEE double
    return sign * math.ldexp(float(m >> shift), power + shift)


def _decimal(text: str, what: str, line: int, tok: _Tokens, low: int = 0) -> int:
    if not text.isdigit() or int(text) < low:
        raise tok.error(f"bad {what} {text!r} (want a decimal integer >= {low})", line)
    return int(text)


def parse_transfer(text: str, source: str = "") -> DafFile:
    """Parse DAF transfer-format text into a :class:`DafFile`.

    Raises TransferFormatError naming the line (and ``source``) of the first problem."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip()), None)
    if start is None or lines[start].strip() != HEADER:
        raise TransferFormatError(f"not a DAF transfer file (first line must be {HEADER!r})",
                                  1 if start is None else start + 1, source)
    comments: list[str] = []
    end = len(lines)
    for i in range(start + 1, len(lines)):
        if lines[i].strip() == BEGIN_COMMENTS:
            stop = next((j for j in range(i + 1, len(lines))
                         if lines[j].strip() == END_COMMENTS), None)
            if stop is None:
                raise TransferFormatError("comment block has no end marker", i + 1, source)
            comments, end = lines[i + 1:stop], i
            if any(ln.strip() for ln in lines[stop + 1:]):
                raise TransferFormatError("text after the comment block", stop + 2, source)
            break
    tok = _Tokens(lines[start + 1:end], start + 2, source)
    idword, ln = tok.next("the id word", quoted=True)
    if not idword.startswith("DAF/") or len(idword) > 8:
        raise tok.error(f"id word {idword!r} is not a DAF id word", ln)
    nd_s, ln = tok.next("ND", quoted=True)
    ni_s, ln2 = tok.next("NI", quoted=True)
    nd, ni = decode_int(nd_s, ln, source), decode_int(ni_s, ln2, source)
    try:
        check_layout(nd, ni)
    except DafError as exc:
        raise tok.error(str(exc), ln2) from exc
    ifname, ln = tok.next("the internal file name", quoted=True)
    if len(ifname.rstrip()) > 60:
        raise tok.error("internal file name longer than 60 characters", ln)
    daf = DafFile(idword, nd, ni, ifname.rstrip(), comments=comments)
    while True:
        word, ln = tok.next("BEGIN_ARRAY or TOTAL_ARRAYS", quoted=False)
        if word == "TOTAL_ARRAYS":
            n_s, ln = tok.next("the array total", quoted=False)
            if _decimal(n_s, "array total", ln, tok) != len(daf.arrays):
                raise tok.error(f"TOTAL_ARRAYS {n_s} but {len(daf.arrays)} arrays read", ln)
            break
        if word != "BEGIN_ARRAY":
            raise tok.error(f"expected BEGIN_ARRAY or TOTAL_ARRAYS, found {word!r}", ln)
        daf.arrays.append(_parse_array(tok, daf, ln))
    extra = tok.peek()
    if extra is not None:
        raise tok.error(f"unexpected {extra[0]!r} after TOTAL_ARRAYS", extra[2])
    return daf


def _parse_array(tok: _Tokens, daf: DafFile, begin_line: int) -> DafArray:
    src = tok.source
    n_s, ln = tok.next("the array number", quoted=False)
    number = _decimal(n_s, "array number", ln, tok, low=1)
    if number != len(daf.arrays) + 1:
        raise tok.error(f"array number {number}, expected {len(daf.arrays) + 1}", ln)
    c_s, ln = tok.next("the array size", quoted=False)
    size = _decimal(c_s, "array size", ln, tok, low=1)
    name, ln = tok.next("the array name", quoted=True)
    if len(name.rstrip()) > daf.name_chars:
        raise tok.error(f"array name longer than {daf.name_chars} characters", ln)
    dc = tuple(decode_double(*tok.next("a summary double", quoted=True), src)
               for _ in range(daf.nd))
    ic = tuple(decode_int(*tok.next("a summary integer", quoted=True), src)
               for _ in range(daf.ni - 2))
    if any(not -2**31 <= v < 2**31 for v in ic):
        raise tok.error("summary integer outside the 32-bit range", ln)
    values: list[float] = []
    while True:
        word, ln = tok.next("a data block count or END_ARRAY", quoted=False)
        if word == "END_ARRAY":
            break
        count = _decimal(word, "data block count", ln, tok, low=1)
        if len(values) + count > size:
            raise tok.error(f"data blocks hold more than the {size} values announced", ln)
        values.extend(decode_double(*tok.next("a data value", quoted=True), src)
                      for _ in range(count))
    e_n, ln = tok.next("the array number after END_ARRAY", quoted=False)
    e_c, ln = tok.next("the array size after END_ARRAY", quoted=False)
    if e_n != n_s or e_c != c_s:
        raise tok.error(f"END_ARRAY {e_n} {e_c} does not match BEGIN_ARRAY {n_s} {c_s} "
                        f"(line {begin_line})", ln)
    if len(values) != size:
        raise tok.error(f"array {number} holds {len(values)} values, {size} announced", ln)
    return DafArray(name.rstrip(), dc, ic, np.array(values, dtype=np.float64))


def read_transfer(path: str | Path) -> DafFile:
    """Parse a DAF transfer file (errors name the file and line)."""
    p = Path(path)
    try:
        text = p.read_bytes().decode("ascii")
    except UnicodeDecodeError as exc:
        raise TransferFormatError(f"non-ASCII byte at offset {exc.start}",
                                  p.read_bytes()[:exc.start].count(b"\n") + 1, str(p)) from exc
    return parse_transfer(text, str(p))


def convert_transfer(src: str | Path, dst: str | Path) -> Path:
    """Convert the transfer file ``src`` to a binary DAF at ``dst`` (written atomically)."""
    daf = read_transfer(src)
    dst = Path(dst)
    tmp = dst.with_name(dst.name + ".part")
    write_daf(daf, tmp)
    tmp.replace(dst)
    return dst
