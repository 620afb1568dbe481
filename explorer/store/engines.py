"""How the explorer's database is reached: the SQLAlchemy engine for a SQLite file (or memory) or a
PostgreSQL URL, and which errors mean the storage or the server is at fault rather than a statement.

``explorer.store.database`` decides what to do about those faults (move a corrupt file aside, fall
back to memory, keep writes for later); this module only builds engines and classifies errors.
"""

from __future__ import annotations

import threading

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.pool import StaticPool

from .urls import parse_url

BUSY_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 5
MEMORY = ":memory:"

_ENGINES: dict[str, Engine] = {}  # one PostgreSQL pool per URL and process
_ENGINES_LOCK = threading.Lock()


def postgres_engine(location: str) -> Engine:
    """This process's connection pool for the PostgreSQL URL ``location`` (made once per URL)."""
    url = parse_url(location)
    key = url.render_as_string(hide_password=False)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = create_engine(
                url,
                pool_pre_ping=True,
                pool_size=4,
                max_overflow=4,
                pool_timeout=10,
                connect_args={"connect_timeout": CONNECT_TIMEOUT_S},
            )
        return _ENGINES[key]


def sqlite_engine(where: str) -> Engine:
    """One connection shared by the process's threads (behind ``Database._lock``), with the file's pragmas."""
    engine = create_engine(
        f"sqlite:///{where}", poolclass=StaticPool, connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S}
    )

    @event.listens_for(engine, "connect")
    def _pragmas(connection, _record) -> None:
        cursor = connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        if where != MEMORY:
            cursor.execute("PRAGMA journal_mode = WAL").fetchall()
            # With WAL, a commit survives the app crashing; only a power cut may lose the last ones.
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    return engine


def unreachable(error: BaseException) -> bool:
    """The database server went away or refused us (as opposed to a bad statement)."""
    return isinstance(error, (OperationalError, InterfaceError)) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    )


STORAGE_FAULTS = ("readonly", "read-only", "disk is full", "disk i/o error", "unable to open", "out of memory")


def is_storage_fault(error: Exception) -> bool:
    """The file or its disk refuses writes (read-only, full, unopenable), as opposed to a corrupt file."""
    text_ = str(error).lower()
    return any(fault in text_ for fault in STORAGE_FAULTS)
