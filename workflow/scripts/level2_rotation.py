# Rotation-offset search (thin wrapper of cassis_pipe.pipeline.level2.run_rotation).
import _level2

from cassis_pipe.pipeline.level2 import run_rotation
from cassis_pipe.pipeline.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    framelets, info = _level2.level1(sm)
    ctx["stage"] = run_rotation(framelets, info, sm.input.tc, sm.params.history,
                                sm.output.plot, sm.output.stage)
