"""The explorer's database: a SQLite file in the data directory, or PostgreSQL, and what happens when it fails.

State that must outlive a server restart (latency results, GEMM peaks, calibrations, visitors'
device results, Table 8 kernel profiles) lives in one database, through SQLAlchemy Core and one
schema (``explorer.store.tables``) for both dialects:

* **Unset ``EXPLORER_DATABASE_URL``** (the default, nothing to set up): ``explorer.sqlite3`` in a
  data directory the user chooses: ``$EXPLORER_DATA_DIR``, else ``$XDG_CACHE_HOME/shufflenet-explorer``,
  else ``~/.cache/shufflenet-explorer``. WAL journal and a 30 s busy timeout, so several sessions
  and CLI processes write at once without losing a row; one connection per process, shared by
  its threads behind a lock. A corrupt file is moved aside (``explorer.sqlite3.corrupt-<time>``)
  and a fresh one started; a read-only directory or a full disk falls back to memory, copying
  what the file held.
* **``EXPLORER_DATABASE_URL=postgresql://...``**: every replica shares one PostgreSQL database
  (a connection pool per process, each write one transaction). A malformed URL, a refused
  connection, wrong credentials or a missing database at open: results are kept in memory for
  the rest of the process, with one warning naming the setting (password masked). The server
  going away later: each write that fails is kept in memory (and shown from there) and written
  with the next write once the server is back; nothing already stored is touched.

``Database.warnings`` holds what went wrong, for the page and the CLI to show. How each kind of
database is reached, and which errors count as a storage fault or an outage, is ``explorer.store.engines``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from sqlalchemy import delete, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.base import Executable

from . import tables
from .engines import BUSY_TIMEOUT_S, MEMORY, is_storage_fault, postgres_engine, sqlite_engine, unreachable
from .urls import configured_url, connection_problem, is_database_url, parse_url, setting_text, shown_url

log = logging.getLogger(__name__)

DATA_DIR_ENV = "EXPLORER_DATA_DIR"
FILE_NAME = "explorer.sqlite3"
RETRY_S = 2.0  # showing the warnings retries the waiting writes at most this often
PENDING_WRITES = 10_000  # writes kept in memory during an outage (the oldest dropped past it)
Write = Callable[[Connection], object]


def data_dir() -> Path:
    """Where the explorer keeps what outlives a restart (the directory need not exist yet)."""
    chosen = os.environ.get(DATA_DIR_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(cache) / "shufflenet-explorer"


def database_path(directory: Path | None = None) -> Path:
    return (data_dir() if directory is None else Path(directory)) / FILE_NAME


def default_location() -> str:
    """Where the store lives for this process: ``EXPLORER_DATABASE_URL`` if set, else the data directory's file."""
    return configured_url() or str(database_path())


def open_database(directory: Path | str | None, schema: Sequence = ()) -> Database:
    """The database in ``directory`` (None: this process's shared one at ``EXPLORER_DATABASE_URL`` or the data
    directory; ``":memory:"``: no file; a ``postgresql://`` URL: that database). Every table is created;
    ``schema`` is kept for callers."""
    if directory is None:
        return shared_database()
    if directory == MEMORY or is_database_url(directory):
        return Database(str(directory))
    return Database(database_path(Path(directory)))


_SHARED: dict[str, Database] = {}
_SHARED_LOCK = threading.Lock()


def shared_database() -> Database:
    """This process's database at ``default_location()``, opened once per location (tests change it)."""
    location = default_location()
    with _SHARED_LOCK:
        if location not in _SHARED:
            _SHARED[location] = Database(location)
        return _SHARED[location]


