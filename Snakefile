# cassis-pipe workflow: raw telemetry -> validated packets -> level 0 -> level 1 (calibrated)
# -> rotation-offset search, stitched strips, map-projected products, accuracy vs truth;
# Bern level-1b framelets as level-1 input (bern.smk).
# Usage: snakemake --cores all   (see docs/pipeline.md)


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/level0.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/level2_common.smk"
include: "workflow/rules/level2.smk"
include: "workflow/rules/bern.smk"


rule all:
    input:
        all_targets(),
        level2_targets(),
        bern_targets(),
    default_target: True
