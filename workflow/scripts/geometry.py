# Rule geometry: the observation's ISD from its provider (cassis_pipe.stages.geometry).
from cassis_pipe.stages.geometry import run_geometry
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_geometry(sm.wildcards.obs, sm.params.provider, sm.input[0],
                                sm.output.isd, sm.output.stage)