class Database:
    """One database (a SQLite file, PostgreSQL, or memory after a fault) shared by the threads of this process."""

    def __init__(self, path: Path | str | None, schema: Sequence = ()) -> None:
        self.schema = tuple(schema)
        self._warnings: list[str] = []
        self._lock = threading.RLock()
        self._pending: list[Write] = []
        self._outage = ""
        self._tried = 0.0  # time.monotonic() of the last retry
        self._mirror: Engine | None = None  # memory copy of the writes PostgreSQL has not taken yet
        self.url = None
        self.path: Path | None = None
        if path in (None, MEMORY):
            self._engine = self._open_memory()
        elif is_database_url(path):
            self._engine = self._open_postgres(str(path))
        else:
            self.path = Path(path)
            self._engine = self._open_file(self.path)

    @property
    def in_memory(self) -> bool:
        return self.path is None and self.url is None

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def location(self) -> str:
        """Where rows are kept, for people: the file, the URL without its password, or memory."""
        if self.url is not None:
            return shown_url(self.url)
        return str(self.path) if self.path is not None else "in memory only, until the process ends"

    @property
    def warnings(self) -> list[str]:
        notes = list(self._warnings)
        if self._pending and time.monotonic() - self._tried > RETRY_S:
            self.retry()  # about to be shown: say only what is still waiting
        if self._pending:
            notes.append(
                f"{len(self._pending)} result(s) are not stored yet: the database ({setting_text(self.url)}) "
                f"did not answer ({self._outage}); they are kept in memory and written when it is back."
            )
        return notes

    @property
    def pending(self) -> int:
        return len(self._pending)

    # ---------------------------------------------------------------- opening
    def _create_tables(self, engine: Engine) -> None:
        """Every table of the schema, and the columns added since a file was made; two processes may race here."""
        for attempt in range(3):
            try:
                with engine.begin() as connection:
                    for table in tables.METADATA.sorted_tables:
                        connection.execute(CreateTable(table, if_not_exists=True))
                        for index in table.indexes:
                            connection.execute(CreateIndex(index, if_not_exists=True))
                    columns = {c["name"] for c in inspect(connection).get_columns(tables.DEVICE_RESULTS)}
                    if "class_key" not in columns:  # a file from before class keys
                        connection.execute(
                            text(
                                f"ALTER TABLE {tables.DEVICE_RESULTS} ADD COLUMN class_key "
                                f"VARCHAR({tables.CLASS_KEY_LENGTH}) NOT NULL DEFAULT ''"
                            )
                        )
                return
            except (IntegrityError, ProgrammingError, OperationalError) as error:
                # Another process created a table, index or column between our check and our create
                # (PostgreSQL can say so even with IF NOT EXISTS): its work is ours; look again.
                if attempt == 2 or not _created_meanwhile(error):
                    raise
                time.sleep(0.2)

    def _open_file(self, path: Path) -> Engine:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return self._prepared_when_free(path)
        except DBAPIError as error:
            if _is_busy(error):  # held by other processes for longer than the busy timeout: not corrupt
                return self._fall_back(f"it stayed locked by another process ({error.orig})")
            if not is_storage_fault(error):
                return self._start_fresh(path, error)
            return self._fall_back(f"it cannot be written ({error.orig})")
        except OSError as error:
            return self._fall_back(f"its directory cannot be used ({error.strerror or error})")

    def _prepared(self, engine: Engine) -> Engine:
        """Check a SQLite file is a readable database, then create the tables; raises ``DBAPIError``."""
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA quick_check").fetchall()
            self._create_tables(engine)
        except DBAPIError:
            engine.dispose()
            raise
        return engine

    def _prepared_when_free(self, path: Path) -> Engine:
        """``_prepared`` on the file, tried again while another process holds it (it is being created or
        switched to WAL next door: SQLite answers "locked" at once there instead of waiting)."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                return self._prepared(sqlite_engine(str(path)))
            except OperationalError as error:
                if not _is_busy(error) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _start_fresh(self, path: Path, error: DBAPIError) -> Engine:
        """Move a corrupt or unreadable file aside (with its WAL files) and open a new one."""
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    path.with_name(path.name + suffix).rename(aside.with_name(aside.name + suffix))
        except OSError as move_error:
            return self._fall_back(f"it is unreadable ({error.orig}) and could not be moved aside ({move_error})")
        self._warnings.append(
            f"The results file {path} could not be read ({error.orig}); it was moved to {aside} and a new one started."
        )
        log.warning("%s", self._warnings[-1])
        try:
            return self._prepared(sqlite_engine(str(path)))
        except DBAPIError as again:
            return self._fall_back(f"a new file could not be started either ({again.orig})")

    def _open_memory(self) -> Engine:
        engine = sqlite_engine(MEMORY)
        self._create_tables(engine)
        return engine

    def _open_postgres(self, location: str) -> Engine:
        try:
            self.url = parse_url(location)
        except ValueError as error:
            return self._fall_back_from_setting(str(error))
        engine = postgres_engine(location)
        try:
            self._create_tables(engine)
        except DBAPIError as error:
            problem = connection_problem(error, self.url)
            self.url = None
            return self._fall_back_from_setting(f"{setting_text(parse_url(location))}: {problem}")
        return engine

    def _fall_back_from_setting(self, problem: str) -> Engine:
        self._warnings.append(f"{problem}; results are kept in memory only, until the server restarts.")
        log.warning("%s", self._warnings[-1])
        return self._open_memory()

    def _fall_back(self, reason: str, keep: Engine | None = None) -> Engine:
        """Continue in memory (copying what the SQLite ``keep`` still holds); say so."""
        where = self.path
        self.path = None
        memory = self._open_memory()
        if keep is not None:
            with contextlib.suppress(Exception):
                keep.raw_connection().driver_connection.backup(memory.raw_connection().driver_connection)
        self._warnings.append(
            f"Results are kept in memory only, until the server restarts: the results file "
            f"{where} is not usable because {reason}."
        )
        log.warning("%s", self._warnings[-1])
        return memory

    # ---------------------------------------------------------------- use
    @contextlib.contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection to read with (SQLite: the shared one, under the lock)."""
        with self._lock if self.url is None else contextlib.nullcontext(), self._engine.connect() as connection:
            yield connection

    def read(self, query: Callable[[Connection], object]):
        """``query(connection)``'s answer; while PostgreSQL is away, from the writes kept in memory."""
        if self.url is None:
            with self.reading() as connection:
                return query(connection)
        try:
            if self._pending:
                with self._lock:
                    self._flush()
            with self._engine.connect() as connection:
                return query(connection)
        except DBAPIError as error:
            if not unreachable(error):
                raise
            self._note_outage(error)
            with self._lock, self._mirror_engine().connect() as connection:
                return query(connection)

    def write(self, statement: Write | Executable | str, rows: Sequence | None = None) -> None:
        """Run one write in a transaction (a callable gets the connection; a statement runs with ``rows``).
        SQLite: a storage fault falls back to memory. PostgreSQL: an outage keeps the write for later."""
        op = _as_write(statement, rows)
        with self._lock:
            if self.url is not None:
                return self._write_postgres(op)
            try:
                self._run(self._engine, op)
            except OperationalError as error:
                if self.in_memory or not is_storage_fault(error):
                    raise
                self._engine = self._fall_back(f"writing to it failed ({error.orig})", keep=self._engine)
                self._run(self._engine, op)

    @staticmethod
    def _run(engine: Engine, *ops: Write) -> None:
        with engine.begin() as connection:
            for op in ops:
                op(connection)

    def _write_postgres(self, op: Write) -> None:
        try:
            self._flush()
            self._run(self._engine, op)
        except DBAPIError as error:
            if not unreachable(error):
                raise
            self._note_outage(error)
            self._pending.append(op)
            if len(self._pending) > PENDING_WRITES:
                self._pending.pop(0)
                log.warning("more than %d writes waiting for the database: the oldest dropped", PENDING_WRITES)
            self._run(self._mirror_engine(), op)
            log.warning("database write kept in memory (%d waiting): %s", len(self._pending), self._outage)

    def _flush(self) -> None:
        """Write what an outage kept in memory, in one transaction (raises while the server is still away)."""
        if not self._pending:
            return
        try:
            self._run(self._engine, *self._pending)
            log.warning("%d writes kept in memory during a database outage are now stored", len(self._pending))
        except DBAPIError as error:
            if unreachable(error):
                raise
            # the server refuses them for good (not an outage): they would block every later write
            log.exception(
                "%d writes kept during an outage were refused by the database and dropped", len(self._pending)
            )
        self._pending.clear()
        if self._mirror is not None:
            self._run(self._mirror, *(lambda c, t=t: c.execute(delete(t)) for t in tables.ALL_TABLES))

    def _note_outage(self, error: BaseException) -> None:
        self._outage = connection_problem(error, self.url) if self.url is not None else str(error)

    def _mirror_engine(self) -> Engine:
        if self._mirror is None:
            self._mirror = self._open_memory()
        return self._mirror

    def retry(self) -> bool:
        """Write what an outage kept in memory now; True when nothing is left waiting."""
        with self._lock:
            self._tried = time.monotonic()
            with contextlib.suppress(DBAPIError):
                self._flush()
            return not self._pending

    def close(self) -> None:
        with self._lock:
            if self.url is None:  # a PostgreSQL pool is shared by this process's databases
                self._engine.dispose()


def _as_write(statement: Write | Executable | str, rows: Sequence | None) -> Write:
    if callable(statement) and not isinstance(statement, Executable):
        return statement
    executable = text(statement) if isinstance(statement, str) else statement
    return lambda connection: connection.execute(executable, list(rows) if rows is not None else None)


def _is_busy(error: Exception) -> bool:
    """Another connection holds the SQLite file's lock (a passing state, never a corrupt file)."""
    text_ = str(error).lower()
    return "database is locked" in text_ or "database is busy" in text_


def _created_meanwhile(error: Exception) -> bool:
    """The DDL failed because the same object was just created by someone else."""
    text_ = str(error).lower()
    return any(words in text_ for words in ("already exists", "duplicate column", "duplicate key"))
