"""The class view: latencies that visitors' browsers measured on this server, grouped by device.

After a class has pressed "Measure on this device", a teacher can show "Table 8 on our
phones": per (device summary, model, input) the number of results and the median of their
medians, labelled "reported by visitors' browsers". Only results that passed validation and
the parity check are kept, and only ``ClassRow`` fields: the device summary (browser, OS,
logical cores), the model, the input, the median and the time. No session id, address or
full user agent.

Storage sits behind ``ClassViewStore`` (``add``, ``rows``, ``clear``). ``SqliteClassView``
keeps the rows in the ``device_results`` table of the explorer's SQLite file (the result
store's file in the data directory, opened with ``explorer.latency.database.Database``, so
they outlive a restart and fall back to memory on a read-only or full disk), the newest
``MAX_ROWS`` only. Turn the feature off for a server with ``EXPLORER_CLASS_VIEW=off``
(``class_view_enabled``): nothing is stored or shown.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Protocol

from .database import MEMORY, Database, database_path

CLASS_VIEW_ENV = "EXPLORER_CLASS_VIEW"
ON, OFF = ("on", "1", "true", "yes"), ("off", "0", "false", "no")
MAX_ROWS = 5000  # rows kept; the oldest go first
SUMMARY_ROWS = 200  # groups shown


def class_view_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """``EXPLORER_CLASS_VIEW``: on (default) or off; anything else is refused with ``ValueError``."""
    text = environ.get(CLASS_VIEW_ENV, "").strip().lower()
    if not text or text in ON:
        return True
    if text in OFF:
        return False
    shown = text if len(text) <= 20 else text[:19] + "…"
    raise ValueError(f"{CLASS_VIEW_ENV}={shown!r} is not allowed: {CLASS_VIEW_ENV} must be on or off (default on)")


@dataclass(frozen=True)
class ClassRow:
    """One browser result as the class view keeps it."""

    device: str  # DeviceResult.device: "Chrome 140 on Android, 8 logical cores"
    model: str  # the config's label
    input: str  # "224x224"
    median_ms: float
    measured_at: float  # unix time


@dataclass(frozen=True)
class ClassSummary:
    """One (device, model, input) group."""

    device: str
    model: str
    input: str
    count: int
    median_ms: float  # median of the rows' medians
    latest: float


class ClassViewStore(Protocol):
    """Where the class view's rows live: in memory, or a table of the result store's database."""

    def add(self, row: ClassRow) -> None: ...

    def rows(self) -> list[ClassRow]: ...

    def clear(self) -> None: ...


TABLE = "device_results"
COLUMNS = tuple(field.name for field in fields(ClassRow))


def schema() -> tuple[str, ...]:
    """The table, and a trigger that keeps its newest ``MAX_ROWS`` rows."""
    table = (f"CREATE TABLE IF NOT EXISTS {TABLE} (id INTEGER PRIMARY KEY, device TEXT NOT NULL, "
             "model TEXT NOT NULL, input TEXT NOT NULL, median_ms REAL NOT NULL, measured_at REAL NOT NULL)")
    bound = (f"CREATE TRIGGER IF NOT EXISTS {TABLE}_bound_{MAX_ROWS} AFTER INSERT ON {TABLE} "
             f"BEGIN DELETE FROM {TABLE} WHERE id <= NEW.id - {MAX_ROWS}; END")
    return table, bound


class SqliteClassView:
    """Class view rows in the explorer's SQLite file (one connection, shared by this process's threads)."""

    def __init__(self, database: Database) -> None:
        self.database = database  # its .path (None in memory) and .warnings say where rows are kept

    def add(self, row: ClassRow) -> None:
        self.database.write(f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                            [astuple(row)])  # fmt: skip

    def rows(self) -> list[ClassRow]:
        with self.database.reading() as connection:
            found = connection.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY id").fetchall()
        return [ClassRow(*row) for row in found]

    def clear(self) -> None:
        self.database.write(f"DELETE FROM {TABLE}")


def open_class_view(directory: Path | str | None = None) -> SqliteClassView:
    """The class view in ``directory``'s SQLite file (default: the data directory; ``":memory:"``: no file)."""
    path = MEMORY if directory == MEMORY else database_path(None if directory is None else Path(directory))
    return SqliteClassView(Database(path, schema()))


def summarize(rows: list[ClassRow], limit: int = SUMMARY_ROWS) -> list[ClassSummary]:
    """Groups by (device, model, input) with count and median of medians; the ``limit`` most recent groups,
    ordered by model, input and median."""
    groups: dict[tuple[str, str, str], list[ClassRow]] = {}
    for row in rows:
        groups.setdefault((row.device, row.model, row.input), []).append(row)
    summaries = [ClassSummary(device, model, size, len(members), statistics.median(r.median_ms for r in members),
                              max(r.measured_at for r in members))
                 for (device, model, size), members in groups.items()]  # fmt: skip
    summaries = sorted(summaries, key=lambda s: s.latest, reverse=True)[:limit]
    return sorted(summaries, key=lambda s: (s.model, _pixels(s.input), s.median_ms))


def _pixels(size: str) -> int:
    height, _, width = size.partition("x")
    return int(height) * int(width) if height.isdigit() and width.isdigit() else 0
