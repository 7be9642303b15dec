# Command plan and packet validation (the one parse of tc.bin); reassembly and decompression
# -> level 0.


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
        raw_ratio_ids=LEVEL0["raw_ratio_ids"],
        time_tolerance_s=LEVEL0["time_tolerance_s"],
    log:
        f"{LOGS}/{{obs}}/validate.log",
    benchmark:
        f"{BENCH}/{{obs}}/validate.tsv"
    threads: threads_for("validate")
    resources:
        mem_mb=mem("validate"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/validate.py"


rule level0:
    input:
        science=raw_science,
        plan=rules.validate.output.plan,
    output:
        products=directory(f"{RESULTS}/{{obs}}/level0/framelets"),
        stage=f"{RESULTS}/{{obs}}/level0/level0.json",
    params:
        sclk=SCLK,
        lsk=LSK,
        raw_ratio_ids=LEVEL0["raw_ratio_ids"],
        time_tolerance_s=LEVEL0["time_tolerance_s"],
    log:
        f"{LOGS}/{{obs}}/level0.log",
    benchmark:
        f"{BENCH}/{{obs}}/level0.tsv"
    threads: threads_for("level0")
    resources:
        mem_mb=mem("level0"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/level0.py"
