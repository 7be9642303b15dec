# Downlink ingest checkpoint: new deliveries -> observations + generated sheet (thin wrapper).
import json
import logging
from pathlib import Path

import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.ops.ingest import IngestConfig, ingest

sm = snakemake  # noqa: F821 - injected by Snakemake
p = sm.params
logging.basicConfig(filename=str(sm.log[0]), level=logging.INFO,
                    format="%(asctime)s %(levelname)s %(message)s")
cfg = IngestConfig(
    downlink=Path(sm.input[0]), root=Path(sm.output.sheet).parent, wait_s=float(p.wait_s),
    calibration_version=str(p.calibration_version),
    calibration_dir=str(p.calibration_dir) or None,
    geometry_dir=Path(p.geometry_dir) if p.geometry_dir else None,
    heliocentric_au=float(p.heliocentric_au) or None, results_dir=Path(p.results_dir),
    raw_ratio_ids=tuple(p.raw_ratio_ids), time_tolerance_s=float(p.time_tolerance_s),
    hk_margin_s=float(p.hk_margin_s))
report = ingest(cfg)
logging.info("ingest run %s: %d deliveries, new %s, sheet %s", report["run"],
             len(report["deliveries"]), report["new"], report["sheet"])
Path(sm.output.report).write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")
if not report["accounting"]["balanced"]:
    raise SystemExit(f"byte accounting does not balance: {report['accounting']}")
