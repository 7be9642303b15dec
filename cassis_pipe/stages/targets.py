"""Stage "targets": target retirement after map projection (docs/archive.md). The map
products of one observation are checked against the open suggested targets
(:func:`cassis_pipe.archive.retire.evaluate`: coverage of each target's region under its
requested conditions); a target covered to the configured fraction is retired with the
observation recorded, and its suggester gets one e-mail
(:func:`~cassis_pipe.archive.retire.send_pending`). Reprocessing never sends a second one. An
unreachable SMTP server leaves the e-mails pending for the next run and is reported, not
raised."""

from __future__ import annotations

import smtplib
from pathlib import Path
from typing import Any

from cassis_pipe.archive.retire import evaluate, send_pending
from cassis_pipe.archive.targets import TargetError, connect
from cassis_pipe.stages._io import PipelineError, write_json


def run_targets(observation_id: str, results_dir: str | Path, geometry_root: str | Path,
                targets_db: str | Path, out_json: str | Path, *, fraction: float,
                smtp_host: str, smtp_port: int, sender: str) -> dict[str, Any]:
    """Check ``observation_id``'s map products against the open targets of ``targets_db``,
    retire and announce; writes and returns the stage JSON. ``geometry_root`` holds
    ``geometry/<observation_id>.json`` (the geometry stage's ISD, or a raw directory)."""
    try:
        conn = connect(Path(targets_db))
    except (OSError, ValueError, TargetError) as exc:
        raise PipelineError(f"targets store {targets_db}: {exc}") from exc
    problems: list[str] = []
    try:
        try:
            res = evaluate(conn, Path(results_dir) / observation_id, Path(geometry_root),
                           fraction)
        except (TargetError, FileNotFoundError) as exc:
            raise PipelineError(f"observation {observation_id}: {exc}") from exc
        try:
            sent = send_pending(conn, Path(results_dir), smtp_host, smtp_port, sender)
        except (OSError, smtplib.SMTPException) as exc:
            sent = []
            problems.append(f"e-mail not sent ({exc}); the retirements stay pending for the "
                            "next run")
    finally:
        conn.close()
    stage = {"stage": "targets", "observation_id": observation_id, "fraction": fraction,
             "evaluations": [{"target_id": e.target_id, "coverage": round(e.coverage, 4),
                              "retired": e.retired, "reasons": list(e.reasons)} for e in res],
             "retired": sorted(e.target_id for e in res if e.retired), "emailed": sent,
             "problems": problems, "ok": not problems}
    write_json(out_json, stage)
    return stage
