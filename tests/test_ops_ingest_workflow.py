"""End to end, as operations run it: a small simulated downlink -> the ingest checkpoint run by
Snakemake (workflow/rules/ingest.smk) -> the generated sheet -> every ready observation
processed; the housekeeping database holds every HK frame exactly once; the monitoring page,
served for real on loopback, shows the HK, the deliveries and every observation. A second
cycle finds everything processed and runs nothing else."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ops_support import Site, free_port, web_server, write_ops_config
from test_workflow import PROFILE, REPO, write_config

from cassis_pipe.ops.auth import set_user
from cassis_pipe.ops.hkdb import open_db, table_of
from cassis_pipe.ops.hkframes import CHANNELS, TYPE_CHANNELS
from cassis_pipe.ops.ledger import open_ledger
from cassis_pipe.sim.downlink import DEFAULT_RUNS, simulate_downlink


def write_workdir(d: Path, src: Path) -> None:
    """Downlink, calibration and ISDs of ``src``; an empty configured sheet; config.yaml with
    an ``ingest`` section; a Snakefile including the workflow and ingest.smk."""
    shutil.copytree(src / "downlink", d / "downlink")
    shutil.copytree(src / "calibration", d / "cal")
    shutil.copytree(src / "geometry", d / "geometry")
    write_config(d, [], ingest={"root": "ingest", "downlink": "downlink", "wait_s": 0,
                                "geometry_dir": "geometry", "calibration_version": "sim-v1",
                                "hk_database": "hk.sqlite"})


def snakemake(d: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(d),
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
    assert _hk_rows(d) == _ledger_hk(d)            # the second cycle stored nothing twice


def _ledger_hk(d: Path) -> dict[int, int]:
    """Unique HK frames per type the ingest took (its ledger)."""
    db = open_ledger(d / "ingest")
    try:
        return dict(db.execute("SELECT type, count(*) FROM hk GROUP BY type"))
    finally:
        db.close()


def _hk_rows(d: Path) -> dict[int, int]:
    """HK rows per type in the housekeeping database (and that no frame is stored twice)."""
    out = {}
    with open_db(d / "hk.sqlite", read_only=True) as db:
        for t in TYPE_CHANNELS:
            n, distinct = db.execute(
                f"SELECT count(*), count(DISTINCT tc) FROM {table_of(t)}").fetchone()
            assert n == distinct, t
            if n:
                out[t] = n
    return out


def test_database_and_page_show_the_downlink(workdir: tuple[Path, dict]) -> None:
    d, truth = workdir
    if not (d / "hk.sqlite").exists():
        r = snakemake(d, "ingested")
        assert r.returncode == 0, r.stderr[-3000:]
    ledger = _ledger_hk(d)
    assert ledger and _hk_rows(d) == ledger        # every HK frame exactly once
    set_user(d / "users.yaml", "ops", "a long passphrase")
    port = free_port()
    cfg = write_ops_config(d, str(d / "hk.sqlite"), d / "results",
                           ingest_state=str(d / "ingest" / "ingest.sqlite"),
                           web=f"{{users_file: {d / 'users.yaml'}, port: {port}}}")
    site = Site(d, f"http://127.0.0.1:{port}", port, None)
    with web_server(cfg, port):
        assert site.request("GET", "/api/observations")[0] == 401
        cookie = site.login("ops", "a long passphrase")
        status, _, body = site.request("GET", "/api/observations", cookie=cookie)
        listed = {o["observation_id"] for o in json.loads(body)["observations"]}
        assert status == 200 and set(truth["observations"]) <= listed
        status, _, body = site.request("GET", "/api/deliveries", cookie=cookie)
        shown = json.loads(body)["deliveries"]
        assert {x["name"] for x in shown} == {p.name for p in (d / "downlink").iterdir()}
        channel = next(c for c in CHANNELS.values() if c.frame_type == min(ledger))
        status, _, body = site.request("GET", f"/api/hk?channel={channel.name}", cookie=cookie)
        assert status == 200 and json.loads(body)["samples"] == ledger[min(ledger)]
