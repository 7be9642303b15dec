# Downlink ingest (docs/operations.md): the checkpoint `ingest` reads new delivery files from the
# downlink folder into <ingest root>/<obs>/{tc,science,hk}.bin and writes the sheet of ready,
# not yet processed observations; `snakemake ingested` then processes every one of them.
# Include after common.smk.


include: "ingest_common.smk"


checkpoint ingest:
    input:
        INGEST_DOWNLINK,
    output:
        sheet=INGEST_SHEET,
        report=f"{INGEST_ROOT}/ingest_report.json",
    params:
        wait_s=INGEST["wait_s"],
        calibration_version=INGEST["calibration_version"],
        calibration_dir=INGEST["calibration_dir"],
        geometry_dir=INGEST["geometry_dir"],
        heliocentric_au=INGEST["heliocentric_au"],
        hk_margin_s=INGEST["hk_margin_s"],
        results_dir=RESULTS,
        raw_ratio_ids=LEVEL0["raw_ratio_ids"],
        time_tolerance_s=LEVEL0["time_tolerance_s"],
        hk_database=INGEST["hk_database"],
        sclk=SCLK,
        lsk=LSK,
    log:
        f"{LOGS}/ingest.log",
    benchmark:
        f"{BENCH}/ingest.tsv"
    threads: threads_for("ingest")
    resources:
        mem_mb=mem("ingest"),
    conda:
        "../../environment.yml"
    script:
        "../scripts/ingest.py"


rule ingested:
    input:
        ingested_targets,
