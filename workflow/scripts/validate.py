# Stage 1: command plan, pseudo packets, packet validation (thin wrapper).
import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.pipeline.level0 import run_validate
from cassis_pipe.pipeline.snake import stage_run

with stage_run(snakemake) as ctx:  # noqa: F821 - injected by Snakemake
    sm = snakemake  # noqa: F821
    ctx["stage"] = run_validate(sm.input.science, sm.input.tc, sm.params.out_dir,
                                raw_ratio_ids=sm.params.raw_ratio_ids,
                                time_tolerance_s=sm.params.time_tolerance_s)
