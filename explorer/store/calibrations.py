"""Latency predictor calibrations, kept in the data directory's database (table ``calibrations``).

One row per (machine fingerprint, library versions, backend, thread count): a new calibration
of the same key replaces the old one, and a calibration of another machine or other versions
is never returned as this one's (``get`` asks by the full key). The record is the caller's JSON
(``explorer.latency.predictor.Calibration.to_dict()``); ``noisy`` says it was measured while the
machine was busy, so the caller re-calibrates.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from .database import Database, database_path
from .tables import CALIBRATION_COLUMNS, calibrations_schema

_DATABASES: dict[str, Database] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class CalibrationKey:
    """What a calibration is valid for: this machine, these library versions, one backend at one thread count."""

    machine: str
    versions: str  # JSON of the versions dict, keys sorted: equal versions give equal text
    backend: str
    threads: int

    @staticmethod
    def versions_text(versions: dict[str, str]) -> str:
        return json.dumps(versions, sort_keys=True)


def _database() -> Database:
    """The data directory's database, opened once per path (``EXPLORER_DATA_DIR`` may differ between tests)."""
    path = str(database_path())
    with _LOCK:
        if path not in _DATABASES:
            _DATABASES[path] = Database(path, calibrations_schema())
        return _DATABASES[path]


def put_calibration(key: CalibrationKey, record: dict, noisy: bool) -> None:
    """Keep ``record`` as the calibration of ``key``, replacing an older one in one statement."""
    values = (key.machine, key.versions, key.backend, key.threads, time.time(), int(noisy), json.dumps(record))
    _database().write(
        f"INSERT OR REPLACE INTO calibrations ({', '.join(CALIBRATION_COLUMNS)}, record) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [values],
    )


def calibration_record(key: CalibrationKey) -> dict | None:
    """The record kept for exactly ``key``, or None."""
    with _database().reading() as connection:
        row = connection.execute(
            "SELECT record FROM calibrations WHERE machine = ? AND versions = ? AND backend = ? AND threads = ?",
            (key.machine, key.versions, key.backend, key.threads),
        ).fetchone()
    return None if row is None else json.loads(row[0])


def calibration_rows() -> list[dict]:
    """Every kept calibration's key, time and noisy flag (not the record), oldest first."""
    with _database().reading() as connection:
        rows = connection.execute(f"SELECT {', '.join(CALIBRATION_COLUMNS)} FROM calibrations ORDER BY created_at")
        return [dict(zip(CALIBRATION_COLUMNS, row)) for row in rows.fetchall()]


def clear_calibrations(key: CalibrationKey | None = None) -> int:
    """Remove ``key``'s calibration, or every one (of every machine) when None; returns how many were removed."""
    where, values = ("", ()) if key is None else (
        " WHERE machine = ? AND versions = ? AND backend = ? AND threads = ?",
        (key.machine, key.versions, key.backend, key.threads),
    )
    with _database().reading() as connection:
        (count,) = connection.execute(f"SELECT COUNT(*) FROM calibrations{where}", values).fetchone()
    _database().write(f"DELETE FROM calibrations{where}", [values] if values else None)
    return count
