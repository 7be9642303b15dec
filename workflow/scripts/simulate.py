# Rule simulate: the raw telemetry of an embedded-sample observation (cassis_pipe.stages.simulate).
from cassis_pipe.stages.simulate import run_simulate
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_simulate(sm.params.out_dir, sm.wildcards.obs, size=sm.params.size,
                                seed=sm.params.seed, config_path=sm.params.sim_config,
                                kernels_dir=sm.params.kernels_dir, stage_json=sm.output.stage)
