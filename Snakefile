# cassis-pipe workflow: raw telemetry -> validated packets -> level 0 -> level 1 (calibrated)
# -> rotation-offset search, stitched strips, map-projected products, accuracy vs truth;
# geometry as a stage of its own; Bern level-1b framelets as level-1 input (bern.smk).
# Usage: snakemake --cores all   (see docs/workflow.md)
from snakemake.utils import min_version

min_version("8.0")


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/geometry.smk"
include: "workflow/rules/level0.smk"
include: "workflow/rules/hk.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/level2.smk"
include: "workflow/rules/archive.smk"
include: "workflow/rules/bern.smk"
include: "workflow/rules/ingest.smk"


rule all:
    input:
        all_targets(),
    default_target: True
