# Stages 2-3: reassembly, JPEG-LS decompression, level-0 raw products (thin wrapper).
import _repo  # noqa: F401 - this checkout first on sys.path (workflow/scripts/_repo.py)

from cassis_pipe.pipeline.level0 import run_level0
from cassis_pipe.pipeline.snake import stage_run

with stage_run(snakemake) as ctx:  # noqa: F821 - injected by Snakemake
    sm = snakemake  # noqa: F821
    ctx["stage"] = run_level0(sm.input.science, sm.input.tc, sm.output.products,
                              sm.output.stage, threads=ctx["threads"], sclk=sm.params.sclk,
                              lsk=sm.params.lsk, raw_ratio_ids=sm.params.raw_ratio_ids,
                              time_tolerance_s=sm.params.time_tolerance_s)
