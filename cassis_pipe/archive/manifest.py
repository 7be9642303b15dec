"""Transfer manifests ("the list of all files sent across to the archive") and the
post-delivery comparison of an archive copy with them.

A manifest is ``transfer_manifest.csv`` in a delivery directory: header
``path,size_bytes,md5``, then one row per file sent, ``path`` relative to the delivery
directory (``em16_tgo_cas/...``), sorted. The archive copy is the union of every delivery's
``em16_tgo_cas/`` tree; :func:`check_archive` compares it with the union of all manifests.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

MANIFEST = "transfer_manifest.csv"
_HEADER = ["path", "size_bytes", "md5"]


def md5_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex MD5 of a file, read in 1 MiB chunks."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def manifest_rows(delivery_dir: Path, top: str) -> list[tuple[str, int, str]]:
    """(relative path, size, md5) of every file under ``delivery_dir/top``, sorted."""
    rows = []
    for p in sorted((delivery_dir / top).rglob("*")):
        if p.is_file():
            rows.append((p.relative_to(delivery_dir).as_posix(), p.stat().st_size, md5_file(p)))
    return rows


def write_manifest(delivery_dir: Path, rows: list[tuple[str, int, str]]) -> Path:
    """Write ``transfer_manifest.csv`` (LF line ends, deterministic)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(_HEADER)
    w.writerows(rows)
    out = delivery_dir / MANIFEST
    out.write_text(buf.getvalue())
    return out


def read_manifest(path: Path) -> dict[str, tuple[int, str]]:
    """path -> (size, md5) of a manifest; a malformed row raises ValueError with its line."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except csv.Error as exc:
        raise ValueError(f"{path}: unreadable manifest: {exc}") from exc
    if not rows or rows[0] != _HEADER:
        raise ValueError(f"{path}: not a transfer manifest (header {rows[:1]})")
    out: dict[str, tuple[int, str]] = {}
    for n, row in enumerate(rows[1:], start=2):
        if (len(row) != 3 or not row[1].isascii() or not row[1].isdigit()
                or not re.fullmatch(r"[0-9a-f]{32}", row[2]) or not row[0]):
            raise ValueError(f"{path} line {n}: malformed row {row}")
        out[row[0]] = (int(row[1]), row[2])
    return out


@dataclass
class ArchiveCheck:
    """Result of comparing an archive copy with the manifests."""

    expected: int = 0
    present: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    corrupted: list[str] = field(default_factory=list)  # "path: why"
    conflicts: list[str] = field(default_factory=list)  # same path listed with two contents

    @property
    def ok(self) -> bool:
        return not (self.missing or self.extra or self.corrupted or self.conflicts)

    def lines(self) -> list[str]:
        """Human-readable report, one problem per line."""
        out = [f"expected {self.expected} files, archive copy holds {self.present}"]
        out += [f"MISSING   {p}" for p in self.missing]
        out += [f"EXTRA     {p}" for p in self.extra]
        out += [f"CORRUPTED {p}" for p in self.corrupted]
        out += [f"CONFLICT  {p}" for p in self.conflicts]
        out.append("OK" if self.ok else "PROBLEMS FOUND")
        return out


def expected_files(deliveries_root: Path) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """Union of the manifests of every delivery under ``deliveries_root`` (+ conflicts)."""
    expected: dict[str, tuple[int, str]] = {}
    conflicts = []
    for m in sorted(deliveries_root.glob(f"*/{MANIFEST}")):
        for path, entry in read_manifest(m).items():
            if path in expected and expected[path] != entry:
                conflicts.append(f"{path}: listed with different contents in {m.parent.name}")
            expected[path] = entry
    return expected, conflicts


def check_archive(archive_copy: Path, deliveries_root: Path) -> ArchiveCheck:
    """Missing, extra and corrupted (size or MD5 mismatch) files of the archive copy."""
    expected, conflicts = expected_files(deliveries_root)
    res = ArchiveCheck(expected=len(expected), conflicts=conflicts)
    held = {p.relative_to(archive_copy).as_posix(): p
            for p in sorted(archive_copy.rglob("*")) if p.is_file()}
    res.present = len(held)
    for path, (size, md5) in sorted(expected.items()):
        p = held.get(path)
        if p is None:
            res.missing.append(path)
            continue
        got = p.stat().st_size
        if got != size:
            res.corrupted.append(f"{path}: size {got} bytes, manifest {size}")
        elif (digest := md5_file(p)) != md5:
            res.corrupted.append(f"{path}: md5 {digest}, manifest {md5}")
    res.extra = sorted(set(held) - set(expected))
    return res
