# Real-data path: Bern level-1b framelets (XML + float32 DAT, I/F) of a sheet row with
# level1b_dir, taken as level-1 input: every exposure's filter framelets assembled into one
# detector frame, the Bern label values carried into its PDS4 label.


rule bern:
    input:
        level1b_dir,
    output:
        products=directory(f"{RESULTS}/{{obs}}/level1b/assembled"),
        stage=report(
            f"{RESULTS}/{{obs}}/level1b/bern.json",
            caption="../report/bern.rst",
            category="Validation",
            subcategory="{obs}",
        ),
    log:
        f"{LOGS}/{{obs}}/bern.log",
    benchmark:
        f"{BENCH}/{{obs}}/bern.tsv"
    threads: threads_for("bern")
    resources:
        mem_mb=mem("bern"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/bern.py"
