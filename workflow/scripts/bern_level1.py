# Bern level-1b framelets -> assembled detector-frame products (wrapper of pipeline.bern).
import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.pipeline.bern import assemble_directory
from cassis_pipe.pipeline.common import write_json
from cassis_pipe.pipeline.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = assemble_directory(sm.input[0], sm.output.products, sm.wildcards.obs)
    write_json(sm.output.stage, ctx["stage"])
