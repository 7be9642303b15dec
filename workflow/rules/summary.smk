# The per-observation validation summary (file counts of every stage, faults found).


rule summary:
    input:
        validate=rules.validate.output.stage,
        validation=rules.validate.output.report,
        validation_txt=rules.validate.output.text,
        level0=rules.level0.output.stage,
        calibrate=rules.calibrate.output.stage,
        hk=rules.hk.output.stage,
    output:
        json=f"{RESULTS}/{{obs}}/summary.json",
        txt=report(
            f"{RESULTS}/{{obs}}/summary.txt",
            caption="../report/summary.rst",
            category="Validation",
            subcategory="{obs}",
        ),
    log:
        f"{LOGS}/{{obs}}/summary.log",
    benchmark:
        f"{BENCH}/{{obs}}/summary.tsv"
    threads: threads_for("summary")
    resources:
        mem_mb=mem("summary"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/summary.py"
