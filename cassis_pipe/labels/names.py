"""CaSSIS product names: Bern framelet names, PSA raw/calibrated/stitched LIDs, derived names.

* Bern: ``CAS-MCO-2016-11-26T22.50.27.381-PAN-00005-B1`` = mission phase, acquisition UTC
  (dots for colons, milliseconds), filter, window counter (2 digits, 0-based: PAN 0, RED 1,
  NIR 2, BLU 3) followed by the sequence counter (3 digits), processing level ('00' level 0,
  'B1' level 1b).
* PSA framelet: ``cas_raw_sc_20250416t233856-20250416t233900-33001-50-pan-1409764716-29-0``
  = level (raw/par/cal/der), sc, start-stop of the sequence (s), orbit, observation number in
  the orbit, filter, UID, sequence counter, window counter.
* PSA stitched: ``cas_cal_sc_20210607t003104-20210607t003118-pan-837628000-sti``.
* Derived: ``MY36_015782_024_0_PAN`` = observation id + filter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cassis_pipe.labels.ids import ObservationId, parse_observation_id

#: Bern processing-level suffixes seen on real files.
BERN_LEVELS: dict[str, str] = {"00": "level 0", "B1": "level 1b"}
PSA_LEVELS: tuple[str, ...] = ("raw", "par", "cal", "der")

#: Start of MTP001 (first medium-term plan of the science phase), 28-day plans from here.
MTP_EPOCH = datetime(2018, 4, 21, tzinfo=UTC)
MTP_DAYS = 28
#: Mars capture orbit period of TGO (orbit insertion to start of aerobraking), UTC dates.
MCO_START = datetime(2016, 10, 19, tzinfo=UTC)
MCO_END = datetime(2017, 3, 15, tzinfo=UTC)

_BERN_RE = re.compile(
    r"^CAS-([A-Z0-9]{3})-(\d{4})-(\d{2})-(\d{2})T(\d{2})\.(\d{2})\.(\d{2})\.(\d{3})"
    r"-([A-Z0-9]{3})-(\d{2})(\d{3})-([A-Z0-9]{2})$"
)
_T = r"(\d{8})t(\d{6})"
_PSA_RE = re.compile(
    rf"^cas_({'|'.join(PSA_LEVELS)})_sc_{_T}-{_T}-(\d+)-(\d+)-([a-z0-9]+)-(\d+)-(\d+)-(\d+)$"
)
_STI_RE = re.compile(rf"^cas_({'|'.join(PSA_LEVELS)})_sc_{_T}-{_T}-([a-z0-9]+)-(\d+)-sti$")
_DERIVED_RE = re.compile(r"^(?:CAS_DER_)?([A-Z0-9]+_\d{6}_\d{3}_\d)_([A-Z0-9]{3})(?:_(\d+))?$")


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _floor_ms(t: datetime) -> datetime:
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


def _round_s(t: datetime) -> datetime:
    return (t + timedelta(microseconds=500_000)).replace(microsecond=0)


@dataclass(frozen=True, slots=True)
class BernName:
    """Fields of a Bern framelet name; ``time`` is UTC, kept to the millisecond (floored)."""

    phase: str
    time: datetime
    filter: str
    window_counter: int
    sequence_counter: int
    level: str = "B1"

    def __post_init__(self) -> None:
        object.__setattr__(self, "time", _floor_ms(_utc(self.time)))
        if not re.fullmatch(r"[A-Z0-9]{3}", self.phase):
            raise ValueError(f"mission phase {self.phase!r} is not 3 upper-case characters")
        if not re.fullmatch(r"[A-Z0-9]{3}", self.filter):
            raise ValueError(f"filter {self.filter!r} is not 3 upper-case characters")
        if not 0 <= self.window_counter <= 99 or not 0 <= self.sequence_counter <= 999:
            raise ValueError("window counter must be 0..99 and sequence counter 0..999")
        if not re.fullmatch(r"[A-Z0-9]{2}", self.level):
            raise ValueError(f"level {self.level!r} is not 2 upper-case characters")

    def __str__(self) -> str:
        t = self.time
        return (
            f"CAS-{self.phase}-{t:%Y-%m-%dT%H.%M.%S}.{t.microsecond // 1000:03d}-{self.filter}"
            f"-{self.window_counter:02d}{self.sequence_counter:03d}-{self.level}"
        )


def parse_bern_name(name: str) -> BernName:
    """'CAS-MCO-2016-11-26T22.50.27.381-PAN-00005-B1' (extension allowed) -> BernName."""
    stem = re.sub(r"\.(xml|dat|img)$", "", name.strip(), flags=re.IGNORECASE)
    m = _BERN_RE.match(stem)
    if m is None:
        raise ValueError(f"not a Bern CaSSIS framelet name: {name!r}")
    y, mo, d, h, mi, s, ms = (int(g) for g in m.groups()[1:8])
    t = datetime(y, mo, d, h, mi, s, ms * 1000, tzinfo=UTC)
    return BernName(m.group(1), t, m.group(9), int(m.group(10)), int(m.group(11)), m.group(12))


def _fmt_t(t: datetime) -> str:
    return f"{_round_s(_utc(t)):%Y%m%dt%H%M%S}"


def _parse_t(day: str, hms: str) -> datetime:
    return datetime.strptime(day + hms, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _normalise_psa(name: PsaFrameletName | PsaStitchedName) -> None:
    """Check the PSA level; round times to the second (UTC); filter upper-case."""
    if name.level not in PSA_LEVELS:
        raise ValueError(f"PSA level {name.level!r} not in {PSA_LEVELS}")
    object.__setattr__(name, "start", _round_s(_utc(name.start)))
    object.__setattr__(name, "stop", _round_s(_utc(name.stop)))
    object.__setattr__(name, "filter", name.filter.upper())


@dataclass(frozen=True, slots=True)
class PsaFrameletName:
    """Fields of a PSA framelet LID; times are rounded to the nearest second."""

    level: str
    start: datetime
    stop: datetime
    orbit: int
    observation_number: int
    filter: str
    uid: int
    sequence_counter: int
    window_counter: int

    def __post_init__(self) -> None:
        _normalise_psa(self)
        if min(self.orbit, self.observation_number, self.uid) < 0:
            raise ValueError("negative field in PSA name")
        if min(self.sequence_counter, self.window_counter) < 0:
            raise ValueError("negative field in PSA name")

    def _render(self, upper: bool) -> str:
        t0, t1 = _fmt_t(self.start), _fmt_t(self.stop)
        filt = self.filter.lower()
        if upper:
            t0, t1, filt = t0.upper(), t1.upper(), filt.upper()
        return (
            f"cas_{self.level}_sc_{t0}-{t1}-{self.orbit}-{self.observation_number}-{filt}"
            f"-{self.uid}-{self.sequence_counter}-{self.window_counter}"
        )

    def lid(self) -> str:
        """Lower-case form used in logical identifiers."""
        return self._render(upper=False)

    def file_stem(self) -> str:
        """Form used in file names: upper-case 'T' separators and filter."""
        return self._render(upper=True)

    def __str__(self) -> str:
        return self.lid()


def parse_psa_framelet_name(name: str) -> PsaFrameletName:
    """PSA framelet LID or file name (any case, optional '__4_0' version and extension)."""
    s = _strip_psa(name)
    m = _PSA_RE.match(s)
    if m is None:
        raise ValueError(f"not a PSA CaSSIS framelet name: {name!r}")
    g = m.groups()
    return PsaFrameletName(
        g[0],
        _parse_t(g[1], g[2]),
        _parse_t(g[3], g[4]),
        int(g[5]),
        int(g[6]),
        g[7].upper(),
        int(g[8]),
        int(g[9]),
        int(g[10]),
    )


@dataclass(frozen=True, slots=True)
class PsaStitchedName:
    """Fields of a PSA stitched-product LID ('...-sti')."""

    level: str
    start: datetime
    stop: datetime
    filter: str
    uid: int

    def __post_init__(self) -> None:
        _normalise_psa(self)
        if self.uid < 0:
            raise ValueError("negative UID")

    def __str__(self) -> str:
        return (
            f"cas_{self.level}_sc_{_fmt_t(self.start)}-{_fmt_t(self.stop)}"
            f"-{self.filter.lower()}-{self.uid}-sti"
        )


def parse_psa_stitched_name(name: str) -> PsaStitchedName:
    """'cas_cal_sc_20210607t003104-20210607t003118-pan-837628000-sti' -> PsaStitchedName."""
    m = _STI_RE.match(_strip_psa(name))
    if m is None:
        raise ValueError(f"not a PSA CaSSIS stitched name: {name!r}")
    g = m.groups()
    return PsaStitchedName(
        g[0], _parse_t(g[1], g[2]), _parse_t(g[3], g[4]), g[5].upper(), int(g[6])
    )


def _strip_psa(name: str) -> str:
    s = name.strip().rsplit(":", 1)[-1].lower()
    s = re.sub(r"\.(xml|dat|img|tab|png|jpg)$", "", s)
    return re.sub(r"__\d+_\d+$", "", s)


@dataclass(frozen=True, slots=True)
class DerivedName:
    """Derived (map-projected) product name: observation id + filter, optional UID suffix."""

    observation: ObservationId
    filter: str
    uid: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "filter", self.filter.upper())

    def __str__(self) -> str:
        base = f"{self.observation}_{self.filter}"
        return base if self.uid is None else f"{base}_{self.uid}"


def parse_derived_name(name: str) -> DerivedName:
    """'MY36_015782_024_0_PAN' (or its lower-case LID tail, 'CAS_DER_' prefix) -> DerivedName."""
    s = re.sub(r"\.(xml|dat|img)$", "", name.strip().rsplit(":", 1)[-1], flags=re.IGNORECASE)
    m = _DERIVED_RE.match(s.upper())
    if m is None:
        raise ValueError(f"not a CaSSIS derived product name: {name!r}")
    uid = int(m.group(3)) if m.group(3) else None
    return DerivedName(parse_observation_id(m.group(1)), m.group(2), uid)


def mtp_number(t: datetime) -> int | None:
    """Medium-term plan number (1 = 2018-04-21..05-19, 28-day plans); None before MTP001."""
    days = (_utc(t) - MTP_EPOCH).total_seconds() / 86400.0
    return None if days < 0 else int(days // MTP_DAYS) + 1


def stp_number(t: datetime) -> int | None:
    """Short-term (weekly) plan number counted from MTP001's first day; None before it."""
    days = (_utc(t) - MTP_EPOCH).total_seconds() / 86400.0
    return None if days < 0 else int(days // 7) + 1


def mission_phase_for(t: datetime) -> str | None:
    """Bern mission-phase code for a UTC time: 'MCO' in the capture orbit, 'Mnn' from MTP001.

    Returns None where the code is not derivable from the date alone (cruise, aerobraking,
    2017-2018 transition); callers must then pass the phase in.
    """
    tu = _utc(t)
    if MCO_START <= tu < MCO_END:
        return "MCO"
    n = mtp_number(tu)
    return None if n is None else f"M{n:02d}"
