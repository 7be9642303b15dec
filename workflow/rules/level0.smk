# Stages 1-3: command plan and packet validation; reassembly and decompression -> level 0.


rule validate:
    input:
        science=raw_science,
        tc=raw_tc,
    output:
        plan=f"{RESULTS}/{{obs}}/validation/plan.json",
        report=f"{RESULTS}/{{obs}}/validation/validation.json",
        text=f"{RESULTS}/{{obs}}/validation/validation.txt",
        stage=f"{RESULTS}/{{obs}}/validation/validate.json",
    params:
        out_dir=f"{RESULTS}/{{obs}}/validation",
        raw_ratio_ids=LEVEL0.get("raw_ratio_ids", [0]),
        time_tolerance_s=LEVEL0.get("time_tolerance_s", 1e-4),
    log:
        f"{LOGS}/{{obs}}/validate.log",
    benchmark:
        f"{BENCH}/{{obs}}/validate.tsv"
    threads: threads_for("validate", 1)
    resources:
        mem_mb=mem("validate", 1000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/validate.py"


rule level0:
    input:
        science=raw_science,
        tc=raw_tc,
    output:
        products=directory(f"{RESULTS}/{{obs}}/level0/framelets"),
        stage=f"{RESULTS}/{{obs}}/level0/level0.json",
    params:
        sclk=SCLK,
        lsk=LSK,
        raw_ratio_ids=LEVEL0.get("raw_ratio_ids", [0]),
        time_tolerance_s=LEVEL0.get("time_tolerance_s", 1e-4),
    log:
        f"{LOGS}/{{obs}}/level0.log",
    benchmark:
        f"{BENCH}/{{obs}}/level0.tsv"
    threads: threads_for("level0", 2)
    resources:
        mem_mb=mem("level0", 2000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/level0.py"
