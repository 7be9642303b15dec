# Accuracy of the map products against the simulator truth (wrapper of level2.run_accuracy).
import _level2  # noqa: F401 - this checkout first on sys.path

from cassis_pipe.pipeline.level2 import run_accuracy
from cassis_pipe.pipeline.snake import stage_run

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    ctx["stage"] = run_accuracy(sm.input.map_json, sm.input.products, sm.params.truth_dir,
                                sm.input.rotation, sm.output[0])
