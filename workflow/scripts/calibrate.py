# Rule calibrate: level-1 I/F products and quick-looks (cassis_pipe.stages.calibrate).
from pathlib import Path

from cassis_pipe.stages.calibrate import run_calibrate
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    isd = sm.input.get("isd")
    ctx["stage"] = run_calibrate(
        sm.input.level0, sm.input.level0_dir, sm.input.plan, sm.params.calibration_dir,
        sm.output.products, sm.output.quicklook, sm.output.stage,
        observation_id=sm.wildcards.obs, geometry_dir=Path(isd).parent if isd else None,
        r_h_au=sm.params.heliocentric_au, straylight_order=sm.params.straylight_order,
        threads=ctx["threads"], quicklook_max_side=sm.params.quicklook_max_side,
        expand_binned=sm.params.expand_binned, sclk=sm.params.sclk, lsk=sm.params.lsk)
