# Rule bern: Bern level-1b framelets -> assembled detector-frame products
# (cassis_pipe.stages.bern).
from cassis_pipe.stages.bern import run_bern
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_bern(sm.input[0], sm.output.products, sm.output.stage, sm.wildcards.obs,
                            (sm.output.framelets, sm.output.level0, sm.output.calibrate))
