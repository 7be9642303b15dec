"""Shared fixtures: paths to the real reference files copied into tests/data."""

from __future__ import annotations

from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--runslow", action="store_true", default=False, help="run slow full-size tests"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow full-size run: use --runslow")
    for item in items:
        if "slow" in item.keywords:
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
