# Simulate the raw telemetry of an embedded-sample observation (thin wrapper).
import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.pipeline.simulate import run_simulate
from cassis_pipe.pipeline.snake import stage_run

with stage_run(snakemake) as ctx:  # noqa: F821 - injected by Snakemake
    sm = snakemake  # noqa: F821
    ctx["stage"] = run_simulate(sm.params.out_dir, sm.wildcards.obs, size=sm.params.size,
                                seed=sm.params.seed, config_path=sm.params.sim_config,
                                kernels_dir=sm.params.kernels_dir,
                                stage_json=sm.output.stage)
