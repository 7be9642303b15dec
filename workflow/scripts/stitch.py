# Rule stitch: per-filter stitched strips (cassis_pipe.stages.stitch).
from cassis_pipe.stages._level1 import rule_level1
from cassis_pipe.stages.snake import stage_run
from cassis_pipe.stages.stitch import run_stitch

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    framelets, info = rule_level1(sm)
    ctx["stage"] = run_stitch(framelets, info, sm.input.rotation, sm.output.products,
                              sm.output.stage)
