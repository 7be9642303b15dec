"""SPICE provider: ISDs from a kernel set at the exposure times, with ISIS/ale's CaSSIS
conventions. Every spiceypy call of the geometry package is in this module.

Conventions (ale ``NaifSpice`` with the ISIS addendum ``tgoCassisAddendum*.ti``, which asks for
``LIGHTTIME_CORRECTION = 'LT+S'``, ``SWAP_OBSERVER_TARGET`` and ``LT_SURFACE_CORRECT``):

* image time of an exposure = start time + exposure / 2 (ET, TDB s);
* TGO position/velocity relative to Mars, J2000: geometric TGO state at ``et`` minus the
  geometric Mars state at ``et - lt + r_lt`` (both relative to the solar-system barycentre),
  where ``lt`` is the one-way light time TGO -> Mars centre and ``r_lt`` the light time over
  Mars' mean radius ((a + c) / 2): light time to the surface, no stellar aberration;
* Mars orientation (IAU_MARS) and CaSSIS pointing (J2000 -> TGO_CASSIS_TEL) at ``et``;
* Sun position relative to Mars with LT+S at ``et`` (geometric, ``NONE``, when the kernels do
  not reach back the ~11 min of Sun light time, as sliced kernels do not: 0.005 deg of Sun
  direction; the ISD records which under ``cassis["sun_abcorr"]``).

The kernel pool is process-global: :func:`kernels_loaded` clears it, loads one kernel set and
clears it again, holding the same lock as :mod:`cassis_pipe.telemetry.timecode`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import spiceypy
from spiceypy.utils.exceptions import SpiceyError

from ..instrument.detector import Window
from ..instrument.frames import CassisFrames
from ..instrument.optics import CASSIS_IK_ID, Optics
from ..telemetry.timecode import _LOCK as SPICE_LOCK
from .builder import build_isd
from .isd import Isd
from .kernels.kernelset import KernelSet

log = logging.getLogger(__name__)

C_KM_S = 299792.458
TGO_SPACECRAFT_CK = -143000
CASSIS_TEL_CK = -143410


class SpiceGeometryError(RuntimeError):
    """SPICE could not give the geometry asked for (message says what and when)."""


class CoverageError(SpiceGeometryError):
    """A kernel role does not cover a time an observation needs."""

    def __init__(self, observation: str, role: str, et: float, utc: str, detail: str) -> None:
        super().__init__(f"observation {observation}: {role} does not cover ET {et:.6f} "
                         f"({utc} UTC){'; ' + detail if detail else ''}")
        self.observation, self.role, self.et, self.utc = observation, role, et, utc


@contextmanager
def kernels_loaded(kernels: KernelSet) -> Iterator[None]:
    """Hold the SPICE lock with exactly ``kernels`` loaded (pool cleared before and after)."""
    with SPICE_LOCK:
        spiceypy.kclear()
        try:
            for f in kernels.files:
                try:
                    spiceypy.furnsh(str(f))
                except SpiceyError as exc:
                    raise SpiceGeometryError(f"cannot load kernel {f}: {exc.short or exc}"
                                             ) from exc
            yield
        finally:
            spiceypy.kclear()


def image_times(start_ets: Sequence[float] | np.ndarray, exposure_s: float | Sequence[float]
                ) -> np.ndarray:
    """Image times (ET s) of exposures: start + exposure / 2 (ISIS TgoCassisCamera)."""
    start = np.atleast_1d(np.asarray(start_ets, dtype=np.float64))
    return start + np.asarray(exposure_s, dtype=np.float64) / 2.0


def utc_to_et(utc: Sequence[str], kernels: KernelSet | None = None) -> np.ndarray:
    """ET (TDB s) of UTC strings (ISO 8601): with ``kernels`` loaded for the call, else with
    the kernels already loaded (inside :func:`kernels_loaded`)."""
    if kernels is not None:
        with kernels_loaded(kernels):
            return utc_to_et(utc)
    try:
        return np.array([spiceypy.str2et(u) for u in utc], dtype=np.float64)
    except SpiceyError as exc:
        raise SpiceGeometryError(f"UTC conversion failed: {exc.short or exc}") from exc


def _utc(et: float) -> str:
    try:
        return str(spiceypy.et2utc(float(et), "ISOC", 3))
    except SpiceyError:
        return "UTC unknown: no leap-seconds kernel"


def _ck_windows(inst: int) -> list[tuple[float, float]]:
    """Coverage intervals (ET) of CK instrument ``inst`` over every loaded CK."""
    out: list[tuple[float, float]] = []
    for k in range(spiceypy.ktotal("CK")):
        path = spiceypy.kdata(k, "CK")[0]
        if inst not in set(spiceypy.ckobj(path)):
            continue
        cover = spiceypy.ckcov(path, inst, False, "INTERVAL", 0.0, "TDB")
        out += [spiceypy.wnfetd(cover, i) for i in range(spiceypy.wncard(cover))]
    return out


def _spk_windows(body: int) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for k in range(spiceypy.ktotal("SPK")):
        path = spiceypy.kdata(k, "SPK")[0]
        if body in set(spiceypy.spkobj(path)):
            cover = spiceypy.spkcov(path, body)
            out += [spiceypy.wnfetd(cover, i) for i in range(spiceypy.wncard(cover))]
    return out


def _describe(windows: list[tuple[float, float]]) -> str:
    if not windows:
        return "no segment for it is loaded"
    return "covered: " + ", ".join(f"{_utc(a)}..{_utc(b)}" for a, b in sorted(windows)[:4])


def check_coverage(times: Sequence[float] | np.ndarray, observation: str) -> None:
    """Raise :class:`CoverageError` for the first time the loaded kernels cannot serve: SPK of
    TGO relative to Mars (and Mars, Sun for the light-time and Sun vectors), CK of
    TGO_SPACECRAFT (-143000) and TGO_CASSIS_TEL (-143410), the IAU_MARS orientation."""
    ck = {inst: _ck_windows(inst) for inst in (TGO_SPACECRAFT_CK, CASSIS_TEL_CK)}
    for et in np.atleast_1d(np.asarray(times, dtype=np.float64)):
        et = float(et)
        for inst, name in ((TGO_SPACECRAFT_CK, "TGO_SPACECRAFT"), (CASSIS_TEL_CK,
                                                                  "TGO_CASSIS_TEL")):
            if not any(a <= et <= b for a, b in ck[inst]):
                raise CoverageError(observation, f"CK of {name} ({inst})", et, _utc(et),
                                    _describe(ck[inst]))
        checks = (("SPK of TGO (-143) relative to MARS (499)", -143,
                   lambda t: tgo_state_j2000(t)),
                  ("SPK of SUN (10) relative to MARS (499)", 10,
                   lambda t: spiceypy.spkpos("SUN", t, "J2000", "NONE", "MARS")),
                  ("PCK orientation of IAU_MARS", 499,
                   lambda t: spiceypy.sxform("J2000", "IAU_MARS", t)),
                  ("FK/CK chain J2000 -> TGO_CASSIS_FSA", -143,
                   lambda t: spiceypy.pxform("J2000", "TGO_CASSIS_FSA", t)))
        for role, body, fn in checks:
            try:
                fn(et)
            except SpiceyError as exc:
                detail = (_describe(_spk_windows(body)) if role.startswith("SPK") else "")
                raise CoverageError(observation, role, et, _utc(et),
                                    f"{detail}; SPICE: {exc.short or exc}".strip("; ")
                                    ) from exc


def tgo_state_j2000(et: float) -> np.ndarray:
    """TGO state relative to Mars (km, km/s, J2000) with light time to the surface and no
    stellar aberration (ale/ISIS ``LT_SURFACE_CORRECT``; see module doc)."""
    _, lt = spiceypy.spkezr("MARS", et, "J2000", "LT", "TGO")
    radii = spiceypy.bodvrd("MARS", "RADII", 3)[1]
    r_lt = (radii[0] + radii[2]) / 2.0 / C_KM_S
    mars = np.asarray(spiceypy.spkezr("MARS", et - lt + r_lt, "J2000", "NONE", "SSB")[0])
    tgo = np.asarray(spiceypy.spkezr("TGO", et, "J2000", "NONE", "SSB")[0])
    return tgo - mars


def optics_from_pool(ik: int = CASSIS_IK_ID) -> tuple[Optics, dict[str, Any]]:
    """CaSSIS optics and the ``INS<ik>_*`` keywords from the loaded IK + IAK."""
    try:
        names = spiceypy.gnpool(f"INS{ik}_*", 0, 200)
    except SpiceyError as exc:
        raise SpiceGeometryError(f"no INS{ik}_ keywords loaded (IK/IAK missing)") from exc
    kw: dict[str, Any] = {}
    for name in sorted(names):
        n, kind = spiceypy.dtpool(name)
        vals = (list(spiceypy.gdpool(name, 0, n)) if kind == "N"
                else list(spiceypy.gcpool(name, 0, n)))
        kw[name] = vals[0] if n == 1 else vals
    try:
        return Optics.from_pool(kw, ik), kw
    except KeyError as exc:
        raise SpiceGeometryError(f"IK/IAK keyword {exc} missing") from exc


def isd_from_spice(center_et: float, half_span_s: float = 0.0, samples: int = 1,
                   optics: Optics | None = None, image_lines: int = 2048,
                   image_samples: int = 2048, cassis: dict[str, Any] | None = None,
                   times: Sequence[float] | None = None, window: Window | None = None,
                   sun_abcorr: str = "LT+S") -> Isd:
    """Sample the loaded kernels at ``samples`` times over ``center_et +/- half_span_s`` (or at
    ``times``, ET s) and build an :class:`Isd` (conventions in the module doc). ``optics``
    default: from the loaded IK/IAK."""
    if times is None:
        t = (np.array([center_et]) if samples <= 1 else
             np.linspace(center_et - half_span_s, center_et + half_span_s, samples))
    else:
        t = np.asarray(times, dtype=np.float64)
    if optics is None:
        optics = optics_from_pool()[0]
    pos, vel, q_tel, q_body, av_body, sun = [], [], [], [], [], []
    try:
        for et in (float(x) for x in t):
            st = tgo_state_j2000(et)
            pos.append(st[:3])
            vel.append(st[3:])
            q_tel.append(spiceypy.m2q(spiceypy.pxform("J2000", "TGO_CASSIS_TEL", et)))
            xf = np.asarray(spiceypy.sxform("J2000", "IAU_MARS", et))
            rot = np.ascontiguousarray(xf[:3, :3])
            q_body.append(spiceypy.m2q(rot))
            w = -rot.T @ xf[3:, :3]  # skew matrix of the body rate in J2000 axes
            av_body.append(np.array([w[2, 1], w[0, 2], w[1, 0]]))
            sun.append(np.asarray(spiceypy.spkpos("SUN", et, "J2000", sun_abcorr, "MARS")[0]))
        fsa_from_tel = np.asarray(spiceypy.pxform("TGO_CASSIS_TEL", "TGO_CASSIS_FSA", t[0]))
        cru_from_sc = np.asarray(spiceypy.pxform("TGO_SPACECRAFT", "TGO_CASSIS_CRU", t[0]))
    except SpiceyError as exc:
        raise SpiceGeometryError(f"SPICE geometry failed: {exc.short or exc}") from exc
    frames = CassisFrames(cru_from_sc=cru_from_sc, fsa_from_tel=fsa_from_tel)
    return build_isd(center_et, t, np.array(pos), np.array(vel), np.array(q_tel),
                     np.array(q_body), np.array(sun), np.array(av_body), optics=optics,
                     image_lines=image_lines, image_samples=image_samples, frames=frames,
                     cassis=cassis, window=window)


def isd_from_kernels(kernels: KernelSet, start_ets: Sequence[float] | np.ndarray,
                     exposure_s: float | Sequence[float], observation: str, *,
                     optics: Optics | None = None, window: Window | None = None,
                     cassis: dict[str, Any] | None = None) -> Isd:
    """The ISD of one observation: tables sampled at every exposure's image time (start +
    exposure / 2), centre time = the middle exposure's. Loads ``kernels`` in an isolated pool
    and checks coverage first (:class:`CoverageError` names the observation, role and time)."""
    t = image_times(start_ets, exposure_s)
    if len(t) == 0:
        raise ValueError(f"observation {observation}: no exposure times")
    with kernels_loaded(kernels):
        check_coverage(t, observation)
        sun_abcorr = "LT+S"
        try:
            for et in t:
                spiceypy.spkpos("SUN", float(et), "J2000", "LT+S", "MARS")
        except SpiceyError:
            sun_abcorr = "NONE"
            log.warning("observation %s: kernels do not cover the Sun light time; geometric "
                        "Sun position used", observation)
        extra = {**(cassis or {}), "sun_abcorr": sun_abcorr}
        return isd_from_spice(float(t[len(t) // 2]), times=t, optics=optics, window=window,
                              cassis=extra, sun_abcorr=sun_abcorr)
