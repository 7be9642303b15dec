"""Shared fixtures: paths to the real reference files copied into tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow", action="store_true", default=False, help="run slow full-size tests"
    )
    parser.addoption(
        "--runslurm", action="store_true", default=False,
        help="run the workflow on a real single-node Slurm cluster started on loopback",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    opt_in = {"slow": ("--runslow", "slow full-size run: use --runslow"),
              "slurm": ("--runslurm", "starts a Slurm cluster: use --runslurm")}
    for marker, (option, reason) in opt_in.items():
        if config.getoption(option):
            continue
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def kernels_dir() -> Path:
    return DATA / "kernels"


@pytest.fixture(scope="session")
def level1b_labels() -> list[Path]:
    return sorted((DATA / "level1b").glob("*.xml"))


@pytest.fixture(scope="session")
def all_bern_labels() -> list[Path]:
    """Every Bern-format framelet label (level-1b and the compressed 2018 one)."""
    return sorted((DATA / "level1b").glob("*.xml")) + sorted((DATA / "compressed").glob("*.xml"))
