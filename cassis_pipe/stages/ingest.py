"""Stage "ingest": the downlink ingest of the workflow's checkpoint (docs/operations.md): new
delivery files of the downlink folder routed into observations, the sheet of ready ones
written, and the run's report (``ingest_report.json``) with the byte accounting. The ingest
itself lives in :mod:`cassis_pipe.ops.ingest`; a report whose accounting does not balance stops
the rule (bytes would have been lost)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cassis_pipe.ops.ingest import IngestConfig, ingest
from cassis_pipe.stages._io import PipelineError, write_json

log = logging.getLogger(__name__)


def run_ingest(downlink: str | Path, sheet: str | Path, report_json: str | Path, *,
               wait_s: float, calibration_version: str, calibration_dir: str = "",
               geometry_dir: str = "", heliocentric_au: float = 0.0, hk_margin_s: float = 5.0,
               results_dir: str | Path = "results", raw_ratio_ids: Sequence[int] = (0,),
               time_tolerance_s: float = 1e-4) -> dict[str, Any]:
    """One ingest run into the folder of ``sheet`` (the ingest root); writes ``report_json``
    and returns the report (``"stage": "ingest"``). Empty strings / 0 mean "not configured"."""
    cfg = IngestConfig(
        downlink=Path(downlink), root=Path(sheet).parent, wait_s=float(wait_s),
        calibration_version=str(calibration_version),
        calibration_dir=str(calibration_dir) or None,
        geometry_dir=Path(geometry_dir) if geometry_dir else None,
        heliocentric_au=float(heliocentric_au) or None, results_dir=Path(results_dir),
        raw_ratio_ids=tuple(raw_ratio_ids), time_tolerance_s=float(time_tolerance_s),
        hk_margin_s=float(hk_margin_s))
    report = ingest(cfg)
    log.info("ingest run %s: %d deliveries, new %s, sheet %s", report["run"],
             len(report["deliveries"]), report["new"], report["sheet"])
    report = {"stage": "ingest", **report, "ok": bool(report["accounting"]["balanced"])}
    write_json(report_json, report)
    if not report["ok"]:
        raise PipelineError(f"byte accounting does not balance: {report['accounting']}")
    return report
