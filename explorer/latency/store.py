"""Latency results kept across restarts and shared by every session and process: the result store.

One row per measurement in the ``measurements`` table of the explorer's SQLite file
(``explorer.latency.database``), keyed by where it was made and what was measured:
machine (CPU model and cores), thread count, library versions, backend, model config,
input size and batch; with its median, IQR, runs, when, and its noisy / busy flags, and
the whole measurement as JSON so any page shows it exactly as it was measured.

Reading answers for *this* machine and *these* library versions only: a file copied from
another machine, or written before an upgrade, is never shown as this machine's result
(``rows()`` lists everything, each row saying whether it is this machine's). The newest
row of a key wins, so "measure again" is just another ``put``. The file keeps the newest
``MAX_ROWS`` rows. Decoded measurements are cached by row id (a row never changes), so a
page reading 10 000 stored results stays within milliseconds (``benchmarks/store.py``);
decoding them the first time costs far more (``benchmarks/store.py`` prints both, see docs/benchmarks.md),
which the app's start-up warm-up (``ui/warmup.py``) pays in the background rather than the first visitor
after a restart.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from ..shufflenet import REFERENCE_INPUT, ModelConfig, config_to_dict
from .database import MEMORY, Database, database_path
from .machine import available_cores, cpu_model, versions
from .results import Measurement

log = logging.getLogger(__name__)

MAX_ROWS = 50_000
TABLE = """CREATE TABLE IF NOT EXISTS measurements (
    id INTEGER PRIMARY KEY,
    machine TEXT NOT NULL,
    versions TEXT NOT NULL,
    threads INTEGER NOT NULL,
    backend TEXT NOT NULL,
    model TEXT NOT NULL,
    input TEXT NOT NULL,
    batch INTEGER NOT NULL,
    median_ms REAL NOT NULL,
    iqr_ms REAL NOT NULL,
    runs INTEGER NOT NULL,
    noisy INTEGER NOT NULL,
    busy INTEGER NOT NULL,
    measured_at REAL NOT NULL,
    record TEXT NOT NULL
)"""
INDEX = ("CREATE INDEX IF NOT EXISTS measurements_by_key ON measurements "
         "(machine, versions, model, input, batch, backend, threads, id)")  # fmt: skip


def schema() -> tuple[str, ...]:
    """The table, its index, and a trigger that keeps the newest ``MAX_ROWS`` rows."""
    bound = (f"CREATE TRIGGER IF NOT EXISTS measurements_bound_{MAX_ROWS} AFTER INSERT ON measurements "
             f"BEGIN DELETE FROM measurements WHERE id <= NEW.id - {MAX_ROWS}; END")  # fmt: skip
    return TABLE, INDEX, bound


KEY_COLUMNS = ("model", "input", "batch", "backend", "threads")
ROW_COLUMNS = ("machine", "versions", "threads", "backend", "model", "input", "batch", "median_ms", "iqr_ms", "runs",
               "noisy", "busy", "measured_at")  # fmt: skip


@dataclass(frozen=True)
class Place:
    """Where results hold: this CPU with this many cores, and these library versions."""

    machine: str
    versions: str

    @classmethod
    def here(cls) -> "Place":
        libraries = " ".join(f"{name}={version}" for name, version in sorted(versions().items()))
        return cls(f"{cpu_model()} ({available_cores()} cores)", libraries)


def model_text(config: ModelConfig) -> str:
    """The model without its input size, as canonical JSON (the ``model`` column)."""
    return json.dumps(config_to_dict(replace(config, input_size=REFERENCE_INPUT)), sort_keys=True)


def input_text(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


class ResultStore:
    """Measurements in SQLite: ``put`` one; read the newest per (config, backend, threads, batch) made here."""

    def __init__(self, database: Database, place: Place | None = None) -> None:
        self.database = database
        self.place = place or Place.here()
        self._decoded: dict[int, Measurement] = {}
        self._decoded_lock = threading.Lock()

    @property
    def path(self) -> Path | None:
        """The SQLite file, or None while results are kept in memory (see ``warnings``)."""
        return self.database.path

    @property
    def warnings(self) -> list[str]:
        return self.database.warnings

    def put(self, measurement: Measurement) -> None:
        m = measurement
        measured_at = m.measured_at or time.time()
        record = json.dumps(replace(m, measured_at=measured_at).to_record())
        row = (self.place.machine, self.place.versions, m.threads, m.backend, model_text(m.config),
               input_text(m.input_size), m.batch, m.median_ms, m.timing.iqr_ms, m.timing.runs, int(m.timing.noisy),
               int(m.timing.contended), measured_at, record)  # fmt: skip
        columns = ", ".join((*ROW_COLUMNS, "record"))
        self.database.write(f"INSERT INTO measurements ({columns}) VALUES ({', '.join('?' * (len(ROW_COLUMNS) + 1))})",
                            [row])  # fmt: skip

    def all(self) -> list[Measurement]:
        """The newest measurement of every (config, backend, threads, batch) made here, oldest first."""
        return self._newest("", ())

    def get(self, config: ModelConfig, backend: str, threads: int, batch: int = 1) -> Measurement | None:
        found = self._newest(" AND model = ? AND input = ? AND batch = ? AND backend = ? AND threads = ?",
                             (model_text(config), input_text(config.input_size), batch, backend, threads))  # fmt: skip
        return found[-1] if found else None

    def for_config(self, config: ModelConfig, batch: int = 1) -> list[Measurement]:
        """The newest measurement of each (backend, threads) of ``config`` (its input size included)."""
        return self._newest(" AND model = ? AND input = ? AND batch = ?",
                            (model_text(config), input_text(config.input_size), batch))  # fmt: skip

    @property
    def decoded(self) -> int:
        """How many stored rows are decoded and held (``all()`` fills it; a warm store reads from it)."""
        with self._decoded_lock:
            return len(self._decoded)

    def rows(self) -> list[dict]:
        """Every stored row, of any machine or versions, oldest first; ``here``: made on this machine with these."""
        with self.database.reading() as connection:
            rows = connection.execute(f"SELECT id, {', '.join(ROW_COLUMNS)} FROM measurements ORDER BY id").fetchall()
        records = [dict(zip(("id", *ROW_COLUMNS), row)) for row in rows]
        for record in records:
            record["here"] = (record["machine"], record["versions"]) == (self.place.machine, self.place.versions)
        return records

    def clear(self) -> int:
        """Delete every stored row (of every machine); returns how many there were."""
        with self.database.reading() as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM measurements").fetchone()
        self.database.write("DELETE FROM measurements")
        with self._decoded_lock:
            self._decoded.clear()
        return count

    # ---------------------------------------------------------------- reading
    def _newest(self, where: str, values: tuple) -> list[Measurement]:
        """The newest row of each key made here (and matching ``where``), decoded, oldest first."""
        place = (self.place.machine, self.place.versions)
        with self.database.reading() as connection:
            ids = [row_id for (row_id,) in connection.execute(
                f"SELECT MAX(id) FROM measurements WHERE machine = ? AND versions = ?{where} "
                f"GROUP BY {', '.join(KEY_COLUMNS)} ORDER BY MAX(id)", (*place, *values))]  # fmt: skip
            with self._decoded_lock:
                missing = [row_id for row_id in ids if row_id not in self._decoded]
            records = connection.execute(
                f"SELECT id, record FROM measurements WHERE id IN ({', '.join('?' * len(missing))})", missing
            ).fetchall() if missing else []  # fmt: skip
        decoded = {row_id: self._decode(row_id, record) for row_id, record in records}
        with self._decoded_lock:
            self._decoded.update((k, v) for k, v in decoded.items() if v is not None)
            found = [self._decoded[row_id] for row_id in ids if row_id in self._decoded]
            if len(self._decoded) > 2 * MAX_ROWS:  # rows deleted since: forget them
                self._decoded = {row_id: self._decoded[row_id] for row_id in ids if row_id in self._decoded}
        return found

    @staticmethod
    def _decode(row_id: int, record: str) -> Measurement | None:
        try:
            return Measurement.from_record(json.loads(record))
        except (ValueError, KeyError, TypeError) as error:  # a row this version cannot read is skipped, not fatal
            log.warning("stored result %d is unreadable and left out: %s", row_id, error)
            return None


def age_text(seconds: float) -> str:
    """How long ago a result was measured, in one short phrase: ``"3 min ago"``."""
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{max(seconds, 0):.0f} s ago"


def open_store(directory: Path | str | None = None) -> ResultStore:
    """The result store in ``directory`` (default: the data directory; ``":memory:"``: no file)."""
    path = MEMORY if directory == MEMORY else database_path(None if directory is None else Path(directory))
    return ResultStore(Database(path, schema()))
