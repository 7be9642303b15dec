"""Fixtures of the ops database tests (registered with ``pytest_plugins = ["ops_fixtures"]``):
``pg_admin``, a PostgreSQL server for the module, and ``db_url``, an empty database on SQLite
or on that server (parametrised)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from ops_support import fresh_database, postgres_server

_DB_NAMES = itertools.count()


@pytest.fixture(scope="module")
def pg_admin() -> Iterator[str]:
    """Admin URL of a PostgreSQL server running for the test module."""
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty HK database: a SQLite file in ``tmp_path``, or a fresh database on the
    module's PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "hk.sqlite")
    return fresh_database(request.getfixturevalue("pg_admin"), f"hk_test_{next(_DB_NAMES)}")
