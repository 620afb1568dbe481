"""Latency results kept across restarts and shared by every session and process: the measurements table.

One row per measurement in the ``measurements`` table of the explorer's database (the SQLite
file, or PostgreSQL when ``EXPLORER_DATABASE_URL`` is set: ``explorer.store.database``), keyed by where it was made and what was measured:
machine (CPU model and cores), thread count, library versions, backend, model config,
input size and batch; with its median, IQR, runs, when, and its noisy / busy flags, and
the whole measurement as a JSON record so any page shows it exactly as it was measured.

The store keeps records, not measurements: the caller gives each row's columns
(``MeasurementRow``) and its record, and the table is opened with the ``decode`` function
that turns a record back into what the caller reads (``explorer.latency.stored`` passes
``Measurement.from_record``), so the store never imports what it stores.

Reading answers for *this* machine and *these* library versions only: a file copied from
another machine, or written before an upgrade, is never shown as this machine's result
(``rows()`` lists everything, each row saying whether it is this machine's). The newest
row of a key wins, so "measure again" is just another put. The table keeps the newest
``MEASUREMENT_ROWS`` rows (older ones deleted in the inserting transaction). Decoded records are cached by row id (a row never changes), so a
page reading 10 000 stored results stays within milliseconds (``benchmarks/store.py``);
decoding them the first time costs far more (``benchmarks/store.py`` prints both, see docs/benchmarks.md),
which the app's start-up warm-up (``ui/shell/warmup.py``) pays in the background rather than the first visitor
after a restart.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Generic, TypeVar

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Connection

from ..machine import available_cores, cpu_model, versions
from ..shufflenet import REFERENCE_INPUT, ModelConfig, config_to_dict
from . import tables
from .database import Database
from .tables import MEASUREMENT_COLUMNS, MEASUREMENT_KEY, MEASUREMENTS

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Place:
    """Where results hold: this CPU with this many cores, and these library versions."""

    machine: str
    versions: str

    @classmethod
    def here(cls) -> Place:
        libraries = " ".join(f"{name}={version}" for name, version in sorted(versions().items()))
        return cls(f"{cpu_model()} ({available_cores()} cores)", libraries)


@dataclass(frozen=True)
class MeasurementRow:
    """The columns a measurement is found and listed by (its record holds the rest)."""

    config: ModelConfig
    backend: str
    threads: int
    batch: int
    median_ms: float
    iqr_ms: float
    runs: int
    noisy: bool
    busy: bool
    measured_at: float


def model_text(config: ModelConfig) -> str:
    """The model without its input size, as canonical JSON (the ``model`` column)."""
    return json.dumps(config_to_dict(replace(config, input_size=REFERENCE_INPUT)), sort_keys=True)


def input_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


class MeasurementTable(Generic[T]):
    """Measurements in the database: ``put_record`` one; read the newest per (config, backend, threads, batch) made here,
    each record decoded by ``decode``."""

    def __init__(self, database: Database, decode: Callable[[dict], T], place: Place | None = None) -> None:
        self.database = database
        self.place = place or Place.here()
        self._decode_record = decode
        self._decoded: dict[tuple[int, int], T] = {}
        self._decoded_lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL or while results are kept in memory (see ``warnings``)."""
        return self.database.path

    @property
    def warnings(self) -> list[str]:
        return self.database.warnings

    def put_record(self, row: MeasurementRow, record: dict) -> None:
        values = dict(
            zip(
                (*MEASUREMENT_COLUMNS, "record"),
                (
                    self.place.machine,
                    self.place.versions,
                    row.threads,
                    row.backend,
                    model_text(row.config),
                    input_text(row.config.input_size),
                    row.batch,
                    row.median_ms,
                    row.iqr_ms,
                    row.runs,
                    int(row.noisy),
                    int(row.busy),
                    row.measured_at,
                    json.dumps(record),
                ),
            )
        )

        def insert_bounded(connection: Connection) -> None:
            connection.execute(insert(MEASUREMENTS).values(**values))
            tables.keep_newest(connection, MEASUREMENTS, tables.MEASUREMENT_ROWS)

        self.database.write(insert_bounded)

    def all(self) -> list[T]:
        """The newest measurement of every (config, backend, threads, batch) made here, oldest first."""
        return self._newest(())

    def get(self, config: ModelConfig, backend: str, threads: int, batch: int = 1) -> T | None:
        c = MEASUREMENTS.c
        found = self._newest(
            (
                c.model == model_text(config),
                c.input == input_text(config.input_size),
                c.batch == batch,
                c.backend == backend,
                c.threads == threads,
            )
        )
        return found[-1] if found else None

    def for_config(self, config: ModelConfig, batch: int = 1) -> list[T]:
        """The newest measurement of each (backend, threads) of ``config`` (its input size included)."""
        c = MEASUREMENTS.c
        return self._newest((c.model == model_text(config), c.input == input_text(config.input_size), c.batch == batch))

    @property
    def decoded(self) -> int:
        """How many stored rows are decoded and held (``all()`` fills it; a warm store reads from it)."""
        with self._decoded_lock:
            return len(self._decoded)

    def rows(self) -> list[dict]:
        """Every stored row, of any machine or versions, oldest first; ``here``: made on this machine with these."""
        columns = [MEASUREMENTS.c.id, *(MEASUREMENTS.c[name] for name in MEASUREMENT_COLUMNS)]
        rows = self.database.read(
            lambda connection: connection.execute(select(*columns).order_by(MEASUREMENTS.c.id)).all()
        )
        records = [dict(zip(("id", *MEASUREMENT_COLUMNS), row)) for row in rows]
        for record in records:
            record["here"] = (record["machine"], record["versions"]) == (self.place.machine, self.place.versions)
        return records

    def clear(self) -> int:
        """Delete every stored row (of every machine); returns how many there were."""
        count = self.database.read(
            lambda connection: connection.execute(select(func.count()).select_from(MEASUREMENTS)).scalar_one()
        )
        self.database.write(delete(MEASUREMENTS))
        with self._decoded_lock:
            self._decoded.clear()
        return count

    # ---------------------------------------------------------------- reading
    def _newest(self, conditions: tuple) -> list[T]:
        """The newest row of each key made here (and matching ``conditions``), decoded, oldest first."""
        c = MEASUREMENTS.c
        newest = func.max(c.id)
        query = (
            select(newest)
            .where(c.machine == self.place.machine, c.versions == self.place.versions, *conditions)
            .group_by(*(c[name] for name in MEASUREMENT_KEY))
            .order_by(newest)
        )

        def read(connection: Connection) -> tuple[object, list[int], list]:
            # Row ids are only unique within one database: PostgreSQL and the memory kept during its outage differ.
            source = id(connection.engine)
            ids = [row_id for (row_id,) in connection.execute(query)]
            with self._decoded_lock:
                missing = [row_id for row_id in ids if (source, row_id) not in self._decoded]
            records = connection.execute(select(c.id, c.record).where(c.id.in_(missing))).all() if missing else []
            return source, ids, records

        source, ids, records = self.database.read(read)
        decoded = {(source, row_id): self._decode(row_id, record) for row_id, record in records}
        with self._decoded_lock:
            self._decoded.update((k, v) for k, v in decoded.items() if v is not None)
            found = [self._decoded[(source, row_id)] for row_id in ids if (source, row_id) in self._decoded]
            if len(self._decoded) > 2 * tables.MEASUREMENT_ROWS:  # rows deleted since: forget them
                self._decoded = {(source, i): self._decoded[(source, i)] for i in ids if (source, i) in self._decoded}
        return found

    def _decode(self, row_id: int, record: str) -> T | None:
        try:
            return self._decode_record(json.loads(record))
        except (ValueError, KeyError, TypeError) as error:  # a row this version cannot read is skipped, not fatal
            log.warning("stored result %d is unreadable and left out: %s", row_id, error)
            return None


def age_text(seconds: float) -> str:
    """How long ago a result was measured, in one short phrase: ``"3 min ago"``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{max(seconds, 0):.0f} s ago"
