"""The ``spice`` geometry provider: an observation's ISD built from a SPICE kernel set.

The source is a meta-kernel (sheet column ``kernels``, or the config's ``geometry.meta_kernel``;
for simulated rows the simulator's ``<raw_dir>/kernels/sim.tm``) listing the mission-wide
kernels (LSK, SCLK, PCK, FK, IK, IAK) and the observation's own (SPK, CK). The exposure start
times come from the observation's records:

* raw telemetry rows: the command plan of rule ``validate`` (``validation/plan.json``): every
  COMMANDED exposure of the observation's take-image (start time code + n x Step_exp), so the
  ISD covers exposures whose packets were lost too;
* Bern level-1b rows: the level-0 records rule ``bern`` writes (``level1b/level0.json``).

Time codes are converted with the pipeline's SCLK/LSK (the conversion the level-2 stages use
for their cameras), the exposure time is the commanded one. The ISD is sampled at every
exposure's image time (start + t_exp / 2, :func:`..spice_provider.isd_from_kernels`); a kernel
that does not cover one is a :class:`GeometryError` naming the observation, the kernel role and
the time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ...instrument.constants import DEFAULT_LSK, DEFAULT_SCLK
from ...labels.ids import uid_to_observation_id
from ...telemetry.timecode import timecode_to_et
from ..kernels.kernelset import KernelSetError, file_digest, kernel_set
from ..spice_provider import SpiceGeometryError, isd_from_kernels
from . import GeometryError, ProvidedGeometry


def _belongs(observation_id: str, uid: int) -> bool:
    try:
        return str(uid_to_observation_id(int(uid))) == observation_id
    except ValueError:
        return False


def exposure_timecodes(observation_id: str, times: Path) -> tuple[list[str], float]:
    """(exposure start time codes as 16 hex digits, exposure time s) of ``observation_id`` from
    a command plan (``plan.json``) or a level-0 record list (``products``)."""
    try:
        data = json.loads(Path(times).read_text())
    except (OSError, ValueError) as exc:
        raise GeometryError(f"observation {observation_id}: cannot read exposure times "
                            f"{times}: {exc}") from exc
    codes: list[str] = []
    t_exp: set[float] = set()
    if isinstance(data, dict) and "images" in data and "tables" in data:
        from ...level0.plan import CommandPlan

        try:
            plan = CommandPlan.from_dict(data)
        except (KeyError, TypeError, ValueError) as exc:
            raise GeometryError(f"observation {observation_id}: {times} is not a command plan: "
                                f"{exc!r}") from exc
        for im in plan.images:
            if not _belongs(observation_id, im.uid):
                continue
            if im.exposure_time_s is not None:
                t_exp.add(float(im.exposure_time_s))
            for k in range(im.num_exp):
                tc = im.exposure_timecode(k)
                if tc is not None:
                    codes.append(tc.hex())
    elif isinstance(data, dict) and "products" in data:
        from ...stages._io import PipelineError
        from ...stages.records import Level0Record

        for i, d in enumerate(data["products"]):
            try:
                r = Level0Record.from_dict(d, f"{times} product {i}")
            except PipelineError as exc:  # the record's schema error, named
                raise GeometryError(str(exc)) from exc
            if r.observation_id == observation_id or _belongs(observation_id, r.uid):
                codes.append(r.exposure_timecode)
                if r.t_exp_s is not None:
                    t_exp.add(float(r.t_exp_s))
    else:
        raise GeometryError(f"observation {observation_id}: {times} is neither a command plan "
                            "nor a list of level-0 records")
    codes = sorted(set(codes))
    if not codes:
        raise GeometryError(f"observation {observation_id}: no exposure of it in {times}")
    if len(t_exp) != 1:
        raise GeometryError(f"observation {observation_id}: {len(t_exp)} exposure times in "
                            f"{times} ({sorted(t_exp)}), expected one")
    return codes, t_exp.pop()


def provide_spice(observation_id: str, source: Path, *, times: str | Path,
                  cache_dir: str | Path, sclk: str | Path = DEFAULT_SCLK,
                  lsk: str | Path = DEFAULT_LSK, **_: Any) -> ProvidedGeometry:
    """The ISD of ``observation_id`` from the meta-kernel ``source`` at the exposures of
    ``times`` (command plan or level-0 records); transfer-format kernels are converted into
    ``cache_dir`` once. Every kernel loaded is named with its SHA-256 in the result."""
    codes, t_exp = exposure_timecodes(observation_id, Path(times))
    try:
        kset = kernel_set(Path(source), cache_dir)
    except KernelSetError as exc:
        raise GeometryError(f"observation {observation_id}: {exc}") from exc
    try:
        starts = np.array([timecode_to_et(bytes.fromhex(c), sclk, lsk) for c in codes])
        isd = isd_from_kernels(kset, starts, t_exp, observation_id,
                               cassis={"observation_id": observation_id,
                                       "exposure_time_s": t_exp,
                                       "exposure_start_ets": starts.tolist(),
                                       "meta_kernel": Path(source).name,
                                       "kernels": kset.describe()})
    except (SpiceGeometryError, ValueError) as exc:  # CoverageError names role and time
        raise GeometryError(str(exc)) from exc
    kernels = tuple((p.name, file_digest(p)) for p in (Path(source), *kset.sources))
    return ProvidedGeometry(isd, "spice", tuple(n for n, _ in kernels),
                            notes={"exposures": str(len(codes)),
                                   "image_time": "exposure start + t_exp / 2",
                                   "sun_abcorr": str(isd.cassis.get("sun_abcorr"))},
                            kernels=kernels)
