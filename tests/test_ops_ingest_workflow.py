"""The ingest checkpoint run by Snakemake (workflow/rules/ingest.smk) on a small simulated
downlink: `snakemake ingested` ingests, then processes every ready observation; a second run
with new ingest finds them processed and runs nothing else."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_workflow import PROFILE, REPO, write_config

from cassis_pipe.sim.downlink import DEFAULT_RUNS, simulate_downlink


def write_workdir(d: Path, src: Path) -> None:
    """Downlink, calibration and ISDs of ``src``; an empty configured sheet; config.yaml with
    an ``ingest`` section; a Snakefile including the workflow and ingest.smk."""
    shutil.copytree(src / "downlink", d / "downlink")
    shutil.copytree(src / "calibration", d / "cal")
    shutil.copytree(src / "geometry", d / "geometry")
    write_config(d, [], ingest={"root": "ingest", "downlink": "downlink", "wait_s": 0,
                                "geometry_dir": "geometry", "calibration_version": "sim-v1"})
    (d / "Snakefile").write_text(f'include: "{REPO / "Snakefile"}"\n'
                                 f'include: "{REPO / "workflow" / "rules" / "ingest.smk"}"\n')


def snakemake(d: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(d / "Snakefile"), "--directory", str(d),
           "--workflow-profile", str(PROFILE), "--configfile", "config.yaml", "--cores", "2",
           *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=d)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    src = tmp_path_factory.mktemp("dl")
    truth = simulate_downlink(src, seed=3, runs=(DEFAULT_RUNS[0], DEFAULT_RUNS[2]))
    d = tmp_path_factory.mktemp("wf")
    write_workdir(d, src)
    return d, truth


def test_checkpoint_processes_ready_observations(workdir: tuple[Path, dict]) -> None:
    d, truth = workdir
    r = snakemake(d, "ingested")
    assert r.returncode == 0, r.stderr[-3000:]
    for obs, t in truth["observations"].items():
        summary = d / "results" / obs / "summary.json"
        assert summary.is_file(), obs
        val = json.loads((d / "results" / obs / "validation" / "validation.json").read_text())
        missing = [{k: m[k] for k in ("uid", "window", "sequence")}
                   for m in val["missing_framelets"]]
        assert missing == t["missing"], obs
    stamps = {p: p.stat().st_mtime_ns for p in (d / "results").rglob("summary.json")}
    # next cycle: the ingest runs again, finds both processed, nothing else runs
    r = snakemake(d, "--forcerun", "ingest", "ingested")
    assert r.returncode == 0, r.stderr[-3000:]
    out = r.stdout + r.stderr
    assert "rule ingest:" in out or "checkpoint ingest:" in out
    assert "rule level0:" not in out and "rule summary:" not in out
    assert {p: p.stat().st_mtime_ns for p in (d / "results").rglob("summary.json")} == stamps
    assert (d / "ingest" / "observations.tsv").read_text().count("\n") == 1
