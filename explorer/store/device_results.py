"""What visitors' browsers measured, kept: the ``device_results`` table behind the class view, per class key.

Only ``ClassRow`` fields are kept: the device summary (browser, OS, logical cores), the
model, the input, the median and the time; no session id, address or full user agent. Each row
carries a class key (``?class=NAME`` in the link: 1-40 letters, digits, ``-`` or ``_``;
none = the default class, ``DEFAULT_CLASS``), so one course's class view never shows another's.
Storage sits behind ``ClassViewStore`` (``add``, ``rows``, ``clear``). ``SqliteClassView``
(named for its first home; any database of ``explorer.store.database``) keeps the rows in the
explorer's database, so they outlive a restart and are shared by every replica on PostgreSQL,
the newest ``DEVICE_RESULT_ROWS`` only (all classes together).
"""

from __future__ import annotations

import re
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from . import tables
from .database import Database, open_database
from .tables import CLASS_KEY_LENGTH, DEVICE_RESULT_COLUMNS, DEVICE_RESULTS_TABLE

DEFAULT_CLASS = ""
CLASS_KEY_ALLOWED = f"1-{CLASS_KEY_LENGTH} characters: letters, digits, '-' or '_'"
_CLASS_KEY = re.compile(rf"[A-Za-z0-9_-]{{1,{CLASS_KEY_LENGTH}}}")


def check_class_key(text: str) -> str:
    """``text`` if it is a class key (``ValueError`` otherwise); an empty key is the default class."""
    if text == DEFAULT_CLASS or _CLASS_KEY.fullmatch(text):
        return text
    raise ValueError(f"a class key is {CLASS_KEY_ALLOWED}")


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
    """One class's rows in the explorer's database (SQLite or PostgreSQL); ``for_class`` gives another class's."""

    def __init__(self, database: Database, class_key: str = DEFAULT_CLASS) -> None:
        self.database = database  # its .location and .warnings say where rows are kept
        self.class_key = check_class_key(class_key)

    def for_class(self, class_key: str) -> SqliteClassView:
        return self if class_key == self.class_key else SqliteClassView(self.database, class_key)

    def add(self, row: ClassRow) -> None:
        values = {**dict(zip(DEVICE_RESULT_COLUMNS, astuple(row))), "class_key": self.class_key}

        def insert_bounded(connection: Connection) -> None:
            connection.execute(insert(DEVICE_RESULTS_TABLE).values(**values))
            tables.keep_newest(connection, DEVICE_RESULTS_TABLE, tables.DEVICE_RESULT_ROWS)

        self.database.write(insert_bounded)

    def rows(self) -> list[ClassRow]:
        c = DEVICE_RESULTS_TABLE.c
        query = select(*(c[name] for name in DEVICE_RESULT_COLUMNS)).where(c.class_key == self.class_key).order_by(c.id)
        return [ClassRow(*row) for row in self.database.read(lambda connection: connection.execute(query).all())]

    def clear(self) -> None:
        self.database.write(delete(DEVICE_RESULTS_TABLE).where(DEVICE_RESULTS_TABLE.c.class_key == self.class_key))


ClassView = SqliteClassView


def open_class_view(directory: Path | str | None = None, class_key: str = DEFAULT_CLASS) -> SqliteClassView:
    """The class view of ``class_key`` in ``directory``'s database (default: ``EXPLORER_DATABASE_URL`` or the data
    directory; ``":memory:"``: no file; a ``postgresql://`` URL: that database)."""
    return SqliteClassView(open_database(directory), class_key)
