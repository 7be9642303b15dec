# Helpers shared by every rule: configuration and observation sheet (validated), paths, targets.
import csv
from pathlib import Path

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")


def _read_sheet(path):
    """Rows of the observation sheet as dicts, validated; booleans parsed; ids unique."""
    rows = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(
            (line for line in fh if line.strip() and not line.startswith("#")), delimiter="\t"
        ):
            row = {k: (v or "").strip() for k, v in row.items()}
            row["simulate"] = row.get("simulate", "").lower() in ("true", "yes", "1")
            validate(row, schema="../schemas/observations.schema.yaml")
            if row["observation_id"] in rows:
                raise ValueError(f"duplicate observation id {row['observation_id']} in {path}")
            rows[row["observation_id"]] = row
    return rows


OBSERVATIONS = _read_sheet(config["observations"])
RESULTS = config.get("results_dir", "results")
LOGS = config.get("logs_dir", "logs")
BENCH = config.get("benchmarks_dir", "benchmarks/out")
CALDIR = config.get("calibration_dir", "resources/calibration")
SIMULATED = [o for o, row in OBSERVATIONS.items() if row["simulate"]]


wildcard_constraints:
    obs=r"MY[0-9]{2}_[0-9]{6}_[0-9]{3}_[0-9]",
    kind="science|tc|hk",


def raw_dir(obs):
    """Directory of an observation's raw telemetry (science.bin, tc.bin, hk.bin, geometry/)."""
    return OBSERVATIONS[obs]["raw_dir"]


def raw_file(wildcards, name):
    return f"{raw_dir(wildcards.obs)}/{name}"


def raw_science(wildcards):
    return raw_file(wildcards, "science.bin")


def raw_tc(wildcards):
    return raw_file(wildcards, "tc.bin")


def raw_hk(wildcards):
    return raw_file(wildcards, "hk.bin")


def raw_stream(wildcards):
    return raw_file(wildcards, f"{wildcards.kind}.bin")


def mem(rule_name, default=2000):
    """Memory request (MB) of a rule from config['mem_mb']."""
    return int(config.get("mem_mb", {}).get(rule_name, default))


def all_targets():
    """Every final product of every observation in the sheet."""
    return [f"{RESULTS}/{obs}/telemetry/summary.json" for obs in OBSERVATIONS]
