"""Fixtures that give a test a fresh log: `log_target` runs it on a SQLite file and, when
POLICYLANG_TEST_POSTGRES names a server, on a PostgreSQL schema of its own (skipped, with the reason,
when it does not). Test modules load them with `pytest_plugins = ["log_fixtures"]`."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from log_helpers import NO_POSTGRES, POSTGRES, with_search_path


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A log URL on the test server: a fresh, empty schema, dropped afterwards."""
    if not POSTGRES:
        pytest.skip(NO_POSTGRES)
    import psycopg

    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES, autocommit=True) as connection:
        connection.execute(f"CREATE SCHEMA {schema}")
    try:
        yield with_search_path(POSTGRES, schema)
    finally:
        with psycopg.connect(POSTGRES, autocommit=True) as connection:
            connection.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgres"])
def log_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a test's log goes: a SQLite file that does not exist yet, or an empty PostgreSQL schema."""
    if request.param == "sqlite":
        return str(tmp_path / "decisions.db")
    url: str = request.getfixturevalue("postgres_url")
    return url
