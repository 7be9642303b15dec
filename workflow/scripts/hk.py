# Rule hk: housekeeping read and checked (cassis_pipe.stages.hk).
from cassis_pipe.stages.hk import run_hk
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_hk(sm.input.get("hk") or None, sm.output.stage,
                          observation_id=sm.wildcards.obs,
                          gap_threshold_s=float(sm.params.gap_threshold_s),
                          sclk=sm.params.sclk, lsk=sm.params.lsk)
