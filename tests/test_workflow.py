"""The Snakemake workflow run as users run it (subprocess): lint, configuration validation,
end-to-end on a tiny synthetic observation, --cores 1 vs --cores 2, kill and rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cassis_pipe.sim.synthetic.raw import write_synthetic_raw

REPO = Path(__file__).resolve().parents[1]
OBS = "MY34_002002_211_2"  # UID of level0.synth observations
PROFILE = REPO / "workflow" / "profiles" / "default"


#: part-1 final target: the synthetic observation has no geometry, so level 2 is not asked for
PART1 = f"results/{OBS}/summary.json"


def snakemake_cmd(workdir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
            str(workdir), "--workflow-profile", str(PROFILE), *args]


def snakemake(workdir: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(snakemake_cmd(workdir, *args), capture_output=True, text=True,
                          timeout=timeout, cwd=workdir)


def write_config(d: Path, sheet_rows: list[dict[str, str]], **extra: object) -> Path:
    """config.yaml + obs.tsv in ``d`` (kernels from the repository)."""
    cols = ["observation_id", "raw_dir", "calibration_version", "simulate", "calibration_dir",
            "heliocentric_au", "sim_config", "description"]
    lines = ["\t".join(cols)] + ["\t".join(r.get(c, "") for c in cols) for r in sheet_rows]
    (d / "obs.tsv").write_text("\n".join(lines) + "\n")
    k = REPO / "tests" / "data" / "kernels"
    cfg = {"observations": "obs.tsv", "results_dir": "results", "logs_dir": "logs",
           "benchmarks_dir": "bench", "calibration_dir": "cal",
           "kernels": {"sclk": str(k / "em16_tgo_step_20190823.tsc"),
                       "lsk": str(k / "naif0012.tls")},
           "simulation": {"size": "small", "seed": 1, "raw_root": "raw"},
           "threads": {"level0": 2, "calibrate": 2, "simulate": 2},
           **extra}
    (d / "config.yaml").write_text(json.dumps(cfg, indent=1))  # JSON is YAML
    return d / "config.yaml"


def synthetic_workdir(d: Path, drop: tuple = ()) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    write_synthetic_raw(d / "data" / OBS, drop=drop)
    write_config(d, [{"observation_id": OBS, "raw_dir": f"data/{OBS}",
                      "calibration_version": "synth-v1", "simulate": "false",
                      "calibration_dir": f"data/{OBS}/calibration", "heliocentric_au": "1.5"}])
    return d


def tree(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A complete run with --cores 2."""
    d = synthetic_workdir(tmp_path_factory.mktemp("clean"))
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2", PART1)
    assert r.returncode == 0, r.stderr[-3000:]
    return d


def test_lint_is_clean() -> None:
    r = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO,
                       capture_output=True, text=True, timeout=300)
    out = r.stdout + r.stderr
    assert r.returncode == 0 and "Lints for" not in out, out[-3000:]


def test_default_config_simulates_the_sample(tmp_path: Path) -> None:
    """Fresh clone: the sample's raw data are absent, so the plan starts with simulate."""
    r = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--directory", str(tmp_path),
                        "-s", str(REPO / "Snakefile"), "--configfile",
                        str(REPO / "config" / "config.yaml"), "--config",
                        f"observations={REPO / 'config' / 'observations.tsv'}"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    for rule in ("simulate", "validate", "level0", "calibrate", "summary", "all"):
        assert f"rule {rule}:" in out, rule
    assert "resources/sample/raw/MY35_006000_010_0/science.bin" in out


@pytest.mark.parametrize("obs,raw", [("../../etc", "data/x"), ("MY34_002002_211_2", "../x"),
                                     ("MY34_002002_211_2/..", "data/x")])
def test_sheet_rejects_path_traversal(tmp_path: Path, obs: str, raw: str) -> None:
    write_config(tmp_path, [{"observation_id": obs, "raw_dir": raw,
                             "calibration_version": "v1", "simulate": "false"}])
    r = snakemake(tmp_path, "--configfile", "config.yaml", "-n")
    out = r.stdout + r.stderr
    assert r.returncode != 0 and "ValidationError" in out and "does not match" in out, out[-2000:]


def test_end_to_end_products_and_stage_jsons(clean: Path) -> None:
    res = clean / "results" / OBS
    summary = json.loads((res / "summary.json").read_text())
    assert summary["ok"], (res / "summary.txt").read_text()
    assert [s["produced"] for s in summary["stages"]] == [18, 18, 18, 18, 18, 12, 12, 4]
    l0 = json.loads((res / "level0" / "level0.json").read_text())
    assert len(l0["products"]) == 18 and not l0["not_produced"] and not l0["stray_files"]
    assert len(list((res / "level0" / "framelets").glob("cas_raw_sc_*.dat"))) == 18
    assert len(list((res / "level1" / "framelets").glob("cas_cal_sc_*.xml"))) == 12
    assert len(list((res / "level1" / "quicklook").glob("*.jpg"))) == 4
    for rule in ("validate", "level0", "calibrate", "summary"):
        assert (clean / "logs" / OBS / f"{rule}.log").is_file()
        assert (clean / "bench" / OBS / f"{rule}.tsv").is_file()
    assert "numba threads 2" in (clean / "logs" / OBS / "level0.log").read_text()


def test_per_observation_target(tmp_path: Path) -> None:
    d = synthetic_workdir(tmp_path)
    target = f"results/{OBS}/level0/level0.json"
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "1", target)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (d / target).is_file() and not (d / "results" / OBS / "level1").exists()


def test_one_core_gives_identical_outputs(clean: Path, tmp_path: Path) -> None:
    d = synthetic_workdir(tmp_path)
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "1", PART1)
    assert r.returncode == 0, r.stderr[-3000:]
    assert tree(d / "results") == tree(clean / "results")


def test_kill_mid_run_then_rerun_completes_identically(clean: Path, tmp_path: Path) -> None:
    d = synthetic_workdir(tmp_path)
    proc = subprocess.Popen(snakemake_cmd(d, "--configfile", "config.yaml", "--cores", "1", PART1),
                            cwd=d, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    level0_log = d / "logs" / OBS / "level0.log"
    deadline = time.monotonic() + 300
    while not level0_log.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, "snakemake finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)  # snakemake and its running job, as a crash would
    proc.wait()
    assert not (d / "results" / OBS / "summary.json").exists()
    # a killed Snakemake leaves its lock: unlock, then rerun (incomplete outputs are redone)
    assert snakemake(d, "--configfile", "config.yaml", "--unlock").returncode == 0
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2", PART1)
    assert r.returncode == 0, r.stderr[-3000:]
    assert tree(d / "results") == tree(clean / "results")


@pytest.mark.slow  # also covered by test_pipeline.py and the simulator's faults (workflow_sim)
def test_dropped_framelet_reported_and_the_rest_produced(tmp_path: Path) -> None:
    lost = (272536398, 3, 1)  # BLU, exposure 1
    d = synthetic_workdir(tmp_path, drop=(lost,))
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2", PART1)
    assert r.returncode == 0, r.stderr[-3000:]
    s = json.loads((d / "results" / OBS / "summary.json").read_text())
    assert not s["ok"]
    for row in s["stages"][:-1]:
        assert [(m["window"], m["sequence"]) for m in row["missing"]] == [(3, 1)], row["stage"]
    assert [x["produced"] for x in s["stages"]] == [17, 17, 17, 17, 17, 11, 11, 4]
