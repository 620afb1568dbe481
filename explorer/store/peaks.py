"""The machine's GEMM peak per thread count, kept in the explorer's database (table ``gemm_peaks``).

Rows are keyed by the caller's machine fingerprint and thread count and hold the peak as a
JSON record (``explorer.latency.roofline`` writes ``GemmPeak.to_record()`` and reads it back).
The database is this process's at ``EXPLORER_DATABASE_URL`` or the data directory (``shared_database``).
"""

from __future__ import annotations

import json
import time

from sqlalchemy import select

from .database import shared_database
from .tables import GEMM_PEAKS, upsert


def peak_record(machine: str, threads: int) -> dict | None:
    """The record stored for ``machine`` and ``threads``, or None; raises if the row is not JSON."""
    c = GEMM_PEAKS.c
    found = shared_database().read(
        lambda connection: connection.execute(
            select(c.record).where(c.machine == machine, c.threads == threads)
        ).scalar_one_or_none()
    )
    return None if found is None else json.loads(found)


def put_peak_record(machine: str, threads: int, record: dict) -> None:
    """Keep ``record`` as the peak of ``machine`` and ``threads`` (replacing any older one)."""
    values = {"machine": machine, "threads": threads, "measured_at": time.time(), "record": json.dumps(record)}
    shared_database().write(lambda connection: upsert(connection, GEMM_PEAKS, values))
