"""The throw-away PostgreSQL cluster of tests/servers/postgres.py: it starts, serves SQLAlchemy Core
over 127.0.0.1 only, refuses a wrong password, and leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.servers.postgres import PostgresUnavailable, pg_bin_dir, postgres_cluster

sqlalchemy = pytest.importorskip("sqlalchemy")
pytest.importorskip("psycopg")


@pytest.fixture(scope="module")
def cluster():
    try:
        pg_bin_dir()
    except PostgresUnavailable as error:
        pytest.skip(str(error))
    with postgres_cluster() as running:
        yield running


def test_core_round_trip(cluster):
    from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert, select

    metadata = MetaData()
    rows = Table("rows", metadata, Column("id", Integer, primary_key=True), Column("name", String(40)))
    engine = create_engine(cluster.url)
    try:
        with engine.begin() as connection:
            metadata.create_all(connection)
            connection.execute(insert(rows), [{"name": "g=3"}, {"name": "g=8"}])
        with engine.connect() as connection:
            assert connection.execute(select(rows.c.name).order_by(rows.c.id)).scalars().all() == ["g=3", "g=8"]
            assert connection.dialect.name == "postgresql"
            assert connection.execute(sqlalchemy.text("select current_user")).scalar() == cluster.user
    finally:
        engine.dispose()


def test_wrong_password_is_refused(cluster):
    engine = create_engine_for(cluster.url_with(password="not-the-password"))
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError) as refused:
            engine.connect()
    finally:
        engine.dispose()
    message = str(refused.value.orig)
    assert f'password authentication failed for user "{cluster.user}"' in message
    assert cluster.password not in message


def test_listens_on_loopback_only(cluster):
    engine = create_engine_for(cluster.url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sqlalchemy.text("show listen_addresses")).scalar() == "127.0.0.1"
            assert connection.execute(sqlalchemy.text("show port")).scalar() == str(cluster.port)
    finally:
        engine.dispose()
    # What the kernel says: every listening TCP socket on the cluster's port is bound to 127.0.0.1.
    listening = [
        line.split()
        for name in ("/proc/net/tcp", "/proc/net/tcp6")
        if Path(name).exists()
        for line in Path(name).read_text().splitlines()[1:]
    ]
    on_port = [
        fields[1] for fields in listening if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == cluster.port
    ]
    assert on_port == [f"0100007F:{cluster.port:04X}"]


def test_removed_after_exit():
    try:
        pg_bin_dir()
    except PostgresUnavailable as error:
        pytest.skip(str(error))
    with (
        pytest.raises(RuntimeError, match="a failing test body"),
        postgres_cluster(database="gone", user="gone") as running,
    ):
        root = running.root
        assert (root / "data" / "postmaster.pid").exists()
        raise RuntimeError("a failing test body: the cluster is still stopped and removed")
    assert not root.exists()
    engine = create_engine_for(running.url)
    try:
        with pytest.raises(sqlalchemy.exc.OperationalError, match="refused|could not connect|Connection"):
            engine.connect()
    finally:
        engine.dispose()


def create_engine_for(url: str):
    return sqlalchemy.create_engine(url, connect_args={"connect_timeout": 5})
