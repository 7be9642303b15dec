"""The workflow on a real single-node Slurm cluster (opt-in: ``pytest --runslurm``).

The test starts munged, slurmctld and slurmd from the distribution's packages on loopback (a
cluster without an accounting database, as a small site runs it), runs a tiny observation
through ``--executor slurm`` with the repository's SLURM profile, compares every product with a
local run, and stops every daemon it started. Skipped, saying why, where the packages or the
executor plugin are absent (CI installs neither: docs/cluster.md).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_workflow import PART1, REPO, synthetic_workdir, tree

pytestmark = pytest.mark.slurm

DAEMONS = ("munged", "slurmctld", "slurmd")
#: where srun looks for the configuration: the executor plugin removes every SLURM_* variable
#: (SLURM_CONF too) from the job step's environment, so the default path must hold it
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(name: str) -> str | None:
    return shutil.which(name) or next((str(p) for p in (Path("/usr/sbin") / name,)
                                       if p.exists()), None)


def _mem_mb() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024 - 1024
    return 4000


def _conf(d: Path) -> str:
    host = socket.gethostname()
    return "\n".join([
        "ClusterName=cassis-test", f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={_free_port()}", f"SlurmdPort={_free_port()}",
        "SlurmUser=root", "AuthType=auth/munge", f"AuthInfo=socket={d}/munge.sock",
        f"StateSaveLocation={d}/state", f"SlurmdSpoolDir={d}/spool",
        f"SlurmctldPidFile={d}/slurmctld.pid", f"SlurmdPidFile={d}/slurmd.pid",
        f"SlurmctldLogFile={d}/slurmctld.log", f"SlurmdLogFile={d}/slurmd.log",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "MpiDefault=none",
        "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
        "SelectType=select/cons_tres", "SelectTypeParameters=CR_CPU_Memory",
        "ReturnToService=2", "SchedulerType=sched/backfill", "InactiveLimit=0",
        "KillWait=5", "MinJobAge=300", "SlurmctldTimeout=30", "SlurmdTimeout=30",
        f"NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count() or 2} "
        f"RealMemory={_mem_mb()} State=UNKNOWN",
        f"PartitionName=normal Nodes={host} Default=YES MaxTime=INFINITE State=UP",
    ]) + "\n"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    missing = [n for n in (*DAEMONS, "sinfo", "sbatch", "squeue") if _binary(n) is None]
    if missing:
        pytest.skip(f"Slurm/munge not installed ({', '.join(missing)}): "
                    "apt-get install slurm-wlm munge")
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        pytest.skip("snakemake-executor-plugin-slurm not installed: pip install -e '.[slurm]'")
    if os.geteuid() != 0:
        pytest.skip("starting slurmd needs root")
    if SYSTEM_CONF.exists():
        pytest.skip(f"{SYSTEM_CONF} exists: this machine has a Slurm cluster of its own")
    d = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool"):
        (d / sub).mkdir()
    key = d / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    (d / "slurm.conf").write_text(_conf(d))
    env = {**os.environ, "SLURM_CONF": str(d / "slurm.conf")}
    started: list[Path] = []
    made_dir = not SYSTEM_CONF.parent.exists()
    try:
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(d / "slurm.conf", SYSTEM_CONF)
        subprocess.run([_binary("munged"), "--force", f"--socket={d}/munge.sock",
                        f"--key-file={key}", f"--pid-file={d}/munged.pid",
                        f"--log-file={d}/munged.log", f"--seed-file={d}/munged.seed"],
                       check=True, env=env, timeout=30)
        started.append(d / "munged.pid")
        subprocess.run([_binary("slurmctld"), "-f", str(d / "slurm.conf")], check=True,
                       env=env, timeout=30)
        started.append(d / "slurmctld.pid")
        subprocess.run([_binary("slurmd"), "-f", str(d / "slurm.conf")], check=True, env=env,
                       timeout=30)
        started.append(d / "slurmd.pid")
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline:
            r = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True,
                               text=True, timeout=30)
            state = r.stdout.strip()
            if state == "idle":
                break
            time.sleep(1)
        if state != "idle":
            logs = "".join((d / f).read_text()[-2000:] for f in ("slurmctld.log", "slurmd.log")
                           if (d / f).exists())
            pytest.fail(f"the Slurm node did not become idle ({state!r}):\n{logs}")
        yield env
    finally:
        for pid_file in reversed(started):
            try:
                os.kill(int(pid_file.read_text().split()[0]), 15)
            except (OSError, ValueError):
                pass
        time.sleep(2)
        SYSTEM_CONF.unlink(missing_ok=True)
        if made_dir:
            SYSTEM_CONF.parent.rmdir()


def test_workflow_on_slurm_equals_local(cluster: dict[str, str],
                                        tmp_path_factory: pytest.TempPathFactory) -> None:
    local = synthetic_workdir(tmp_path_factory.mktemp("local"))
    on_slurm = synthetic_workdir(tmp_path_factory.mktemp("on_slurm"))
    base = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--configfile",
            "config.yaml"]
    r = subprocess.run([*base, "--cores", "2", PART1], cwd=local, capture_output=True,
                       text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run([*base, "--workflow-profile", str(REPO / "workflow/profiles/slurm"),
                        "--slurm-no-account", "--jobs", "4", PART1], cwd=on_slurm,
                       capture_output=True, text=True, timeout=1800, env=cluster)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
    assert "sbatch" in (r.stdout + r.stderr) or "SLURM" in (r.stdout + r.stderr)
    ours, theirs = tree(local / "results"), tree(on_slurm / "results")
    assert ours.keys() == theirs.keys() and ours == theirs
