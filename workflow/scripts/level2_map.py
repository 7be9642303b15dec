# Map products: DAT + PDS4, GeoTIFF, PNG composites (wrapper of level2.run_map).
import _level2

from cassis_pipe.pipeline.level2 import run_map
from cassis_pipe.pipeline.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    framelets, info = _level2.level1(sm)
    ctx["stage"] = run_map(framelets, info, sm.input.rotation, sm.output.products,
                           sm.output.stage, pixel_m=float(sm.params.pixel_m),
                           preview_dir=sm.output.previews)
