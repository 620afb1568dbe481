"""The store's two backends for tests: ``location`` is a fresh SQLite data directory or a fresh PostgreSQL database.

Registered for every test by ``tests/conftest.py`` (``pytest_plugins``): ``location``, ``store_env``,
``pg_cluster``; one
throw-away PostgreSQL cluster per module (``tests/servers/postgres.py``), one new database in it per test,
so a test sees only its own rows on either backend.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

import pytest

from tests.servers.postgres import PostgresCluster, PostgresUnavailable, postgres_cluster

BACKENDS = ("sqlite", "postgresql")
_NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def pg_cluster():
    try:
        context = postgres_cluster()
        cluster = context.__enter__()
    except PostgresUnavailable as missing:
        pytest.skip(str(missing))
    try:
        yield cluster
    finally:
        context.__exit__(None, None, None)


def fresh_database(cluster: PostgresCluster) -> str:
    """A new empty database owned by the application role; its URL."""
    name = f"t{os.getpid()}_{next(_NAMES)}"
    cluster.psql(f"CREATE DATABASE {name} OWNER {cluster.user};")
    return cluster.url_with(database=name)


@pytest.fixture(params=BACKENDS)
def location(request, tmp_path) -> Path | str:
    """Where a test's store lives: its own SQLite data directory, or its own PostgreSQL database (a URL)."""
    if request.param == "sqlite":
        return tmp_path
    return fresh_database(request.getfixturevalue("pg_cluster"))


@pytest.fixture
def store_env(location, tmp_path, monkeypatch) -> Path | str:
    """``location`` as this process's default store: EXPLORER_DATA_DIR, and EXPLORER_DATABASE_URL for PostgreSQL."""
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    if isinstance(location, str):
        monkeypatch.setenv("EXPLORER_DATABASE_URL", location)
    else:
        monkeypatch.delenv("EXPLORER_DATABASE_URL", raising=False)
    return location
