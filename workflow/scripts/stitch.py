# Rule stitch: per-filter stitched strips (cassis_pipe.stages.stitch).
from cassis_pipe.stages._level1 import load_level1
from cassis_pipe.stages.snake import stage_run
from cassis_pipe.stages.stitch import run_stitch

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    framelets, info = load_level1(sm.wildcards.obs, sm.input.level0, sm.input.calibrate,
                                  sm.input.level1_dir, sm.input.isd, sclk=sm.params.sclk,
                                  lsk=sm.params.lsk)
    ctx["stage"] = run_stitch(framelets, info, sm.input.rotation, sm.output.products,
                              sm.output.stage)
