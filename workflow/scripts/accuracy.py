# Rule accuracy: map products against the simulator's truth (cassis_pipe.stages.accuracy).
from pathlib import Path

from cassis_pipe.stages.accuracy import run_accuracy
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_accuracy(sm.input.map, sm.input.products, Path(sm.input.truth).parent,
                                sm.input.rotation, sm.output[0],
                                observation_id=sm.wildcards.obs)
