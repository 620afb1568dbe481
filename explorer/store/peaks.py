"""The machine's GEMM peak per thread count, kept in the data directory's SQLite file (table ``gemm_peaks``).

Rows are keyed by the caller's machine fingerprint and thread count and hold the peak as a
JSON record (``explorer.latency.roofline`` writes ``GemmPeak.to_record()`` and reads it back).
One ``Database`` per file path: ``EXPLORER_DATA_DIR`` may differ between tests.
"""

from __future__ import annotations

import json
import threading
import time

from .database import Database, database_path
from .tables import gemm_peaks_schema

_DATABASES: dict[str, Database] = {}
_LOCK = threading.Lock()


def _database() -> Database:
    """The data directory's database, opened once per path."""
    path = str(database_path())
    with _LOCK:
        if path not in _DATABASES:
            _DATABASES[path] = Database(path, gemm_peaks_schema())
        return _DATABASES[path]


def peak_record(machine: str, threads: int) -> dict | None:
    """The record stored for ``machine`` and ``threads``, or None; raises if the row is not JSON."""
    with _database().reading() as connection:
        row = connection.execute("SELECT record FROM gemm_peaks WHERE machine = ? AND threads = ?",
                                 (machine, threads)).fetchone()  # fmt: skip
    return None if row is None else json.loads(row[0])


def put_peak_record(machine: str, threads: int, record: dict) -> None:
    """Keep ``record`` as the peak of ``machine`` and ``threads`` (replacing any older one)."""
    _database().write("INSERT OR REPLACE INTO gemm_peaks (machine, threads, measured_at, record) VALUES (?, ?, ?, ?)",
                      [(machine, threads, time.time(), json.dumps(record))])
