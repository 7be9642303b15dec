# Map products: DAT + PDS4, GeoTIFF, PNG composites (wrapper of level2.run_map).
import _level2

from cassis_pipe.pipeline.level2 import run_map

sm = snakemake  # noqa: F821 - injected by Snakemake
with _level2.run(sm) as ctx:
    framelets, info = _level2.level1(sm)
    ctx["stage"] = run_map(framelets, info, sm.input.rotation, sm.output.products,
                           sm.output.stage, pixel_m=float(sm.params.pixel_m))
