# Rule rotation: rotation-offset search (cassis_pipe.stages.rotation).
from cassis_pipe.stages._level1 import rule_level1
from cassis_pipe.stages.rotation import run_rotation
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    framelets, info = rule_level1(sm)
    ctx["stage"] = run_rotation(framelets, info, sm.output.plot, sm.output.stage)
