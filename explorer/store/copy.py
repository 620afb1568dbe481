"""Copy one database's rows into another (``python -m explorer results --copy-to URL``): every table, idempotently.

A row is copied unless the target already has it: tables keyed by an ``id`` compare every other
column except the JSON record (a measurement is its place, key, numbers and time), the others their
primary key (an existing peak or calibration in the target is kept). So running the copy twice
adds nothing the second time. Measurements and device results get new ids in the target, in
the source's order; each table's bound is kept afterwards.
"""

from __future__ import annotations

from sqlalchemy import Table, insert, select
from sqlalchemy.engine import Connection

from . import tables
from .database import Database

BOUNDS = {
    "measurements": "MEASUREMENT_ROWS",
    "device_results": "DEVICE_RESULT_ROWS",
    "kernel_profiles": "KERNEL_PROFILE_ROWS",
}


def identity(table: Table) -> list[str]:
    """The columns that say two rows are the same row."""
    if "id" not in table.c:
        return [column.name for column in table.primary_key]
    return [column.name for column in table.c if column.name not in ("id", "record")]


def copy_rows(source: Database, target: Database) -> dict[str, tuple[int, int]]:
    """Copy what ``target`` lacks of every table of ``source``; per table (rows copied, rows already there)."""
    counts = {}
    for table in tables.ALL_TABLES:
        columns = [column for column in table.c if column.name != "id"]
        order = table.c.id if "id" in table.c else list(table.primary_key)
        listing = select(*columns).order_by(*(order if isinstance(order, list) else [order]))
        rows = source.read(lambda connection, q=listing: [dict(row._mapping) for row in connection.execute(q)])
        key = identity(table)
        present = select(*(table.c[name] for name in key))
        have = target.read(lambda connection, q=present: {tuple(row) for row in connection.execute(q)})
        missing = [row for row in rows if tuple(row[name] for name in key) not in have]
        if missing:
            target.write(lambda connection, t=table, m=missing: _insert(connection, t, m))
        counts[table.name] = (len(missing), len(rows) - len(missing))
    return counts


def _insert(connection: Connection, table: Table, rows: list[dict]) -> None:
    connection.execute(insert(table), rows)
    if table.name in BOUNDS:
        tables.keep_newest(connection, table, getattr(tables, BOUNDS[table.name]))
