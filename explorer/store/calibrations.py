"""Latency predictor calibrations, kept in the explorer's database (table ``calibrations``).

One row per (machine fingerprint, library versions, backend, thread count): a new calibration
of the same key replaces the old one, and a calibration of another machine or other versions
is never returned as this one's (``get`` asks by the full key). The record is the caller's JSON
(``explorer.latency.predictor.Calibration.to_dict()``); ``noisy`` says it was measured while the
machine was busy, so the caller re-calibrates.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, select

from .database import shared_database
from .tables import CALIBRATION_COLUMNS, CALIBRATIONS, upsert


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


def _matches(key: CalibrationKey) -> tuple:
    c = CALIBRATIONS.c
    return (c.machine == key.machine, c.versions == key.versions, c.backend == key.backend, c.threads == key.threads)


def put_calibration(key: CalibrationKey, record: dict, noisy: bool) -> None:
    """Keep ``record`` as the calibration of ``key``, replacing an older one in one statement."""
    values = dict(
        zip(
            (*CALIBRATION_COLUMNS, "record"),
            (key.machine, key.versions, key.backend, key.threads, time.time(), int(noisy), json.dumps(record)),
        )
    )
    shared_database().write(lambda connection: upsert(connection, CALIBRATIONS, values))


def calibration_record(key: CalibrationKey) -> dict | None:
    """The record kept for exactly ``key``, or None."""
    found = shared_database().read(
        lambda connection: connection.execute(select(CALIBRATIONS.c.record).where(*_matches(key))).scalar_one_or_none()
    )
    return None if found is None else json.loads(found)


def calibration_rows() -> list[dict]:
    """Every kept calibration's key, time and noisy flag (not the record), oldest first."""
    columns = [CALIBRATIONS.c[name] for name in CALIBRATION_COLUMNS]
    rows = shared_database().read(
        lambda connection: connection.execute(select(*columns).order_by(CALIBRATIONS.c.created_at)).all()
    )
    return [dict(zip(CALIBRATION_COLUMNS, row)) for row in rows]


def clear_calibrations(key: CalibrationKey | None = None) -> int:
    """Remove ``key``'s calibration, or every one (of every machine) when None; returns how many were removed."""
    where = () if key is None else _matches(key)
    database = shared_database()
    count = database.read(
        lambda connection: connection.execute(select(func.count()).select_from(CALIBRATIONS).where(*where)).scalar_one()
    )
    database.write(delete(CALIBRATIONS).where(*where))
    return count
