# Rule validate: command plan, pseudo packets, packet validation (cassis_pipe.stages.validate).
from pathlib import Path

from cassis_pipe.stages.snake import stage_run
from cassis_pipe.stages.validate import run_validate

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_validate(sm.input.science, sm.input.tc, Path(sm.output.stage).parent,
                                observation_id=sm.wildcards.obs,
                                raw_ratio_ids=sm.params.raw_ratio_ids,
                                time_tolerance_s=sm.params.time_tolerance_s)
