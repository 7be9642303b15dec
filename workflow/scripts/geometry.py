# Rule geometry: the observation's ISD from its provider (cassis_pipe.stages.geometry).
from cassis_pipe.stages.geometry import run_geometry
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    options = {}
    if sm.params.provider == "spice":
        options = {"times": sm.input.times, "cache_dir": sm.params.cache_dir,
                   "sclk": sm.params.sclk, "lsk": sm.params.lsk}
    ctx["stage"] = run_geometry(sm.wildcards.obs, sm.params.provider, sm.input.source,
                                sm.output.isd, sm.output.stage, **options)
