"""The ``file`` geometry provider: an ISD written beforehand (by the simulator, or a flown ISD
in the layout of :mod:`cassis_pipe.geometry.isd`), read and checked, passed on byte for byte."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..isd import Isd
from . import GeometryError, ProvidedGeometry


def provide_file(observation_id: str, source: Path, **_: Any) -> ProvidedGeometry:
    """The ISD file ``source``; it must be named ``<observation_id>.json`` and parse as an
    ISD (:class:`GeometryError` otherwise). Other options (of other providers) are ignored."""
    source = Path(source)
    if source.stem != observation_id:
        raise GeometryError(f"observation {observation_id}: ISD {source.name} is of another "
                            f"observation ({source.stem})")
    try:
        raw = source.read_bytes()
        isd = Isd.from_dict(json.loads(raw))
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise GeometryError(f"observation {observation_id}: cannot read ISD {source}: "
                            f"{exc}") from exc
    return ProvidedGeometry(isd, "file", (source.name,), raw)
