"""The explorer's SQLite file: where it lives, how it is opened, and what happens when it cannot be.

State that must outlive a server restart (latency results, visitors' device results)
lives in one SQLite file, ``explorer.sqlite3``, in a data directory the user chooses:
``$EXPLORER_DATA_DIR``, else ``$XDG_CACHE_HOME/shufflenet-explorer``, else
``~/.cache/shufflenet-explorer``. Every table's owner declares its schema
(``Database(schema=...)``); this module only opens, guards and falls back:

* **Concurrency.** WAL journal and a 30 s busy timeout, so several sessions of one server
  and several CLI processes write at once without losing a row; inside a process one
  connection is shared by every thread behind a lock.
* **A corrupt or unreadable file** is moved aside (``explorer.sqlite3.corrupt-<time>``,
  named in a warning) and a fresh one is started.
* **A read-only directory or a full disk** (at open or at any later write) falls back to
  an in-memory database for the rest of the process, with a warning; what the file held
  is copied over where it can still be read, so nothing shown so far disappears.

``Database.warnings`` holds what went wrong, for the page and the CLI to show.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterator, Sequence

log = logging.getLogger(__name__)

DATA_DIR_ENV = "EXPLORER_DATA_DIR"
FILE_NAME = "explorer.sqlite3"
BUSY_TIMEOUT_S = 30.0
MEMORY = ":memory:"


def data_dir() -> Path:
    """Where the explorer keeps what outlives a restart (the directory need not exist yet)."""
    chosen = os.environ.get(DATA_DIR_ENV, "").strip()
    if chosen:
        return Path(chosen).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(cache) / "shufflenet-explorer"


def database_path(directory: Path | None = None) -> Path:
    return (data_dir() if directory is None else Path(directory)) / FILE_NAME


def open_database(directory: Path | str | None, schema: Sequence[str]) -> "Database":
    """The database in ``directory`` (None: the data directory; ``":memory:"``: no file) with ``schema``'s tables."""
    path = MEMORY if directory == MEMORY else database_path(None if directory is None else Path(directory))
    return Database(path, schema)


class Database:
    """One SQLite database (a file, or memory after a fault) shared by the threads of this process."""

    def __init__(self, path: Path | str | None, schema: Sequence[str]) -> None:
        self.schema = tuple(schema)
        self.warnings: list[str] = []
        self._lock = threading.RLock()
        self.path: Path | None = None if path in (None, MEMORY) else Path(path)
        self._connection = self._open_file(self.path) if self.path is not None else self._open_memory()

    @property
    def in_memory(self) -> bool:
        return self.path is None

    # ---------------------------------------------------------------- opening
    def _open_file(self, path: Path) -> sqlite3.Connection:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return self._prepared(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False))
        except sqlite3.DatabaseError as error:
            if not _is_storage_fault(error):
                return self._start_fresh(path, error)
            return self._fall_back(f"it cannot be written ({error})")
        except OSError as error:
            return self._fall_back(f"its directory cannot be used ({error.strerror or error})")

    def _prepared(self, connection: sqlite3.Connection) -> sqlite3.Connection:
        """Check the file is a readable database, then create the tables; raises ``sqlite3.DatabaseError``."""
        try:
            connection.execute("PRAGMA busy_timeout = %d" % int(BUSY_TIMEOUT_S * 1000))
            connection.execute("PRAGMA quick_check").fetchall()
            if self.path is not None:
                connection.execute("PRAGMA journal_mode = WAL").fetchall()
                # With WAL, a commit survives the app crashing; only a power cut may lose the last ones.
                connection.execute("PRAGMA synchronous = NORMAL")
            with connection:
                for statement in self.schema:
                    connection.execute(statement)
        except sqlite3.DatabaseError:
            connection.close()
            raise
        return connection

    def _start_fresh(self, path: Path, error: Exception) -> sqlite3.Connection:
        """Move a corrupt or unreadable file aside (with its WAL files) and open a new one."""
        aside = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            path.rename(aside)
            for suffix in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    path.with_name(path.name + suffix).rename(aside.with_name(aside.name + suffix))
        except OSError as move_error:
            return self._fall_back(f"it is unreadable ({error}) and could not be moved aside ({move_error})")
        self.warnings.append(f"The results file {path} could not be read ({error}); it was moved to {aside} "
                             "and a new one started.")  # fmt: skip
        log.warning("%s", self.warnings[-1])
        try:
            return self._prepared(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, check_same_thread=False))
        except sqlite3.DatabaseError as again:
            return self._fall_back(f"a new file could not be started either ({again})")

    def _open_memory(self) -> sqlite3.Connection:
        return self._prepared(sqlite3.connect(MEMORY, check_same_thread=False))

    def _fall_back(self, reason: str, keep: sqlite3.Connection | None = None) -> sqlite3.Connection:
        """Continue in memory (copying what ``keep`` still holds); say so."""
        where = self.path
        self.path = None
        memory = self._open_memory()
        if keep is not None:
            with contextlib.suppress(sqlite3.DatabaseError):
                keep.backup(memory)
        self.warnings.append(f"Results are kept in memory only, until the server restarts: the results file "
                             f"{where} is not usable because {reason}.")  # fmt: skip
        log.warning("%s", self.warnings[-1])
        return memory

    # ---------------------------------------------------------------- use
    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._connection

    def write(self, statement: str, rows: Sequence[Sequence[object]] | None = None) -> None:
        """Run one write (``executemany`` with ``rows``) in a transaction; a storage fault falls back to memory."""
        with self._lock:
            try:
                self._write(statement, rows)
            except sqlite3.OperationalError as error:
                if self.in_memory or not _is_storage_fault(error):
                    raise
                self._connection = self._fall_back(f"writing to it failed ({error})", keep=self._connection)
                self._write(statement, rows)

    def _write(self, statement: str, rows: Sequence[Sequence[object]] | None) -> None:
        with self._connection:
            if rows is None:
                self._connection.execute(statement)
            else:
                self._connection.executemany(statement, rows)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


STORAGE_FAULTS = ("readonly", "read-only", "disk is full", "disk i/o error", "unable to open", "out of memory")


def _is_storage_fault(error: Exception) -> bool:
    """The file or its disk refuses writes (read-only, full, unopenable), as opposed to a corrupt file."""
    text = str(error).lower()
    return any(fault in text for fault in STORAGE_FAULTS)
