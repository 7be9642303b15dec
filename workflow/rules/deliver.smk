# Archive: target retirement after map projection, per observation (docs/archive.md).
# NOT included by the Snakefile yet. To wire it in: `include: "workflow/rules/deliver.smk"`
# after level2.smk (it needs RESULTS, LOGS, BENCH, raw_dir() and threads_for()/mem() from
# common.smk, and the map_products outputs of level2.smk), and add
# expand(f"{RESULTS}/{{obs}}/level2/targets.json", obs=<observations with level 2>) to `all`.
# Settings: the `archive:` section of config/config.yaml (targets_db, coverage_fraction, smtp).
# The configuration file path is passed on with --configfile's first file, else the default.
# The PDS4 delivery itself stays an operator command (`cassis-pipe deliver OBS...`): it is an
# act with a date and a running delivery number, not a pure function of the results.

ARCHIVE_CONFIG = (workflow.overwrite_configfiles or ["config/config.yaml"])[0]


rule target_retirement:
    input:
        map_json=f"{RESULTS}/{{obs}}/level2/map.json",
        products=f"{RESULTS}/{{obs}}/level2/products",
    output:
        f"{RESULTS}/{{obs}}/level2/targets.json",
    params:
        raw_dir=lambda wildcards: raw_dir(wildcards.obs),
        config=ARCHIVE_CONFIG,
        results=RESULTS,
    log:
        f"{LOGS}/{{obs}}/target_retirement.log",
    benchmark:
        f"{BENCH}/{{obs}}/target_retirement.tsv"
    threads: threads_for("target_retirement", 1)
    resources:
        mem_mb=mem("target_retirement", 1500),
    conda:
        "../../environment.yml"
    shell:
        "python -m cassis_pipe targets --config {params.config} check {wildcards.obs} "
        "--results {params.results} --raw-dir {params.raw_dir} --json {output} > {log} 2>&1"
