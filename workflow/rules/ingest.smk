# Downlink ingest (docs/operations.md): the checkpoint `ingest` reads new delivery files from the
# downlink folder into <ingest root>/<obs>/{tc,science,hk}.bin and writes the sheet of ready,
# not yet processed observations; `snakemake ingested` then processes every one of them.
# Self-contained: needs common.smk (OBSERVATIONS, RESULTS, LOGS, LEVEL0, mem) included first.
import csv as _csv
from pathlib import Path as _Path

INGEST = config.get("ingest", {})
INGEST_ROOT = INGEST.get("root", "ingest")
INGEST_DOWNLINK = INGEST.get("downlink", "downlink")
INGEST_SHEET = f"{INGEST_ROOT}/observations.tsv"
_INGEST_SCHEMA = str(_Path(str(workflow.current_basedir)).parent / "schemas" /
                     "observations.schema.yaml")


def merge_ingested_sheet(path):
    """Add the rows of the generated sheet to OBSERVATIONS (rows of the configured sheet win);
    returns the ids it lists."""
    if not _Path(path).is_file():
        return []
    ids = []
    with open(path, newline="") as fh:
        for row in _csv.DictReader(fh, delimiter="\t"):
            row = {k: (v or "").strip() for k, v in row.items() if k}
            row = {k: v for k, v in row.items() if v}
            row["simulate"] = False
            validate(row, schema=_INGEST_SCHEMA)
            OBSERVATIONS.setdefault(row["observation_id"], row)
            ids.append(row["observation_id"])
    return ids


# at parse time too, so that jobs started in another process (cluster) find the rows
merge_ingested_sheet(INGEST_SHEET)


checkpoint ingest:
    input:
        INGEST_DOWNLINK,
    output:
        sheet=INGEST_SHEET,
        report=f"{INGEST_ROOT}/ingest_report.json",
    params:
        root=INGEST_ROOT,
        downlink=INGEST_DOWNLINK,
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


def ingested_targets(wildcards):
    """After the checkpoint: the summary of every observation the generated sheet lists."""
    sheet = checkpoints.ingest.get().output.sheet
    return [f"{RESULTS}/{obs}/summary.json" for obs in merge_ingested_sheet(sheet)]


rule ingested:
    input:
        ingested_targets,
