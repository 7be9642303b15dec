# Stage 4: radiometric calibration -> level-1 I/F products and quick-looks (thin wrapper).
import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.pipeline.calibrate import run_calibrate
from cassis_pipe.pipeline.snake import stage_run

with stage_run(snakemake) as ctx:  # noqa: F821 - injected by Snakemake
    sm = snakemake  # noqa: F821
    ctx["stage"] = run_calibrate(
        sm.input.level0_json, sm.input.level0_dir, sm.input.tc, sm.params.calibration_dir,
        sm.output.products, sm.output.quicklook, sm.output.stage,
        geometry_dir=sm.params.geometry_dir, r_h_au=sm.params.heliocentric_au,
        straylight_order=sm.params.straylight_order, threads=ctx["threads"],
        quicklook_max_side=sm.params.quicklook_max_side, expand_binned=sm.params.expand_binned)
