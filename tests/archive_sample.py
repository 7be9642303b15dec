"""Two small simulated observations run through the real workflow (subprocess Snakemake),
shared by the archive tests: one straddling the 0/360 deg meridian at 5 deg N, one at 72 deg N
(polar stereographic map). Built once per test session (~80 s of CPU): pytest-xdist workers
share one copy under the session's base directory, guarded by a file lock."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from test_workflow import snakemake, write_config

#: observation id -> simulator overrides (YAML); 3 exposures of the small preset each
OBSERVATIONS = {
    "MY35_006000_005_0": "imaging: {num_exp: 3}\norbit: {target_lat_deg: 5.0, "
                         "target_lon_deg: 0.0}\n",
    "MY35_006001_081_0": "imaging: {num_exp: 3}\norbit: {target_lat_deg: 72.0, "
                         "target_lon_deg: 300.0, orbit_number: 6001}\n",
}
_CACHE: dict[str, Path] = {}


def sample_workdir(base: Path) -> Path:
    """Workflow directory with ``raw/<obs>`` and ``results/<obs>`` for :data:`OBSERVATIONS`
    (``base``: the session's base temporary directory)."""
    if "dir" in _CACHE:
        return _CACHE["dir"]
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of one session
    with open(base / "archive_sample.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _CACHE["dir"] = _build(base / "archive_sample")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return _CACHE["dir"]


def _build(d: Path) -> Path:
    if (d / "DONE").is_file():
        return d
    d.mkdir(parents=True, exist_ok=True)
    rows = []
    for obs, yaml_text in OBSERVATIONS.items():
        (d / f"{obs}.yaml").write_text(yaml_text)
        rows.append({"observation_id": obs, "raw_dir": f"raw/{obs}",
                     "calibration_version": "sim-v1", "simulate": "true",
                     "sim_config": f"{obs}.yaml"})
    write_config(d, rows)
    r = snakemake(d, "--configfile", "config.yaml", "--cores", "2", timeout=1500)
    if r.returncode != 0:
        raise RuntimeError((r.stdout + r.stderr)[-4000:])
    (d / "DONE").write_text("complete\n")
    return d
