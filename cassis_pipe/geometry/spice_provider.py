"""Optional SPICE provider: ISDs from loaded SPICE kernels (spiceypy), in the flown layout.

Needs SPK (TGO and Sun relative to Mars), CK (TGO_SPACECRAFT and TGO_CASSIS_TEL), the FK, SCLK,
LSK and PCK loaded by the caller (``spiceypy.furnsh``). Follows ISIS spiceinit: TGO position
relative to Mars with LT+S (observer/target swapped), body orientation at ``et - lt``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..instrument.frames import CassisFrames
from ..instrument.optics import Optics
from .builder import build_isd
from .isd import Isd


def isd_from_spice(center_et: float, half_span_s: float = 0.0, samples: int = 1,
                   optics: Optics | None = None, image_lines: int = 2048,
                   image_samples: int = 2048, cassis: dict[str, Any] | None = None,
                   times: Sequence[float] | None = None) -> Isd:
    """Sample the loaded kernels at ``samples`` times over ``center_et +/- half_span_s`` (or the
    given ``times``, ET s) and build an :class:`Isd`."""
    import spiceypy

    if times is None:
        t = (np.array([center_et]) if samples <= 1 else
             np.linspace(center_et - half_span_s, center_et + half_span_s, samples))
    else:
        t = np.asarray(times, dtype=np.float64)
    pos, vel, q_tel, q_body, av_body, sun = [], [], [], [], [], []
    for et in t:
        st, lt = spiceypy.spkezr("MARS", float(et), "J2000", "LT+S", "TGO")
        st = -np.asarray(st)
        pos.append(st[:3])
        vel.append(st[3:])
        q_tel.append(spiceypy.m2q(spiceypy.pxform("J2000", "TGO_CASSIS_TEL", float(et))))
        xf = np.asarray(spiceypy.sxform("J2000", "IAU_MARS", float(et) - lt))
        rot = np.ascontiguousarray(xf[:3, :3])
        q_body.append(spiceypy.m2q(rot))
        w = -rot.T @ xf[3:, :3]  # skew matrix of the body rate in J2000 axes
        av_body.append(np.array([w[2, 1], w[0, 2], w[1, 0]]))
        sun.append(np.asarray(spiceypy.spkpos("SUN", float(et), "J2000", "LT+S", "MARS")[0]))
    fsa_from_tel = np.asarray(spiceypy.pxform("TGO_CASSIS_TEL", "TGO_CASSIS_FSA", float(t[0])))
    cru_from_sc = np.asarray(spiceypy.pxform("TGO_SPACECRAFT", "TGO_CASSIS_CRU", float(t[0])))
    frames = CassisFrames(cru_from_sc=cru_from_sc, fsa_from_tel=fsa_from_tel)
    return build_isd(center_et, t, np.array(pos), np.array(vel), np.array(q_tel),
                     np.array(q_body), np.array(sun), np.array(av_body), optics=optics,
                     image_lines=image_lines, image_samples=image_samples, frames=frames,
                     cassis=cassis)
