# Rule targets: target retirement after map projection (cassis_pipe.stages.targets).
from pathlib import Path

from cassis_pipe.stages.snake import stage_run
from cassis_pipe.stages.targets import run_targets

sm = snakemake  # noqa: F821 - injected by Snakemake
with stage_run(sm) as ctx:
    p = sm.params
    results = Path(sm.input.map).parents[2]  # results/<obs>/level2/map.json
    geometry_root = Path(sm.input.isd).parents[1]  # <root>/geometry/<obs>.json
    ctx["stage"] = run_targets(sm.wildcards.obs, results, geometry_root, p.targets_db,
                               sm.output[0],
                               fraction=p.fraction, smtp_host=p.smtp["host"],
                               smtp_port=p.smtp["port"], sender=p.smtp["sender"])
