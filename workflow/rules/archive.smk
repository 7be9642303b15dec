# Archive: target retirement after map projection, per observation with level 2 (docs/archive.md;
# settings: the archive section of config/config.yaml). The PDS4 delivery itself stays an
# operator command (`cassis-pipe deliver OBS...`): it is an act with a date and a running
# delivery number, not a pure function of the results.


rule targets:
    input:
        map=rules.map.output.stage,
        products=rules.map.output.products,
        isd=rules.geometry.output.isd,
    output:
        f"{RESULTS}/{{obs}}/level2/targets.json",
    params:
        targets_db=ARCHIVE["targets_db"],
        fraction=ARCHIVE["coverage_fraction"],
        smtp=ARCHIVE["smtp"],
    log:
        f"{LOGS}/{{obs}}/targets.log",
    benchmark:
        f"{BENCH}/{{obs}}/targets.tsv"
    threads: threads_for("targets")
    resources:
        mem_mb=mem("targets"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/targets.py"
