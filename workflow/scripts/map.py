# Rule map: map products (DAT + PDS4, GeoTIFF, PNG composites) (cassis_pipe.stages.map).
from cassis_pipe.products.geometry_block import geometry_sources
from cassis_pipe.stages._level1 import rule_level1
from cassis_pipe.stages.map import run_map
from cassis_pipe.stages.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    framelets, info = rule_level1(sm)
    ctx["stage"] = run_map(framelets, info, sm.input.rotation, sm.output.products,
                           sm.output.stage, pixel_m=float(sm.params.pixel_m),
                           preview_dir=sm.output.previews,
                           kernels=geometry_sources(sm.input.isd))
