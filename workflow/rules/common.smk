# Helpers shared by every rule: configuration and observation sheet (validated; the config
# schema is the one source of defaults), paths, targets, input functions (no lambdas in rules).
import csv
from pathlib import Path

from snakemake.utils import validate

from cassis_pipe.geometry.kernels.kernelset import expand_kernels
from cassis_pipe.labels.ids import OBSERVATION_ID_PATTERN
from cassis_pipe.sim.kernels import CK_NAME, SPK_NAME, TEXT_KERNELS


validate(config, schema="../schemas/config.schema.yaml")

REPO = Path(workflow.basedir)


def repo_path(path):
    """A configured path: as given if it exists from the working directory, else from the repo."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return str(p)
    return str(REPO / p)


def _geometry_provider(row):
    """The sheet's geometry provider, or its default: spice for simulated rows (the simulator's
    kernels), for Bern rows with kernels and for raw rows with kernels (sheet column kernels or
    the config's geometry.meta_kernel) and no ISD file; file where
    <raw_dir>/geometry/<observation id>.json exists; else none."""
    if "geometry" in row:
        return row["geometry"]
    if row["simulate"]:
        return "spice"
    has_kernels = bool(row.get("kernels") or config["geometry"].get("meta_kernel"))
    if "raw_dir" in row:
        isd = Path(row["raw_dir"], "geometry", f"{row['observation_id']}.json")
        if isd.is_file():
            return "file"
    return "spice" if has_kernels else "none"


def _read_sheet(path):
    """Rows of the observation sheet as dicts (empty cells dropped), validated; booleans
    parsed; ids unique; the geometry provider resolved."""
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
            row["geometry"] = _geometry_provider(row)
            rows[row["observation_id"]] = row
    return rows


SHEET = _read_sheet(repo_path(config["observations"]))
# rows starting from raw telemetry, and rows starting from Bern level-1b framelets (bern.smk)
OBSERVATIONS = {o: row for o, row in SHEET.items() if "raw_dir" in row}
BERN_L1B = {o: row for o, row in SHEET.items() if "level1b_dir" in row}
# rows with geometry: level 2 is planned for them (raw telemetry and Bern level-1b rows)
MAPPED = [o for o, row in SHEET.items() if row["geometry"] != "none"]
RESULTS = config["results_dir"]
LOGS = config["logs_dir"]
BENCH = config["benchmarks_dir"]
SIM = config["simulation"]
SIMROOT = SIM["raw_root"]
SIMULATED = [o for o, row in OBSERVATIONS.items() if row["simulate"]]
SCLK = repo_path(config["kernels"]["sclk"])
LSK = repo_path(config["kernels"]["lsk"])
KERNELS_DIR = str(Path(SCLK).parent)  # the simulator wants its SCLK and LSK in one directory
LEVEL0 = config["level0"]
CALIB = config["calibration"]
EXPAND_BINNED = None if CALIB["expand_binned"] == "none" else CALIB["expand_binned"]
LEVEL2 = config["level2"]
ARCHIVE = config["archive"]
HK = config["hk"]
KERNEL_CACHE = config["geometry"]["kernel_cache"]  # from the working directory
# the kernels rule simulate writes next to its meta-kernel sim.tm (cassis_pipe.sim.kernels)
SIM_KERNEL_FILES = [*TEXT_KERNELS, SPK_NAME, CK_NAME]

for _obs in SIMULATED:
    if Path(OBSERVATIONS[_obs]["raw_dir"]) != Path(SIMROOT, _obs):
        raise ValueError(
            f"observation {_obs}: simulate=true needs raw_dir {SIMROOT}/{_obs} "
            f"(simulation.raw_root/<observation id>), not {OBSERVATIONS[_obs]['raw_dir']}"
        )


wildcard_constraints:
    obs=OBSERVATION_ID_PATTERN,


def raw_dir(obs):
    """Directory of an observation's raw telemetry (science.bin, tc.bin, hk.bin, geometry/)."""
    return str(Path(OBSERVATIONS[obs]["raw_dir"]))



def raw_science(wildcards):
    return f"{raw_dir(wildcards.obs)}/science.bin"


def raw_tc(wildcards):
    return f"{raw_dir(wildcards.obs)}/tc.bin"


def raw_hk(wildcards):
    """hk.bin of an observation: always for simulated rows (the simulation writes it), else if
    it exists (its absence is reported by rule hk, not fatal)."""
    path = Path(raw_dir(wildcards.obs), "hk.bin")
    if OBSERVATIONS[wildcards.obs]["simulate"] or path.is_file():
        return str(path)
    return []


def meta_kernel(obs):
    """The meta-kernel of an observation with spice geometry: the simulator's
    <raw_dir>/kernels/sim.tm for simulated rows, else the sheet column kernels, else the
    config's geometry.meta_kernel."""
    row = SHEET[obs]
    if row["simulate"] and not row.get("kernels"):
        return f"{raw_dir(obs)}/kernels/sim.tm"
    path = row.get("kernels") or config["geometry"].get("meta_kernel")
    if not path:
        raise ValueError(f"observation {obs}: geometry=spice needs a meta-kernel (sheet column "
                         "kernels or config geometry.meta_kernel)")
    return repo_path(path)


def kernel_files(obs):
    """Every kernel file the observation's meta-kernel names (nested meta-kernels resolved):
    declared inputs of rule geometry, so new kernels rerun it and everything downstream. For a
    simulated row: the files rule simulate declares (the same before and after it ran, so the
    set of inputs does not change between runs)."""
    row = SHEET[obs]
    if row["simulate"] and not row.get("kernels"):
        return [f"{raw_dir(obs)}/kernels/{name}" for name in SIM_KERNEL_FILES]
    return [str(p) for p in expand_kernels([meta_kernel(obs)])]


def geometry_inputs(wildcards):
    """Inputs of the geometry rule by provider. file = the ISD file in the raw directory; spice =
    the meta-kernel (``source``), every kernel it names (``kernels``) and the exposure times
    (``times``: the command plan of rule validate, or the level-0 records of rule bern)."""
    obs = wildcards.obs
    row = SHEET[obs]
    if row["geometry"] == "file":
        return {"source": f"{raw_dir(obs)}/geometry/{obs}.json"}
    if row["geometry"] == "spice":
        times = (f"{RESULTS}/{obs}/validation/plan.json" if "raw_dir" in row
                 else f"{RESULTS}/{obs}/level1b/level0.json")
        return {"source": meta_kernel(obs), "kernels": kernel_files(obs), "times": times}
    raise ValueError(f"observation {obs}: no geometry (sheet geometry={row['geometry']})")


def level0_records(wildcards):
    """The level-0 records of an observation for the level-2 rules: rule level0's, or for a
    Bern level-1b row rule bern's."""
    if wildcards.obs in BERN_L1B:
        return f"{RESULTS}/{wildcards.obs}/level1b/level0.json"
    return f"{RESULTS}/{wildcards.obs}/level0/level0.json"


def level1_records(wildcards):
    """The level-1 records (calibrate.json, or rule bern's for a Bern row)."""
    if wildcards.obs in BERN_L1B:
        return f"{RESULTS}/{wildcards.obs}/level1b/calibrate.json"
    return f"{RESULTS}/{wildcards.obs}/level1/calibrate.json"


def level1_products(wildcards):
    """The level-1 I/F framelet products (rule calibrate's, or rule bern's for a Bern row)."""
    if wildcards.obs in BERN_L1B:
        return f"{RESULTS}/{wildcards.obs}/level1b/framelets"
    return f"{RESULTS}/{wildcards.obs}/level1/framelets"


def geometry_isd(wildcards):
    """The geometry stage's ISD of an observation with geometry, else nothing (level 1 then
    takes the Sun distance from the sheet)."""
    if OBSERVATIONS[wildcards.obs]["geometry"] == "none":
        return []
    return f"{RESULTS}/{wildcards.obs}/geometry/{wildcards.obs}.json"


def sim_config(wildcards):
    """Simulator YAML of a simulated observation (sheet column sim_config, else the config's)."""
    path = OBSERVATIONS[wildcards.obs].get("sim_config") or SIM.get("config", "")
    return [repo_path(path)] if path else []


def first_sim_config(wildcards):
    """The simulator YAML path, or None."""
    paths = sim_config(wildcards)
    return paths[0] if paths else None


def calibration_dir(wildcards):
    """Version directory of an observation's calibration files (sheet column calibration_dir,
    else <raw_dir>/calibration for simulated rows, else the config's calibration_dir)."""
    row = OBSERVATIONS[wildcards.obs]
    base = row.get("calibration_dir") or (
        f"{raw_dir(wildcards.obs)}/calibration" if row["simulate"] else config["calibration_dir"]
    )
    return f"{base}/{row['calibration_version']}"


def calibration_input(wildcards):
    """What the calibration files come from: the simulation, or the manifest on disk."""
    row = OBSERVATIONS[wildcards.obs]
    if row["simulate"] and not row.get("calibration_dir"):
        return f"{raw_dir(wildcards.obs)}/simulate.json"
    return f"{calibration_dir(wildcards)}/manifest.json"


def heliocentric_au(wildcards):
    """Fallback Sun distance (AU) from the sheet, or None (then the ISD gives it)."""
    value = OBSERVATIONS[wildcards.obs].get("heliocentric_au", "")
    return float(value) if value else None


def truth_json(wildcards):
    """The simulator's truth summary of a simulated observation (its truth/ directory holds
    the truth maps the accuracy stage reads next to it)."""
    return f"{raw_dir(wildcards.obs)}/truth/truth.json"


def level1b_dir(wildcards):
    """Directory of a Bern level-1b row's framelets (XML + DAT): from the working directory if
    it exists there, else from the repository (the sample row's real exposure)."""
    return repo_path(BERN_L1B[wildcards.obs]["level1b_dir"])


def threads_for(rule_name):
    """Threads of a rule from config['threads'] (1 when not given)."""
    return int(config["threads"].get(rule_name, 1))


def mem(rule_name):
    """Memory request (MB) of a rule from config['mem_mb'] (2000 when not given)."""
    return int(config["mem_mb"].get(rule_name, 2000))


# Observation ids the simulate rule may produce (a pattern that never matches when none).
SIMULATED_RE = "|".join(SIMULATED) if SIMULATED else "(?!x)x"


def all_targets():
    """Every final product of every observation in the sheet: the summaries, the level-2
    stage JSONs of observations with geometry (accuracy for simulated ones), the offset
    history, and the assembled Bern level-1b rows."""
    out = [f"{RESULTS}/{obs}/summary.json" for obs in OBSERVATIONS]
    out += [f"{RESULTS}/{obs}/level2/map.json" for obs in MAPPED]
    out += [f"{RESULTS}/{obs}/level1c/stitch.json" for obs in MAPPED]
    out += [f"{RESULTS}/{obs}/level2/accuracy.json" for obs in SIMULATED if obs in MAPPED]
    out += [f"{RESULTS}/{obs}/level2/targets.json" for obs in MAPPED]
    out += [LEVEL2["offset_history"]] if MAPPED else []
    out += [f"{RESULTS}/{obs}/level1b/bern.json" for obs in BERN_L1B]
    return out


def rotation_stages(wildcards):
    """Rotation stage JSON of every observation with geometry (rule offset_history)."""
    return [f"{RESULTS}/{obs}/level2/rotation.json" for obs in MAPPED]


def geometry_provider(wildcards):
    """The observation's geometry provider (sheet column geometry, resolved)."""
    return SHEET[wildcards.obs]["geometry"]
