# Real-data path: Bern level-1b framelets (XML + float32 DAT, I/F) of a sheet row with
# level1b_dir, taken as level-1 input: every exposure's filter framelets assembled into one
# detector frame, the Bern label values carried into its PDS4 label; every framelet also as a
# PSA-named level-1 product with the typed level-0/level-1 records the level-2 rules read.


rule bern:
    input:
        level1b_dir,
    output:
        products=directory(f"{RESULTS}/{{obs}}/level1b/assembled"),
        framelets=directory(f"{RESULTS}/{{obs}}/level1b/framelets"),
        level0=f"{RESULTS}/{{obs}}/level1b/level0.json",
        calibrate=f"{RESULTS}/{{obs}}/level1b/calibrate.json",
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
