# Rule offset_history: the rotation-offset history of the sheet's observations
# (cassis_pipe.stages.offset_history).
from cassis_pipe.stages.offset_history import run_offset_history
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_offset_history(list(sm.input), sm.output[0])
