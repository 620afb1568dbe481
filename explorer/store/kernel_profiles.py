"""Table 8's kernel profiles (ONNX Runtime's per-kernel times) kept in the database: table ``kernel_profiles``.

A run on one replica is explained on another: the Table 8 verdict reads the profiles and the
GEMM peak from the shared database, not from the process that made them. Rows are keyed by
where they were made (``Place``: machine and library versions, so another machine's profile is
never used as this one's) and what was profiled (model, input, threads, batch); the record is
the caller's JSON (``explorer.latency.KernelProfile.to_record``). A new profile of a key replaces
the old one in the same transaction; the table keeps the newest ``KERNEL_PROFILE_ROWS``.
"""

from __future__ import annotations

import json
import logging
import time

from sqlalchemy import delete, insert, select
from sqlalchemy.engine import Connection

from ..shufflenet import ModelConfig
from . import tables
from .database import Database, shared_database
from .measurements import Place, input_text, model_text
from .tables import KERNEL_PROFILES

log = logging.getLogger(__name__)


class KernelProfileTable:
    """Kernel profile records of this place, newest per (config incl. input, threads, batch)."""

    def __init__(self, database: Database | None = None, place: Place | None = None) -> None:
        self._database = database  # None: this process's database, looked up at each use (tests change it)
        self.place = place or Place.here()

    @property
    def database(self) -> Database:
        return self._database or shared_database()

    def _key(self, config: ModelConfig, threads: int, batch: int) -> tuple:
        c = KERNEL_PROFILES.c
        return (
            c.machine == self.place.machine,
            c.versions == self.place.versions,
            c.model == model_text(config),
            c.input == input_text(config.input_size),
            c.threads == threads,
            c.batch == batch,
        )

    def put_record(self, config: ModelConfig, threads: int, batch: int, record: dict) -> None:
        values = {
            "machine": self.place.machine,
            "versions": self.place.versions,
            "model": model_text(config),
            "input": input_text(config.input_size),
            "threads": threads,
            "batch": batch,
            "measured_at": time.time(),
            "record": json.dumps(record),
        }
        key = self._key(config, threads, batch)

        def replace(connection: Connection) -> None:
            connection.execute(delete(KERNEL_PROFILES).where(*key))
            connection.execute(insert(KERNEL_PROFILES).values(**values))
            tables.keep_newest(connection, KERNEL_PROFILES, tables.KERNEL_PROFILE_ROWS)

        self.database.write(replace)

    def record(self, config: ModelConfig, threads: int, batch: int = 1) -> dict | None:
        """The newest record of this key made here, or None (also for a record that is not JSON)."""
        query = (
            select(KERNEL_PROFILES.c.record)
            .where(*self._key(config, threads, batch))
            .order_by(KERNEL_PROFILES.c.id.desc())
            .limit(1)
        )
        found = self.database.read(lambda connection: connection.execute(query).scalar_one_or_none())
        if found is None:
            return None
        try:
            return json.loads(found)
        except ValueError as error:
            log.warning("stored kernel profile is unreadable and left out: %s", error)
            return None

    def count(self) -> int:
        """How many profiles are kept, of every machine."""
        return len(self.database.read(lambda connection: connection.execute(select(KERNEL_PROFILES.c.id)).all()))
