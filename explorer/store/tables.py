"""The store's tables, all in one place: one SQLAlchemy schema for SQLite and PostgreSQL, and each table's bound.

``measurements`` (latency results, ``explorer.store.measurements``), ``gemm_peaks`` (the
machine's GEMM peak per thread count, ``explorer.store.peaks``), ``calibrations`` (the
latency predictor's, ``explorer.store.calibrations``), ``device_results`` (what visitors'
browsers measured, per class key, ``explorer.store.device_results``) and ``kernel_profiles``
(Table 8's ONNX Runtime kernel profiles, ``explorer.store.kernel_profiles``).

Bounds are kept in code on every insert (``keep_newest``), not by triggers, because triggers are
written differently per dialect; a bound is read at insert time, so a test may lower it.
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, MetaData, String, Table, Text, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

MEASUREMENT_ROWS = 50_000  # the newest rows kept
DEVICE_RESULT_ROWS = 5000  # the newest rows kept (all classes together)
KERNEL_PROFILE_ROWS = 500  # the newest profiles kept (every machine together)
CLASS_KEY_LENGTH = 40

METADATA = MetaData()


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _columns(table: Table, *skip: str) -> tuple[str, ...]:
    """A table's value columns in order: all but the row id, the JSON record and ``skip``."""
    return tuple(c.name for c in table.c if c.name not in ("id", "record", *skip))


MEASUREMENTS = Table(
    "measurements",
    METADATA,
    _id(),
    Column("machine", Text, nullable=False),
    Column("versions", Text, nullable=False),
    Column("threads", Integer, nullable=False),
    Column("backend", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("input", Text, nullable=False),
    Column("batch", Integer, nullable=False),
    Column("median_ms", Float, nullable=False),
    Column("iqr_ms", Float, nullable=False),
    Column("runs", Integer, nullable=False),
    Column("noisy", Integer, nullable=False),
    Column("busy", Integer, nullable=False),
    Column("measured_at", Float, nullable=False),
    Column("record", Text, nullable=False),
)
Index(
    "measurements_by_key",
    *(MEASUREMENTS.c[name] for name in ("machine", "versions", "model", "input", "batch", "backend", "threads", "id")),
)
MEASUREMENT_KEY = ("model", "input", "batch", "backend", "threads")
MEASUREMENT_COLUMNS = _columns(MEASUREMENTS)

GEMM_PEAKS = Table(
    "gemm_peaks",
    METADATA,
    Column("machine", String(400), primary_key=True),
    Column("threads", Integer, primary_key=True),
    Column("measured_at", Float, nullable=False),
    Column("record", Text, nullable=False),
)

CALIBRATIONS = Table(
    "calibrations",
    METADATA,
    Column("machine", String(400), primary_key=True),
    Column("versions", String(2000), primary_key=True),
    Column("backend", String(40), primary_key=True),
    Column("threads", Integer, primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("noisy", Integer, nullable=False),
    Column("record", Text, nullable=False),
)
CALIBRATION_COLUMNS = _columns(CALIBRATIONS)

DEVICE_RESULTS_TABLE = Table(
    "device_results",
    METADATA,
    _id(),
    Column("device", Text, nullable=False),
    Column("model", Text, nullable=False),
    Column("input", Text, nullable=False),
    Column("median_ms", Float, nullable=False),
    Column("measured_at", Float, nullable=False),
    Column("class_key", String(CLASS_KEY_LENGTH), nullable=False, server_default=""),
)
DEVICE_RESULTS = DEVICE_RESULTS_TABLE.name
DEVICE_RESULT_COLUMNS = _columns(DEVICE_RESULTS_TABLE, "class_key")

KERNEL_PROFILES = Table(
    "kernel_profiles",
    METADATA,
    _id(),
    Column("machine", String(400), nullable=False),
    Column("versions", String(2000), nullable=False),
    Column("model", String(1000), nullable=False),
    Column("input", String(40), nullable=False),
    Column("threads", Integer, nullable=False),
    Column("batch", Integer, nullable=False),
    Column("measured_at", Float, nullable=False),
    Column("record", Text, nullable=False),
)
KERNEL_PROFILE_KEY = ("machine", "versions", "model", "input", "threads", "batch")
Index("kernel_profiles_by_key", *(KERNEL_PROFILES.c[name] for name in (*KERNEL_PROFILE_KEY, "id")))

ALL_TABLES = (MEASUREMENTS, GEMM_PEAKS, CALIBRATIONS, DEVICE_RESULTS_TABLE, KERNEL_PROFILES)


def keep_newest(connection: Connection, table: Table, rows: int) -> None:
    """Delete all but the newest ``rows`` rows of ``table`` (by id), in the caller's transaction."""
    newest = select(func.max(table.c.id)).scalar_subquery()
    connection.execute(delete(table).where(table.c.id <= newest - rows))


def upsert(connection: Connection, table: Table, values: dict, replace: bool = True) -> None:
    """Insert ``values``; a row with the same primary key is replaced (or kept, ``replace=False``), in one statement
    on either dialect (both spell it INSERT ... ON CONFLICT, built here by SQLAlchemy)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**values)
    keys = [column.name for column in table.primary_key]
    if replace:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={name: statement.excluded[name] for name in values if name not in keys}
        )
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    connection.execute(statement)


# Kept for callers that open a database "with a table's schema": every database now has every table.
def measurements_schema() -> tuple[Table, ...]:
    return (MEASUREMENTS,)


def gemm_peaks_schema() -> tuple[Table, ...]:
    return (GEMM_PEAKS,)


def calibrations_schema() -> tuple[Table, ...]:
    return (CALIBRATIONS,)


def device_results_schema() -> tuple[Table, ...]:
    return (DEVICE_RESULTS_TABLE,)


def kernel_profiles_schema() -> tuple[Table, ...]:
    return (KERNEL_PROFILES,)
