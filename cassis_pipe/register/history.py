"""Persistent rotation-offset history: one CSV row per observation.

Columns (header line first): ``observation_id, utc, commanded_rotation_deg, offset_deg,
cost_px2, n_pairs, software_version``. Angles in degrees, cost in px^2, UTC ISO 8601.
Recording an observation that is already present replaces its row; rows stay sorted by
(utc, observation_id). Writers hold an exclusive ``fcntl`` lock on ``<file>.lock`` and replace
the file atomically (temporary file + ``os.replace``), so concurrent appends from several
processes never lose or interleave rows and readers never see a half-written file.
"""

from __future__ import annotations

import csv
import fcntl
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import __version__

COLUMNS: tuple[str, ...] = ("observation_id", "utc", "commanded_rotation_deg", "offset_deg",
                            "cost_px2", "n_pairs", "software_version")


class HistoryError(ValueError):
    """The history file exists but is not a valid offset history."""


@dataclass(frozen=True)
class OffsetRecord:
    """One observation's recovered offset (deg) and fit quality."""

    observation_id: str
    utc: str
    commanded_rotation_deg: float
    offset_deg: float
    cost_px2: float
    n_pairs: int
    software_version: str = __version__

    def as_row(self) -> dict[str, str]:
        """CSV cells; floats with enough digits to round-trip."""
        d = asdict(self)
        return {k: (repr(float(v)) if isinstance(v, float) else str(v)) for k, v in d.items()}

    @classmethod
    def from_row(cls, row: dict[str, str]) -> OffsetRecord:
        """Parse one CSV row (raises :class:`HistoryError` on bad values)."""
        try:
            return cls(row["observation_id"], row["utc"], float(row["commanded_rotation_deg"]),
                       float(row["offset_deg"]), float(row["cost_px2"]), int(row["n_pairs"]),
                       row["software_version"])
        except (KeyError, TypeError, ValueError) as exc:
            raise HistoryError(f"bad history row {row!r}: {exc}") from exc


def _parse(text: str, path: Path) -> list[OffsetRecord]:
    if not text.strip():
        return []
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise HistoryError(f"{path}: header {reader.fieldnames} != {list(COLUMNS)}")
    return [OffsetRecord.from_row(r) for r in reader]


def read_history(path: str | Path) -> list[OffsetRecord]:
    """All records of the history file (empty list if it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    return _parse(path.read_text(encoding="utf-8"), path)


def _render(records: list[OffsetRecord]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    w.writeheader()
    for r in records:
        w.writerow(r.as_row())
    return buf.getvalue()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "a+") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def _replace(path: Path, rows: list[OffsetRecord]) -> None:
    """Write ``rows`` to ``path`` atomically (temporary file, fsync, rename); caller locks."""
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(_render(rows))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _sorted(rows: list[OffsetRecord]) -> list[OffsetRecord]:
    return sorted(rows, key=lambda r: (r.utc, r.observation_id))


def record_offset(path: str | Path, record: OffsetRecord) -> list[OffsetRecord]:
    """Insert or replace ``record`` (keyed by observation id) in the history at ``path``,
    keeping rows sorted by (utc, observation_id). Returns the new content."""
    path = Path(path)
    with _locked(path):
        rows = [r for r in read_history(path) if r.observation_id != record.observation_id]
        rows = _sorted([*rows, record])
        _replace(path, rows)
    return rows


def write_history(path: str | Path, records: list[OffsetRecord]) -> list[OffsetRecord]:
    """The history at ``path`` made of exactly ``records`` (one per observation id, sorted by
    (utc, observation_id)), written under the same lock and atomically. Returns the rows."""
    path = Path(path)
    ids = [r.observation_id for r in records]
    if len(set(ids)) != len(ids):
        raise HistoryError(f"{path}: an observation appears twice in the offset history")
    rows = _sorted(list(records))
    with _locked(path):
        _replace(path, rows)
    return rows
