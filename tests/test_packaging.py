"""Packaging as users install it: environment.yml lists exactly the dependencies of
pyproject.toml (runtime + test) under their conda names; the profiles are valid Snakemake
profiles for this workflow's rules; the files the workflow catalog expects exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
#: PyPI name -> conda-forge / bioconda name, where they differ
CONDA_NAMES = {"pds4-tools": "pds4_tools"}
#: on PyPI only: the environment installs them with pip
PIP_ONLY = {"saxonche"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^([A-Za-z0-9_.-]+)(?:\[[^]]*\])?\s*(.*)$", req.strip())  # extras dropped
    assert m, req
    return m.group(1).lower(), m.group(2).replace(" ", "")


def test_environment_matches_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = dict(_split(r) for r in project["dependencies"]
                  + project["optional-dependencies"]["test"])
    wanted = {CONDA_NAMES.get(k, k): v for k, v in wanted.items()}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert env["channels"][:2] == ["conda-forge", "bioconda"]  # snakemake is on bioconda
    have = dict(_split(d) for d in env["dependencies"] if isinstance(d, str))
    assert have.pop("python") == "=3.11" and have.pop("pip") == ""
    pip = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    pip_reqs = dict(_split(r) for r in (pip[0] if pip else []))
    assert set(pip_reqs) == PIP_ONLY
    assert {**have, **pip_reqs} == wanted
    # no editable install inside the file: `pip install -e .` only works from the root
    assert not [r for r in (pip[0] if pip else []) if r.startswith("-e")]


def test_profiles() -> None:
    rules = {m.group(1) for f in (REPO / "workflow" / "rules").glob("*.smk")
             for m in re.finditer(r"^(?:rule|checkpoint) (\w+):", f.read_text(), re.M)}
    default = yaml.safe_load((REPO / "workflow" / "profiles" / "default" / "config.yaml")
                             .read_text())
    assert "printshellcmds" not in default        # script rules would print "Shell command: None"
    slurm = yaml.safe_load((REPO / "workflow" / "profiles" / "slurm" / "config.yaml").read_text())
    assert slurm["executor"] == "slurm" and slurm["slurm-status-command"] == "squeue"
    assert "slurm_account" in slurm["default-resources"]
    assert set(slurm["set-resources"]) == rules - {"all", "ingested"}
    assert all(v["runtime"] >= 5 for v in slurm["set-resources"].values())
    extras = tomllib.loads((REPO / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    assert any(r.startswith("snakemake-executor-plugin-slurm") for r in extras["slurm"])


def test_catalog_files() -> None:
    for name in ("LICENSE", ".snakemake-workflow-catalog.yml", "config/README.md",
                 "environment.yml"):
        assert (REPO / name).is_file(), name
    assert "min_version(" in (REPO / "Snakefile").read_text()
