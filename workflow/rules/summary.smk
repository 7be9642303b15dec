# Stage 5: the per-observation validation summary (file counts of every stage, faults found).


rule summary:
    input:
        validate=f"{RESULTS}/{{obs}}/validation/validate.json",
        validation=f"{RESULTS}/{{obs}}/validation/validation.json",
        validation_txt=f"{RESULTS}/{{obs}}/validation/validation.txt",
        level0=f"{RESULTS}/{{obs}}/level0/level0.json",
        calibrate=f"{RESULTS}/{{obs}}/level1/calibrate.json",
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
    threads: threads_for("summary", 1)
    resources:
        mem_mb=mem("summary", 500),
    conda:
        "../../environment.yml"
    script:
        "../scripts/summary.py"
