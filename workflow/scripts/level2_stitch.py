# Per-filter stitched strips (thin wrapper of cassis_pipe.pipeline.level2.run_stitch).
import _level2

from cassis_pipe.pipeline.level2 import run_stitch
from cassis_pipe.pipeline.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    framelets, info = _level2.level1(sm)
    ctx["stage"] = run_stitch(framelets, info, sm.input.rotation, sm.output.products,
                              sm.output.stage)
