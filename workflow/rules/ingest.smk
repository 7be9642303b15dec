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
        wait_s=INGEST.get("wait_s", 21600.0),
        calibration_version=INGEST.get("calibration_version", "sim-v1"),
        calibration_dir=INGEST.get("calibration_dir", ""),
        geometry_dir=INGEST.get("geometry_dir", ""),
        heliocentric_au=INGEST.get("heliocentric_au", 0.0),
        hk_margin_s=INGEST.get("hk_margin_s", 5.0),
        results_dir=RESULTS,
        raw_ratio_ids=LEVEL0.get("raw_ratio_ids", [0]),
        time_tolerance_s=LEVEL0.get("time_tolerance_s", 1e-4),
    log:
        f"{LOGS}/ingest.log",
    threads: 1
    resources:
        mem_mb=mem("ingest", 2000),
    conda:
        "../../environment.yml"
    script:
        "../scripts/ingest.py"


rule ingested:
    input:
        ingested_targets,
