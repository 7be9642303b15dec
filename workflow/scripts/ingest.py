# Checkpoint ingest: new deliveries -> observations + generated sheet (cassis_pipe.stages.ingest).
from cassis_pipe.stages.ingest import run_ingest
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    p = sm.params
    ctx["stage"] = run_ingest(
        sm.input[0], sm.output.sheet, sm.output.report, wait_s=p.wait_s,
        calibration_version=p.calibration_version, calibration_dir=p.calibration_dir,
        geometry_dir=p.geometry_dir, heliocentric_au=p.heliocentric_au,
        hk_margin_s=p.hk_margin_s, results_dir=p.results_dir, raw_ratio_ids=p.raw_ratio_ids,
        time_tolerance_s=p.time_tolerance_s, hk_database=p.hk_database, sclk=p.sclk,
        lsk=p.lsk)
