# cassis-pipe workflow, part 1: raw telemetry -> validated packets -> level 0 -> level 1.
# Usage: snakemake --cores all   (see docs/pipeline.md)


configfile: "config/config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/level0.smk"
include: "workflow/rules/calibrate.smk"
include: "workflow/rules/summary.smk"


rule all:
    input:
        all_targets(),
    default_target: True
