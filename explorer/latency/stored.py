"""Measurements kept across restarts: the store's measurements table, read and written as ``Measurement``.

``explorer.store`` keeps records and never imports latency; this is where a measurement
becomes a row and a record (``Measurement.to_record``) and a record becomes a measurement
again (``Measurement.from_record``, the decode function the table caches rows with).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..shufflenet import ModelConfig
from ..store.database import Database, open_database
from ..store.measurements import MeasurementRow, MeasurementTable, Place, input_text, model_text
from ..store.tables import MEASUREMENTS, measurements_schema
from .results import Measurement


def measurement_row(m: Measurement) -> MeasurementRow:
    return MeasurementRow(
        m.config,
        m.backend,
        m.threads,
        m.batch,
        m.median_ms,
        m.timing.iqr_ms,
        m.timing.runs,
        m.timing.noisy,
        m.timing.contended,
        m.measured_at,
    )


class ResultStore(MeasurementTable[Measurement]):
    """Measurements in the database: ``put`` one; read the newest per (config, backend, threads, batch) made here."""

    def __init__(self, database: Database, place: Place | None = None) -> None:
        super().__init__(database, Measurement.from_record, place)

    def put(self, measurement: Measurement) -> None:
        stamped = replace(measurement, measured_at=measurement.measured_at or time.time())
        self.put_record(measurement_row(stamped), stamped.to_record())

    def get_many(
        self, configs: Sequence[ModelConfig], backend: str, threads: int, batch: int = 1
    ) -> list[Measurement | None]:
        """``get`` of each of ``configs`` (None where none is stored), in one query."""
        if not configs:
            return []
        c = MEASUREMENTS.c
        found = self._newest(
            (
                c.model.in_({model_text(config) for config in configs}),
                c.input.in_({input_text(config.input_size) for config in configs}),
                c.batch == batch,
                c.backend == backend,
                c.threads == threads,
            )
        )
        newest = {(model_text(m.config), input_text(m.config.input_size)): m for m in found}
        return [newest.get((model_text(config), input_text(config.input_size))) for config in configs]


def open_store(directory: Path | str | None = None) -> ResultStore:
    """The result store in ``directory`` (default: ``EXPLORER_DATABASE_URL``, else the data directory; ``":memory:"``:
    no file; a ``postgresql://`` URL: that database)."""
    return ResultStore(open_database(directory, measurements_schema()))
