"""Configuration of the operations tools (``config/ops.yaml``): database, results, web server.

Relative paths are taken from the working directory. Without a file every key has its default
(a SQLite database ``results/hk.sqlite``, the package's SPICE kernels and limits table).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

import cassis_pipe
from cassis_pipe.instrument.constants import DEFAULT_LSK, DEFAULT_SCLK, KERNELS_DIR
from cassis_pipe.ops.hkframes import HkDbError

DEFAULT_PATH = Path("config/ops.yaml")
_KEYS = {"database", "results_dir", "hk_limits", "kernels", "ingest_state", "web"}
_WEB_KEYS = {"host", "port", "users_file", "session_hours"}


def _kernel_path(path: str) -> str:
    """A kernel path as given if it exists, else relative to the repository root, else the
    package's kernel of that name (so the shipped config works from any directory)."""
    p = Path(path)
    for cand in (p, Path(cassis_pipe.__file__).parents[1] / p, KERNELS_DIR / p.name):
        if cand.is_file():
            return str(cand)
    return path


@dataclass
class OpsConfig:
    """Settings of ``cassis-pipe hk`` and ``cassis-pipe web``."""

    database: str = "results/hk.sqlite"
    results_dir: Path = Path("results")
    hk_limits: Path | None = None
    sclk: str = str(DEFAULT_SCLK)
    lsk: str = str(DEFAULT_LSK)
    ingest_state: Path | None = Path("ingest/ingest.sqlite")
    host: str = "127.0.0.1"
    port: int = 8765
    users_file: Path = Path("config/web_users.yaml")
    session_hours: float = 8.0


def load_ops_config(path: str | Path | None = None) -> OpsConfig:
    """Read ``path`` (default ``config/ops.yaml`` if present, else the defaults).

    Raises HkDbError for an unreadable file or unknown keys.
    """
    if path is None:
        if not DEFAULT_PATH.is_file():
            return OpsConfig()
        path = DEFAULT_PATH
    try:
        data: Any = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise HkDbError(f"cannot read ops config {path}: {exc}") from exc
    if not isinstance(data, dict) or set(data) - _KEYS:
        raise HkDbError(f"ops config {path}: allowed keys are {sorted(_KEYS)}")
    web = data.get("web") or {}
    if not isinstance(web, dict) or set(web) - _WEB_KEYS:
        raise HkDbError(f"ops config {path}: web keys are {sorted(_WEB_KEYS)}")
    cfg = OpsConfig()
    if data.get("database"):
        cfg.database = str(data["database"])
    if data.get("results_dir"):
        cfg.results_dir = Path(data["results_dir"])
    if data.get("hk_limits"):
        cfg.hk_limits = Path(data["hk_limits"])
    kernels = data.get("kernels") or {}
    cfg.sclk = _kernel_path(str(kernels.get("sclk", cfg.sclk)))
    cfg.lsk = _kernel_path(str(kernels.get("lsk", cfg.lsk)))
    if "ingest_state" in data:
        cfg.ingest_state = Path(data["ingest_state"]) if data["ingest_state"] else None
    cfg.host = str(web.get("host", cfg.host))
    cfg.port = int(web.get("port", cfg.port))
    cfg.users_file = Path(web.get("users_file", cfg.users_file))
    cfg.session_hours = float(web.get("session_hours", cfg.session_hours))
    return cfg
