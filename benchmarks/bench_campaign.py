"""Issue #15 benchmark: a campaign of N full-size observations (distinct simulated orbits)
through the whole workflow, and the floor F of one observation, measured in one run.

    python benchmarks/bench_campaign.py --n 2 --work /tmp/campaign [--cores 2]

1. Simulates N full-size observations (40 exposures x 4 filters; orbit number 6000 + i, target
   latitude 10 + 7 i deg) once into ``<work>/raw`` (kept between runs; not measured).
2. One observation alone through ``snakemake --cores C`` (all products and accuracy.json):
   its wall time W1.
3. The floor F of that observation, right after: CharLS decoding every JPEG-LS stream of its
   science.bin on one thread (tests/support/charls_ref) + writing as many bytes as its products
   into files of the same sizes (fsync'd). Prints W1 / F.
4. All N observations in one ``snakemake --cores C`` run: wall, CPU seconds (user + sys of
   every process) per observation, peak RSS per rule (benchmark files) and bytes written.
Results, logs and benchmark files are deleted before each workflow run; dirty pages are
flushed (``sync``) so that no run pays for the previous one's writes.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

COLS = ("observation_id", "raw_dir", "calibration_version", "simulate", "calibration_dir",
        "description")


def simulate(raw: Path, n: int, seed: int) -> list[str]:
    """N full-size observations in ``raw/<obs>/`` (reused when present); their ids."""
    from cassis_pipe.sim.config import make_config
    from cassis_pipe.sim.writer import simulate as run_sim

    ids = []
    for i in range(n):
        marker = raw / f"run{i}.id"
        if marker.is_file():
            ids.append(marker.read_text().strip())
            continue
        tmp = raw / f"tmp{i}"
        cfg = make_config("full", seed + i, {"orbit": {"orbit_number": 6000 + i,
                                                       "target_lat_deg": 10.0 + 7.0 * i}})
        made = run_sim(cfg, tmp)["images"][0]["observation_id"]
        shutil.rmtree(raw / made, ignore_errors=True)
        tmp.rename(raw / made)
        marker.write_text(made + "\n")
        ids.append(made)
    return ids


def workdir(work: Path, raw: Path, ids: list[str]) -> None:
    """config.yaml (the repository's, sheet replaced) and obs.tsv in ``work``."""
    cfg = (REPO / "config" / "config.yaml").read_text().splitlines()
    cfg = ["observations: obs.tsv" if line.startswith("observations:") else line for line in cfg]
    (work / "config.yaml").write_text("\n".join(cfg) + "\n")
    rows = ["\t".join(COLS)] + ["\t".join((o, str(raw / o), "sim-v1", "false",
                                           str(raw / o / "calibration"), "campaign"))
                                for o in ids]
    (work / "obs.tsv").write_text("\n".join(rows) + "\n")


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run(work: Path, ids: list[str], cores: int) -> tuple[float, float]:
    """One clean workflow run of ``ids`` (all products + accuracy): (wall s, CPU s)."""
    for d in ("results", "logs", "benchmarks/out"):
        shutil.rmtree(work / d, ignore_errors=True)
    os.sync()
    targets = []
    for o in ids:
        targets += [f"results/{o}/summary.json", f"results/{o}/level2/map.json",
                    f"results/{o}/level1c/stitch.json", f"results/{o}/level2/accuracy.json"]
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory",
           str(work), "--configfile", "config.yaml", "--cores", str(cores), *targets, "-q"]
    cpu0, t0 = children_cpu(), time.perf_counter()
    subprocess.run(cmd, check=True, cwd=work)
    return time.perf_counter() - t0, children_cpu() - cpu0


def floor(raw: Path, results: Path) -> tuple[float, float, int]:
    """(CharLS decode s, write s, bytes) of one observation: the floor F = decode + write."""
    from cassis_pipe.level0.decompress import is_jpegls
    from cassis_pipe.level0.plan import plan_from_files
    from cassis_pipe.level0.validate import validate_bytes
    from tests.support import charls_ref

    if not charls_ref.available():
        raise SystemExit("CharLS not found (imagecodecs): cannot measure the floor")
    plan = plan_from_files(raw / "tc.bin")
    rep, _, _ = validate_bytes((raw / "science.bin").read_bytes(), plan, frozenset({0}), None,
                               None, 1e-4)
    streams = [f.data for f in rep.framelets.values() if f.data is not None and is_jpegls(f.data)]
    t0 = time.perf_counter()
    for s in streams:
        charls_ref.decode(s)
    decode_s = time.perf_counter() - t0
    sizes = [p.stat().st_size for p in results.rglob("*") if p.is_file()]
    block = bytes(1 << 20)
    with tempfile.TemporaryDirectory(dir=results.parent) as tmp:
        os.sync()
        t0 = time.perf_counter()
        for k, size in enumerate(sizes):
            with open(Path(tmp) / f"f{k}", "wb") as fh:
                left = size
                while left > 0:
                    left -= fh.write(block[:min(left, len(block))])
                fh.flush()
                os.fsync(fh.fileno())
        write_s = time.perf_counter() - t0
    return decode_s, write_s, sum(sizes)


def peak_rss(work: Path, ids: list[str]) -> dict[str, float]:
    """Largest max_rss (MB) per rule over the observations' benchmark files."""
    out: dict[str, float] = {}
    for o in ids:
        for tsv in sorted((work / "benchmarks" / "out" / o).glob("*.tsv")):
            with open(tsv) as fh:
                rows = list(csv.DictReader(fh, delimiter="\t"))
            if rows:
                out[tsv.stem] = max(out.get(tsv.stem, 0.0), float(rows[-1]["max_rss"]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2, help="observations in the campaign")
    ap.add_argument("--work", type=Path, required=True, help="scratch directory")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    raw = a.work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    ids = simulate(raw, a.n, a.seed)
    one = a.work / "one"
    one.mkdir(exist_ok=True)
    workdir(one, raw, ids[:1])
    w1, cpu1 = run(one, ids[:1], a.cores)
    dec, wr, nbytes = floor(raw / ids[0], one / "results" / ids[0])
    f = dec + wr
    print(f"one observation ({ids[0]}), --cores {a.cores}: wall {w1:.1f} s, CPU {cpu1:.1f} s")
    print(f"floor F = CharLS decode {dec:.2f} s + write {nbytes / 1e9:.2f} GB {wr:.2f} s "
          f"= {f:.2f} s; wall / F = {w1 / f:.2f}")
    camp = a.work / "campaign"
    camp.mkdir(exist_ok=True)
    workdir(camp, raw, ids)
    wall, cpu = run(camp, ids, a.cores)
    written = sum(p.stat().st_size for p in (camp / "results").rglob("*") if p.is_file())
    print(f"campaign of {len(ids)}, --cores {a.cores}: wall {wall:.1f} s, "
          f"CPU {cpu / len(ids):.1f} s per observation, written {written / len(ids) / 1e9:.2f} "
          "GB per observation")
    print("peak RSS per rule (MB): " + ", ".join(f"{k} {v:.0f}"
                                                 for k, v in sorted(peak_rss(camp, ids).items())))


if __name__ == "__main__":
    main()
