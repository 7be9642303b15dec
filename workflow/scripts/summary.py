# Stage 5: per-observation validation summary from every stage JSON (thin wrapper).
import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.pipeline.snake import stage_run
from cassis_pipe.pipeline.summary import run_summary

with stage_run(snakemake) as ctx:  # noqa: F821 - injected by Snakemake
    sm = snakemake  # noqa: F821
    run_summary(sm.wildcards.obs, sm.input.validate, sm.input.validation,
                sm.input.validation_txt, sm.input.level0, sm.input.calibrate,
                sm.output.json, sm.output.txt)
