"""What every Snakemake script does around its stage call: numba threads from the rule's
``threads``, the stage's outcome and any traceback in the rule's log file."""

from __future__ import annotations

import contextlib
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cassis_pipe.parallel import set_threads


def _short(stage: dict[str, Any]) -> str:
    parts = [f"stage {stage.get('stage')}: ok={stage.get('ok')}"]
    fc = stage.get("file_counts")
    if isinstance(fc, dict):
        for c in fc.get("stages", [fc]):
            if "expected" in c:
                parts.append(f"{c.get('stage')} {c.get('distinct', c.get('produced'))}/"
                             f"{c['expected']}{'' if c.get('ok') else ' MISMATCH'}")
    return "; ".join(parts)


@contextlib.contextmanager
def stage_run(snakemake: Any) -> Iterator[dict[str, Any]]:
    """Context for one stage: yields a dict with ``threads`` (numba threads in force); put the
    stage JSON under ``"stage"`` to have its summary logged. Exceptions are logged, re-raised."""
    log = Path(snakemake.log[0])
    log.parent.mkdir(parents=True, exist_ok=True)
    ctx: dict[str, Any] = {"threads": set_threads(int(snakemake.threads))}
    with open(log, "w") as fh:
        fh.write(f"rule {snakemake.rule}: numba threads {ctx['threads']}\n")
        try:
            yield ctx
        except BaseException:
            fh.write(traceback.format_exc())
            raise
        if "stage" in ctx:
            fh.write(_short(ctx["stage"]) + "\n")
