"""Geometry providers: where an observation's camera geometry (an :class:`~..isd.Isd`) comes
from. Each provider is a function ``(observation_id, source, **options) -> ProvidedGeometry``; the
geometry stage (:mod:`cassis_pipe.stages.geometry`) picks one by name (sheet column
``geometry``) and writes the ISD every later stage reads.

* ``file``: an ISD file (the simulator's ``geometry/<observation id>.json``, or a flown ISD in
  the same layout), :mod:`.file`;
* ``spice``: built from a SPICE kernel set (meta-kernel) at the exposure times of the command
  plan or the level-0 records, :mod:`.spice`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..isd import Isd


class GeometryError(RuntimeError):
    """The geometry of an observation cannot be provided (named source, reason)."""


@dataclass(frozen=True)
class ProvidedGeometry:
    """An observation's ISD with where it came from."""

    isd: Isd
    provider: str
    sources: tuple[str, ...]
    """File names the ISD was built from (the ISD file, or the SPICE kernels)."""
    raw: bytes | None = None
    """The ISD's bytes when the provider read a file (written unchanged), else None."""
    notes: dict[str, str] = field(default_factory=dict)
    kernels: tuple[tuple[str, str], ...] = ()
    """(file name, SHA-256) of every SPICE kernel used, meta-kernel first (spice provider)."""


Provider = Callable[..., ProvidedGeometry]


def providers() -> dict[str, Provider]:
    """The registered providers by name."""
    from .file import provide_file
    from .spice import provide_spice

    return {"file": provide_file, "spice": provide_spice}
