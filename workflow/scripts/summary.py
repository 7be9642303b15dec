# Rule summary: per-observation validation summary from every stage JSON
# (cassis_pipe.stages.summary).
from cassis_pipe.stages.snake import stage_run
from cassis_pipe.stages.summary import run_summary

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_summary(sm.wildcards.obs, sm.input.validate, sm.input.validation,
                               sm.input.validation_txt, sm.input.level0, sm.input.calibrate,
                               sm.output.json, sm.output.txt, hk_json=sm.input.hk)
