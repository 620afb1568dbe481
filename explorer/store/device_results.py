"""What visitors' browsers measured, kept: the ``device_results`` table behind the class view.

Only ``ClassRow`` fields are kept: the device summary (browser, OS, logical cores), the
model, the input, the median and the time; no session id, address or full user agent.
Storage sits behind ``ClassViewStore`` (``add``, ``rows``, ``clear``). ``SqliteClassView``
keeps the rows in the explorer's SQLite file (the result store's file in the data
directory, opened with ``explorer.store.database.Database``, so they outlive a restart and
fall back to memory on a read-only or full disk), the newest ``DEVICE_RESULT_ROWS`` only.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Protocol

from .database import Database, open_database
from .tables import DEVICE_RESULT_COLUMNS, DEVICE_RESULTS, device_results_schema


@dataclass(frozen=True)
class ClassRow:
    """One browser result as the class view keeps it."""

    device: str  # DeviceResult.device: "Chrome 140 on Android, 8 logical cores"
    model: str  # the config's label
    input: str  # "224x224"
    median_ms: float
    measured_at: float  # unix time


class ClassViewStore(Protocol):
    """Where the class view's rows live: in memory, or a table of the result store's database."""

    def add(self, row: ClassRow) -> None: ...

    def rows(self) -> list[ClassRow]: ...

    def clear(self) -> None: ...


class SqliteClassView:
    """Class view rows in the explorer's SQLite file (one connection, shared by this process's threads)."""

    def __init__(self, database: Database) -> None:
        self.database = database  # its .path (None in memory) and .warnings say where rows are kept

    def add(self, row: ClassRow) -> None:
        columns = DEVICE_RESULT_COLUMNS
        self.database.write(f"INSERT INTO {DEVICE_RESULTS} ({', '.join(columns)}) "
                            f"VALUES ({', '.join('?' * len(columns))})", [astuple(row)])  # fmt: skip

    def rows(self) -> list[ClassRow]:
        with self.database.reading() as connection:
            found = connection.execute(f"SELECT {', '.join(DEVICE_RESULT_COLUMNS)} FROM {DEVICE_RESULTS} "
                                       "ORDER BY id").fetchall()  # fmt: skip
        return [ClassRow(*row) for row in found]

    def clear(self) -> None:
        self.database.write(f"DELETE FROM {DEVICE_RESULTS}")


def open_class_view(directory: Path | str | None = None) -> SqliteClassView:
    """The class view in ``directory``'s SQLite file (default: the data directory; ``":memory:"``: no file)."""
    return SqliteClassView(open_database(directory, device_results_schema()))
