"""NAIF Double precision Array File (DAF) in binary form: pure-Python writer and reader.

A DAF is a sequence of 1024-byte records (little-endian ``LTL-IEEE`` here). Record 1 is the file
record (id word, ND, NI, internal name, first/last summary record, first free word address,
binary format, FTP check string); records 2.. hold the comment area (1000 characters each,
lines ended by NUL, text ended by EOT); then summary records (next, previous, count as doubles,
then summaries of ND doubles + NI 32-bit integers, the last two integers being the array's first
and last word address) each followed by its name record; then the data words. Word addresses
are 1-based positions of 8-byte words in the file. SPK and CK files are DAFs (ND=2, NI=6 and
ND=2, NI=6); the array contents are documented in NAIF's SPK and CK required reading.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

RECORD_BYTES = 1024
WORDS_PER_RECORD = 128
COMMENT_CHARS = 1000
FTP_STRING = b"FTPSTR:\r:\n:\r\n:\r\x00:\x81:\x10\xce:ENDFTP"
_FTP_OFFSET = 699
_EOT = "\x04"


class DafError(ValueError):
    """A binary DAF is malformed, or an array cannot be stored in one."""


@dataclass(eq=False)
class DafArray:
    """One DAF array: its name, summary (``doubles``: ND values; ``ints``: the NI - 2 integers
    before the two addresses) and data words."""

    name: str
    doubles: tuple[float, ...]
    ints: tuple[int, ...]
    data: np.ndarray


@dataclass(eq=False)
class DafFile:
    """A whole DAF: id word (e.g. ``"DAF/SPK "``), ND, NI, internal file name, arrays in file
    order and comment lines."""

    idword: str
    nd: int
    ni: int
    ifname: str
    arrays: list[DafArray] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)

    @property
    def summary_words(self) -> int:
        """Summary size in 8-byte words: ND + ceil(NI / 2)."""
        return self.nd + (self.ni + 1) // 2

    @property
    def name_chars(self) -> int:
        """Array-name length in characters: 8 x summary words."""
        return 8 * self.summary_words


def check_layout(nd: int, ni: int) -> None:
    """Raise DafError unless ND, NI give a summary that fits a summary record."""
    if not (0 <= nd <= 124 and 2 <= ni <= 250 and nd + (ni + 1) // 2 <= 125):
        raise DafError(f"unsupported DAF layout ND={nd}, NI={ni}")


def _ascii(text: str, what: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError as exc:
        raise DafError(f"{what} is not ASCII: {text[:40]!r}") from exc


def _comment_records(lines: list[str]) -> list[bytes]:
    if not lines:
        return []
    for line in lines:
        if "\x00" in line or _EOT in line:
            raise DafError("comment line holds a NUL or EOT character")
    text = _ascii("".join(line + "\x00" for line in lines) + _EOT, "comment")
    out = []
    for k in range(0, len(text), COMMENT_CHARS):
        chunk = text[k:k + COMMENT_CHARS].ljust(COMMENT_CHARS, b" ")
        out.append(chunk + bytes(RECORD_BYTES - COMMENT_CHARS))
    return out


def daf_bytes(daf: DafFile) -> bytes:
    """The binary (LTL-IEEE) image of ``daf``: deterministic, same input -> same bytes."""
    check_layout(daf.nd, daf.ni)
    ss, nc = daf.summary_words, daf.name_chars
    per_record = (WORDS_PER_RECORD - 3) // ss
    comments = _comment_records(daf.comments)
    n_sum_records = max(1, math.ceil(len(daf.arrays) / per_record))
    first_summary = 2 + len(comments)
    data_start = (first_summary - 1 + 2 * n_sum_records) * WORDS_PER_RECORD + 1
    words: list[np.ndarray] = []
    addresses = []
    addr = data_start
    for arr in daf.arrays:
        data = np.ascontiguousarray(arr.data, dtype="<f8").reshape(-1)
        if len(data) == 0:
            raise DafError(f"array {arr.name!r} is empty")
        addresses.append((addr, addr + len(data) - 1))
        words.append(data)
        addr += len(data)
    free = addr
    out = bytearray()
    out += _file_record(daf, first_summary, first_summary + 2 * (n_sum_records - 1), free)
    for rec in comments:
        out += rec
    for r in range(n_sum_records):
        chunk = list(range(r * per_record, min(len(daf.arrays), (r + 1) * per_record)))
        this = first_summary + 2 * r
        nxt = this + 2 if r + 1 < n_sum_records else 0
        prev = this - 2 if r > 0 else 0
        summary = np.zeros(WORDS_PER_RECORD, dtype="<f8")
        summary[:3] = (nxt, prev, len(chunk))
        names = bytearray()
        for j, k in enumerate(chunk):
            summary[3 + j * ss:3 + (j + 1) * ss] = _pack_summary(daf, daf.arrays[k],
                                                                 addresses[k])
            name = _ascii(daf.arrays[k].name, "array name")
            if len(name) > nc:
                raise DafError(f"array name longer than {nc} characters: {name!r}")
            names += name.ljust(nc, b" ")
        out += summary.tobytes()
        out += bytes(names).ljust(COMMENT_CHARS, b" ") + bytes(RECORD_BYTES - COMMENT_CHARS)
    body = np.concatenate(words) if words else np.zeros(0, dtype="<f8")
    pad = (-len(body)) % WORDS_PER_RECORD
    out += np.concatenate([body, np.zeros(pad, dtype="<f8")]).astype("<f8").tobytes()
    return bytes(out)


def _file_record(daf: DafFile, fward: int, bward: int, free: int) -> bytes:
    idword = _ascii(daf.idword, "id word")
    ifname = _ascii(daf.ifname, "internal file name")
    if len(idword) > 8 or len(ifname) > 60:
        raise DafError("id word over 8 or internal file name over 60 characters")
    rec = (idword.ljust(8, b" ") + struct.pack("<2i", daf.nd, daf.ni) + ifname.ljust(60, b" ")
           + struct.pack("<3i", fward, bward, free) + b"LTL-IEEE")
    rec = rec.ljust(_FTP_OFFSET, b"\x00") + FTP_STRING
    return rec.ljust(RECORD_BYTES, b"\x00")


def _pack_summary(daf: DafFile, arr: DafArray, addr: tuple[int, int]) -> np.ndarray:
    if len(arr.doubles) != daf.nd or len(arr.ints) != daf.ni - 2:
        raise DafError(f"array {arr.name!r}: summary needs {daf.nd} doubles and "
                       f"{daf.ni - 2} integers")
    ints = list(arr.ints) + list(addr)
    if len(ints) % 2:
        ints.append(0)
    try:
        packed = struct.pack(f"<{daf.nd}d{len(ints)}i", *arr.doubles, *ints)
    except struct.error as exc:
        raise DafError(f"array {arr.name!r}: summary integer out of range") from exc
    return np.frombuffer(packed, dtype="<f8")


def write_daf(daf: DafFile, path: str | Path) -> Path:
    """Write ``daf`` to ``path`` (binary, LTL-IEEE) and return the path."""
    p = Path(path)
    p.write_bytes(daf_bytes(daf))
    return p


def read_daf(blob: bytes) -> DafFile:
    """Parse a binary little-endian DAF (the inverse of :func:`daf_bytes`, and a reader of
    SPICE-written files). Raises DafError naming the byte offset of what is wrong."""
    if len(blob) < RECORD_BYTES or len(blob) % RECORD_BYTES:
        raise DafError(f"DAF size {len(blob)} is not a positive multiple of 1024 bytes (offset 0)")
    if blob[88:96] != b"LTL-IEEE":
        raise DafError(f"binary format {blob[88:96]!r} is not LTL-IEEE (offset 88)")
    idword = blob[:8].decode("ascii", "replace")
    nd, ni = struct.unpack_from("<2i", blob, 8)
    check_layout(nd, ni)
    ifname = blob[16:76].decode("ascii", "replace").rstrip()
    fward, _, free = struct.unpack_from("<3i", blob, 76)
    daf = DafFile(idword, nd, ni, ifname)
    daf.comments = _read_comments(blob, fward)
    n_words = len(blob) // 8
    words = np.frombuffer(blob, dtype="<f8")
    ss, nc = daf.summary_words, daf.name_chars
    rec, seen = fward, set()
    while rec:
        off = (rec - 1) * RECORD_BYTES
        if rec in seen or rec < 2 or off + 2 * RECORD_BYTES > len(blob):
            raise DafError(f"bad summary record number {rec} (offset {off})")
        seen.add(rec)
        nxt, _, count = (int(v) for v in words[off // 8:off // 8 + 3])
        if not 0 <= count <= (WORDS_PER_RECORD - 3) // ss:
            raise DafError(f"summary count {count} out of range (offset {off + 16})")
        for j in range(count):
            s_off = off + 8 * (3 + j * ss)
            dc = struct.unpack_from(f"<{nd}d", blob, s_off)
            ic = struct.unpack_from(f"<{ni}i", blob, s_off + 8 * nd)
            a0, a1 = ic[-2], ic[-1]
            if not (1 <= a0 <= a1 <= min(n_words, free - 1)):
                raise DafError(f"array addresses {a0}..{a1} outside the file (offset {s_off})")
            n_off = off + RECORD_BYTES + j * nc
            name = blob[n_off:n_off + nc].decode("ascii", "replace").rstrip()
            daf.arrays.append(DafArray(name, tuple(dc), tuple(ic[:-2]),
                                       words[a0 - 1:a1].astype(np.float64)))
        rec = nxt
    return daf


def _read_comments(blob: bytes, fward: int) -> list[str]:
    text = b"".join(blob[(r - 1) * RECORD_BYTES:(r - 1) * RECORD_BYTES + COMMENT_CHARS]
                    for r in range(2, fward))
    if not text:
        return []
    end = text.find(b"\x04")
    if end < 0:
        raise DafError(f"comment area has no end-of-text mark (offset {RECORD_BYTES})")
    lines = text[:end].decode("ascii", "replace").split("\x00")
    return lines[:-1] if lines and lines[-1] == "" else lines
