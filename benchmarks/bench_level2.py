"""Issue #6 benchmark: a full-size simulated observation through the whole Snakemake workflow.

    python -m cassis_pipe simulate --size full --seed 1 --out /tmp/perf_raw   # once
    python benchmarks/bench_level2.py --raw /tmp/perf_raw --work /tmp/perf_wd [--runs 2]

Writes a work directory (config + sheet with ``simulate=false`` pointing at the raw data, the
accuracy target added explicitly because the workflow only plans it for simulated rows), runs
``snakemake --cores 2`` ``--runs`` times (results, logs and benchmarks deleted before each run,
so the later runs have warm numba caches; dirty pages flushed with ``sync`` first, so no run
pays for the previous one's disk writes) and prints wall time (s) and peak RSS (MB) per rule
from ``benchmarks/out/<obs>/*.tsv`` of the last run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OBS = "MY35_006000_010_0"
COLS = ("observation_id", "raw_dir", "calibration_version", "simulate", "calibration_dir",
        "heliocentric_au", "sim_config", "description")


def write_workdir(work: Path, raw: Path) -> None:
    """config.yaml (the repository's, with the sheet replaced) and obs.tsv in ``work``."""
    work.mkdir(parents=True, exist_ok=True)
    cfg = (REPO / "config" / "config.yaml").read_text().splitlines()
    cfg = ["observations: obs.tsv" if line.startswith("observations:") else line for line in cfg]
    (work / "config.yaml").write_text("\n".join(cfg) + "\n")
    row = (OBS, str(raw), "sim-v1", "false", str(raw / "calibration"), "", "", "benchmark")
    (work / "obs.tsv").write_text("\t".join(COLS) + "\n" + "\t".join(row) + "\n")


def run(work: Path) -> float:
    """One clean workflow run; returns its wall time (s)."""
    for d in ("results", "logs", "benchmarks/out"):
        shutil.rmtree(work / d, ignore_errors=True)
    # the previous run's ~3 GB still being written back to disk would slow this run down
    os.sync()
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
           str(work), "--configfile", "config.yaml", "--cores", "2", "all",
           f"results/{OBS}/level2/accuracy.json", "-q"]
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=work)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", type=Path, required=True, help="simulator output directory")
    ap.add_argument("--work", type=Path, required=True, help="scratch work directory")
    ap.add_argument("--runs", type=int, default=2)
    a = ap.parse_args()
    write_workdir(a.work, a.raw.resolve())
    for i in range(a.runs):
        print(f"run {i + 1}: {run(a.work):.1f} s wall")
    print("rule            wall_s  max_rss_MB")
    for tsv in sorted((a.work / "benchmarks" / "out" / OBS).glob("*.tsv")):
        fields = tsv.read_text().splitlines()[-1].split("\t")
        print(f"{tsv.stem:<15} {float(fields[0]):7.1f} {fields[2]:>10}")


if __name__ == "__main__":
    main()
