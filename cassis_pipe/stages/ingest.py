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

from cassis_pipe.instrument.constants import DEFAULT_LSK, DEFAULT_SCLK
from cassis_pipe.ops.ingest import IngestConfig, ingest
from cassis_pipe.ops.ledger import open_ledger
from cassis_pipe.stages._io import PipelineError, write_json

log = logging.getLogger(__name__)


def new_frames(root: Path, deliveries: Sequence[str]) -> tuple[bytes, bytes]:
    """(HK frames, TC frames) the ledger of ingest area ``root`` took from ``deliveries`` (each
    unique frame once, HK in time order, TC in delivery order)."""
    if not deliveries:
        return b"", b""
    db = open_ledger(root)
    try:
        marks = ",".join("?" * len(deliveries))
        hk = b"".join(r[0] for r in db.execute(
            f"SELECT frame FROM hk WHERE delivery IN ({marks}) ORDER BY ticks, type",
            tuple(deliveries)))
        tc = b"".join(r[0] for r in db.execute(
            f"SELECT frame FROM tc WHERE delivery IN ({marks}) ORDER BY delivery, file_offset",
            tuple(deliveries)))
    finally:
        db.close()
    return hk, tc


def load_housekeeping(database: str, root: Path, deliveries: Sequence[str], sclk: str | Path,
                      lsk: str | Path) -> dict[str, Any]:
    """Load the HK and TC frames the run took into the housekeeping database (SQLite path or
    PostgreSQL URL; a frame already stored is not stored again). Returns the load reports."""
    from cassis_pipe.ops.clock import Clock
    from cassis_pipe.ops.hkdb import load_hk, load_tc, open_db

    hk, tc = new_frames(root, deliveries)
    with open_db(database) as db:
        reports = [load_hk(db, hk, Clock(sclk, lsk), "ingest"), load_tc(db, tc, "ingest")]
    return {"database": Path(database).name if "://" not in database else "server",
            "hk_frames_new": reports[0].get("inserted"), "tc_frames_new": reports[1].get(
                "inserted")}


def run_ingest(downlink: str | Path, sheet: str | Path, report_json: str | Path, *,
               wait_s: float, calibration_version: str, calibration_dir: str = "",
               geometry_dir: str = "", heliocentric_au: float = 0.0, hk_margin_s: float = 5.0,
               results_dir: str | Path = "results", raw_ratio_ids: Sequence[int] = (0,),
               time_tolerance_s: float = 1e-4, hk_database: str = "",
               sclk: str | Path = DEFAULT_SCLK, lsk: str | Path = DEFAULT_LSK
               ) -> dict[str, Any]:
    """One ingest run into the folder of ``sheet`` (the ingest root); writes ``report_json``
    and returns the report (``"stage": "ingest"``). With ``hk_database``, the HK and TC frames
    the run took go into the housekeeping database. Empty strings / 0 mean "not
    configured"."""
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
    if hk_database:
        names = [d["name"] for d in report["deliveries"]]
        report["housekeeping"] = load_housekeeping(hk_database, cfg.root, names, sclk, lsk)
    write_json(report_json, report)
    if not report["ok"]:
        raise PipelineError(f"byte accounting does not balance: {report['accounting']}")
    return report
