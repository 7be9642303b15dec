"""Support for the ops tests: simulated HK with injected faults, a real PostgreSQL server on
loopback (Debian ``postgresql`` binaries, started and stopped here), ops configs."""

from __future__ import annotations

import contextlib
import glob
import http.client
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cassis_pipe.sim.telemetry import hk_bytes, make_timeline
from cassis_pipe.telemetry.hk import decode_hk, encode_hk
from cassis_pipe.telemetry.timecode import FINE_PER_SECOND

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
KERNELS = DATA / "kernels"
T0 = 1.0e8  # on-board seconds of the simulated observations (2019-05-15T07:18:54.8 UTC)


def frame_obt(frame_ts: int) -> float:
    return ((frame_ts >> 24) & 0xFFFFFFFF) + (frame_ts & 0xFFFFFF) / FINE_PER_SECOND


def sim_hk(minutes: float = 10.0, t0: float = T0) -> bytes:
    """HK frames from the instrument simulator for two images over ``minutes`` from about
    ``t0`` (OBT s), 1 Hz."""
    span = minutes * 60.0
    tl = make_timeline([30.0, 120.0], [0x1001, 0x1002], [t0, t0 + span / 2],
                       [t0 + 60.0, t0 + span / 2 + 60.0])
    return hk_bytes(tl, seed=1)


def frames(data: bytes) -> list[bytes]:
    return [data[i:i + 64] for i in range(0, len(data), 64)]


def inject(data: bytes, frame_type: int, field: str, t0: float, t1: float, value: int) -> bytes:
    """``data`` with ``field`` of every ``frame_type`` frame in [t0, t1] (OBT s) set to
    ``value``: each frame decoded, changed and encoded again (new CRC)."""
    out = []
    for f in frames(data):
        hk = decode_hk(f)
        if hk.type == frame_type and t0 <= frame_obt(hk.timestamp) <= t1:
            values = {k: v.raw for k, v in hk.fields.items()}
            values[field] = value
            f = encode_hk(hk.type, hk.timestamp, values)
        out.append(f)
    return b"".join(out)


def drop(data: bytes, t0: float, t1: float) -> bytes:
    """``data`` without the frames (all types) time-tagged in [t0, t1] (a downlink gap)."""
    return b"".join(f for f in frames(data) if not t0 <= frame_obt(decode_hk(f).timestamp) <= t1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg_bin() -> Path | None:
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "initdb").is_file() and (Path(d) / "pg_ctl").is_file():
            return Path(d)
    found = shutil.which("initdb")
    return Path(found).parent if found and shutil.which("pg_ctl") else None


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """A PostgreSQL server on 127.0.0.1 in a temporary directory; yields an admin URL of its
    ``postgres`` database. Runs as user ``postgres`` when started as root (initdb refuses
    root). Skips the test when the binaries or psycopg are missing."""
    pytest.importorskip("psycopg", reason="psycopg (extra 'postgres') not installed")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and no 'postgres' user to run the server as")
    root = Path(tempfile.mkdtemp(prefix="cassis-pg-"))
    data, port = root / "data", free_port()
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    run_as = {"user": user.pw_uid, "group": user.pw_gid} if user else {}
    try:
        subprocess.run([str(bindir / "initdb"), "-D", str(data), "-U", "cassis", "-A", "trust",
                        "-E", "UTF8", "--no-sync"], check=True, capture_output=True,
                       timeout=120, **run_as)
        opts = (f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off")
        subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l",
                        str(root / "log"), "-w", "-t", "60", "start"], check=True,
                       capture_output=True, timeout=90, **run_as)
        try:
            yield f"postgresql://cassis@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w",
                            "stop"], capture_output=True, timeout=60, **run_as)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def fresh_database(admin_url: str, name: str) -> str:
    """Create database ``name`` (dropped first if present) on the server; return its URL."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


def write_ops_config(d: Path, database: str, results: Path, **extra: str) -> Path:
    """An ops config in ``d`` using the test kernels."""
    lines = [f"database: {database}", f"results_dir: {results}",
             f"kernels: {{sclk: {KERNELS / 'em16_tgo_step_20190823.tsc'}, "
             f"lsk: {KERNELS / 'naif0012.tls'}}}"]
    lines += [f"{k}: {v}" for k, v in extra.items() if k != "web"]
    if "web" in extra:
        lines.append(f"web: {extra['web']}")
    p = d / "ops.yaml"
    p.write_text("\n".join(lines) + "\n")
    return p


@contextlib.contextmanager
def web_server(cfg: Path, port: int) -> Iterator[subprocess.Popen]:
    """`cassis-pipe web serve --config cfg` running on 127.0.0.1:port (started, waited for,
    stopped)."""
    proc = subprocess.Popen([sys.executable, "-m", "cassis_pipe", "web", "serve", "--config",
                             str(cfg)], cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=2).request("GET", "/login")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start: {proc.stdout.read()}") from None
                time.sleep(0.2)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=30)


class Site:
    """A client of the monitoring page on 127.0.0.1:port."""

    def __init__(self, root: Path, base: str, port: int, clock: Any) -> None:
        self.root, self.base, self.port, self.clock = root, base, port, clock

    def request(self, method: str, path: str, body: str | None = None,
                cookie: str | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body else {}
        if cookie:
            headers["Cookie"] = cookie
        conn.request(method, path, body=body, headers=headers)
        r = conn.getresponse()
        out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        conn.close()
        return out

    def login(self, user: str, password: str) -> str:
        form = urllib.parse.urlencode({"username": user, "password": password})
        status, headers, _ = self.request("POST", "/login", form)
        assert status == 303, status
        return headers["set-cookie"].split(";")[0]
