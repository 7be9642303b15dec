# Rule level0: reassembly, JPEG-LS decompression, level-0 products (cassis_pipe.stages.level0).
from cassis_pipe.stages.level0 import run_level0
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_level0(sm.input.science, sm.input.plan, sm.output.products,
                              sm.output.stage, observation_id=sm.wildcards.obs,
                              threads=ctx["threads"], sclk=sm.params.sclk, lsk=sm.params.lsk,
                              raw_ratio_ids=sm.params.raw_ratio_ids,
                              time_tolerance_s=sm.params.time_tolerance_s)
