"""Stage "geometry": an observation's camera geometry (ISD) from its provider
(:mod:`cassis_pipe.geometry.providers`), written where every later stage reads it
(``results/<obs>/geometry/<obs>.json``, a declared input of their rules), with the stage JSON
naming the provider and its sources.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cassis_pipe.geometry.isd import write_isd
from cassis_pipe.geometry.providers import GeometryError, providers
from cassis_pipe.stages._io import PipelineError, write_json


def run_geometry(observation_id: str, provider: str, source: str | Path, out_isd: str | Path,
                 stage_json: str | Path, **options: Any) -> dict[str, Any]:
    """Build ``observation_id``'s ISD with ``provider`` from ``source`` and write it to
    ``out_isd`` (a file provider's ISD byte for byte). ``options`` go to the provider (spice:
    ``times`` = plan.json or level-0 records, ``cache_dir``, ``sclk``, ``lsk``). Returns (and
    writes) the stage JSON; for the spice provider it lists every kernel (name, sha256)."""
    known = providers()
    if provider not in known:
        raise PipelineError(f"observation {observation_id}: unknown geometry provider "
                            f"{provider!r} (known: {', '.join(sorted(known))})")
    try:
        got = known[provider](observation_id, Path(source), **options)
    except GeometryError as exc:
        raise PipelineError(str(exc)) from exc
    out = Path(out_isd)
    out.parent.mkdir(parents=True, exist_ok=True)
    if got.raw is not None:
        out.write_bytes(got.raw)
    else:
        write_isd(got.isd, out)
    isd = got.isd
    times = isd.instrument_pointing.times
    stage = {"stage": "geometry", "observation_id": observation_id, "provider": got.provider,
             "sources": list(got.sources), "notes": dict(sorted(got.notes.items())),
             "isd": {"file": out.name, "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
                     "center_et": isd.center_ephemeris_time,
                     "pointing_span_et": [float(times.min()), float(times.max())]},
             "ok": True}
    if got.kernels:
        stage["kernels"] = [{"name": n, "sha256": h} for n, h in got.kernels]
    write_json(stage_json, stage)
    return stage
