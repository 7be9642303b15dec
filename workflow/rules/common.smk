# Helpers shared by every rule: configuration and observation sheet (validated), paths, targets,
# input functions (no lambdas in the rules).
import csv
from pathlib import Path

from snakemake.utils import validate


validate(config, schema="../schemas/config.schema.yaml")

REPO = Path(workflow.basedir)

def repo_path(path):
    """A configured path: as given if it exists from the working directory, else from the repo."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return str(p)
    return str(REPO / p)


def _read_sheet(path):
    """Rows of the observation sheet as dicts (empty cells dropped), validated; booleans
    parsed; ids unique."""
    rows = {}
    with open(path, newline="") as fh:
        for row in csv.DictReader(
            (line for line in fh if line.strip() and not line.startswith("#")), delimiter="\t"
        ):
            row = {k: (v or "").strip() for k, v in row.items() if k}
            row = {k: v for k, v in row.items() if v}
            row["simulate"] = row.get("simulate", "").lower() in ("true", "yes", "1")
            validate(row, schema="../schemas/observations.schema.yaml")
            if row["simulate"] and "raw_dir" not in row:
                raise ValueError(f"{row['observation_id']}: simulate=true needs a raw_dir")
            if row["observation_id"] in rows:
                raise ValueError(f"duplicate observation id {row['observation_id']} in {path}")
            rows[row["observation_id"]] = row
    return rows


SHEET = _read_sheet(repo_path(config["observations"]))
# rows starting from raw telemetry, and rows starting from Bern level-1b framelets (bern.smk)
OBSERVATIONS = {o: row for o, row in SHEET.items() if "raw_dir" in row}
BERN_L1B = {o: row for o, row in SHEET.items() if "level1b_dir" in row}
RESULTS = config.get("results_dir", "results")
LOGS = config.get("logs_dir", "logs")
BENCH = config.get("benchmarks_dir", "benchmarks/out")
CALDIR = config.get("calibration_dir", "resources/calibration")
SIM = config["simulation"]
SIMROOT = SIM.get("raw_root", "resources/sample/raw")
SIMULATED = [o for o, row in OBSERVATIONS.items() if row["simulate"]]
SCLK = repo_path(config["kernels"]["sclk"])
LSK = repo_path(config["kernels"]["lsk"])
KERNELS_DIR = str(Path(SCLK).parent)  # the simulator wants its SCLK and LSK in one directory
LEVEL0 = config.get("level0", {})
CALIB = config.get("calibration", {})
_EXPAND = CALIB.get("expand_binned", "bilinear")
EXPAND_BINNED = None if _EXPAND == "none" else _EXPAND

for _obs in SIMULATED:
    if Path(OBSERVATIONS[_obs]["raw_dir"]) != Path(SIMROOT, _obs):
        raise ValueError(
            f"observation {_obs}: simulate=true needs raw_dir {SIMROOT}/{_obs} "
            f"(simulation.raw_root/<observation id>), not {OBSERVATIONS[_obs]['raw_dir']}"
        )


wildcard_constraints:
    obs=r"(MY[0-9]{2}|CRUS)_[0-9]{6}_[0-9]{3}_[0-9]",


def raw_dir(obs):
    """Directory of an observation's raw telemetry (science.bin, tc.bin, hk.bin, geometry/)."""
    return str(Path(OBSERVATIONS[obs]["raw_dir"]))


def raw_file(wildcards, name):
    return f"{raw_dir(wildcards.obs)}/{name}"


def raw_science(wildcards):
    return raw_file(wildcards, "science.bin")


def raw_tc(wildcards):
    return raw_file(wildcards, "tc.bin")


def raw_hk(wildcards):
    return raw_file(wildcards, "hk.bin")


def geometry_dir(wildcards):
    return raw_file(wildcards, "geometry")


def sim_config(wildcards):
    """Simulator YAML of a simulated observation (sheet column sim_config, else the config's)."""
    path = OBSERVATIONS[wildcards.obs].get("sim_config") or SIM.get("config", "")
    return [repo_path(path)] if path else []


def calibration_dir(wildcards):
    """Version directory of an observation's calibration files (sheet column calibration_dir,
    else <raw_dir>/calibration for simulated rows, else the config's calibration_dir)."""
    row = OBSERVATIONS[wildcards.obs]
    base = row.get("calibration_dir") or (
        f"{raw_dir(wildcards.obs)}/calibration" if row["simulate"] else CALDIR
    )
    return f"{base}/{row['calibration_version']}"


def calibration_input(wildcards):
    """What the calibration files come from: the simulation, or the manifest on disk."""
    row = OBSERVATIONS[wildcards.obs]
    if row["simulate"] and not row.get("calibration_dir"):
        return raw_file(wildcards, "simulate.json")
    return f"{calibration_dir(wildcards)}/manifest.json"


def heliocentric_au(wildcards):
    """Fallback Sun distance (AU) from the sheet, or None (then the ISD gives it)."""
    value = OBSERVATIONS[wildcards.obs].get("heliocentric_au", "")
    return float(value) if value else None


def threads_for(rule_name, default=1):
    """Threads of a rule from config['threads']."""
    return int(config.get("threads", {}).get(rule_name, default))


def mem(rule_name, default=2000):
    """Memory request (MB) of a rule from config['mem_mb']."""
    return int(config.get("mem_mb", {}).get(rule_name, default))


def all_targets():
    """Every final product of every observation in the sheet (the validation summaries)."""
    return [f"{RESULTS}/{obs}/summary.json" for obs in OBSERVATIONS]


# Observation ids the simulate rule may produce (a pattern that never matches when none).
SIMULATED_RE = "|".join(SIMULATED) if SIMULATED else "(?!x)x"


def first_sim_config(wildcards):
    """The simulator YAML path, or None."""
    paths = sim_config(wildcards)
    return paths[0] if paths else None


def level1b_dir(wildcards):
    """Directory of a Bern level-1b row's framelets (XML + DAT): from the working directory if
    it exists there, else from the repository (the sample row's real exposure)."""
    return repo_path(BERN_L1B[wildcards.obs]["level1b_dir"])


def bern_targets():
    """Stage JSON of every Bern level-1b row (the assembled exposures, bern.smk)."""
    return [f"{RESULTS}/{obs}/level1b/bern.json" for obs in BERN_L1B]
