"""What every Snakemake script does around its stage call: numba threads from the rule's
``threads``, the stage's outcome and any traceback in the rule's log file, and on the console
(stderr) one ``WARNING <obs>: <cause>`` line per entry of the stage JSON's ``problems`` (data
lost or refused) and one ``ERROR <obs>: <cause>`` line when the stage cannot run."""

from __future__ import annotations

import contextlib
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cassis_pipe.parallel import set_threads


def console_lines(observation: str, stage: dict[str, Any]) -> list[str]:
    """The one-line console warnings of a stage JSON: one per ``problems`` entry; the summary
    (which gathers every stage's problems) says how many and where to read them."""
    problems = [str(p) for p in stage.get("problems", [])]
    if stage.get("stage") == "summary":
        return [f"WARNING {observation}: PROBLEMS FOUND ({len(problems)}), see summary.txt"
                ] if problems else []
    return [f"WARNING {observation}: {stage.get('stage')}: {p}" for p in problems]


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
        obs = str(getattr(snakemake.wildcards, "obs", "") or snakemake.rule)
        try:
            yield ctx
        except BaseException as exc:
            fh.write(traceback.format_exc())
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            print(f"ERROR {obs}: {snakemake.rule}: {first}", file=sys.stderr, flush=True)
            raise
        if "stage" in ctx:
            fh.write(_short(ctx["stage"]) + "\n")
            for line in console_lines(obs, ctx["stage"]):
                fh.write(line + "\n")
                print(line, file=sys.stderr, flush=True)
