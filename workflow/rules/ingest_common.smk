# Helpers of the downlink ingest rules (ingest.smk): configuration and the generated sheet.
# Needs common.smk (OBSERVATIONS, RESULTS, validate) included first.
import csv as _csv
from pathlib import Path as _Path

INGEST = config["ingest"]
INGEST_ROOT = INGEST["root"]
INGEST_DOWNLINK = INGEST["downlink"]
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
            row["geometry"] = _geometry_provider(row)
            OBSERVATIONS.setdefault(row["observation_id"], row)
            SHEET.setdefault(row["observation_id"], row)
            ids.append(row["observation_id"])
    return ids


# at parse time too, so that jobs started in another process (cluster) find the rows
merge_ingested_sheet(INGEST_SHEET)


def ingested_targets(wildcards):
    """After the checkpoint: the summary of every observation the generated sheet lists."""
    sheet = checkpoints.ingest.get().output.sheet
    return [f"{RESULTS}/{obs}/summary.json" for obs in merge_ingested_sheet(sheet)]
