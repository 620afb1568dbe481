"""The store's tables, all in one place: their SQL, their columns and how many rows each keeps.

``measurements`` (latency results, ``explorer.store.measurements``), ``gemm_peaks`` (the
machine's GEMM peak per thread count, ``explorer.store.peaks``), ``calibrations`` (the
latency predictor's, ``explorer.store.calibrations``) and ``device_results``
(what visitors' browsers measured, ``explorer.store.device_results``). Each ``*_schema()``
is what ``Database(schema=...)`` creates when it opens the file; a bound is read when the
schema is made, so a test may lower it before opening a store.
"""

from __future__ import annotations

MEASUREMENT_ROWS = 50_000  # the newest rows kept
DEVICE_RESULT_ROWS = 5000  # the newest rows kept

MEASUREMENTS = """CREATE TABLE IF NOT EXISTS measurements (
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
MEASUREMENTS_INDEX = ("CREATE INDEX IF NOT EXISTS measurements_by_key ON measurements "
                      "(machine, versions, model, input, batch, backend, threads, id)")  # fmt: skip
MEASUREMENT_KEY = ("model", "input", "batch", "backend", "threads")
MEASUREMENT_COLUMNS = ("machine", "versions", "threads", "backend", "model", "input", "batch", "median_ms", "iqr_ms",
                       "runs", "noisy", "busy", "measured_at")  # fmt: skip

GEMM_PEAKS = """CREATE TABLE IF NOT EXISTS gemm_peaks (
    machine TEXT NOT NULL,
    threads INTEGER NOT NULL,
    measured_at REAL NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (machine, threads)
)"""

CALIBRATIONS = """CREATE TABLE IF NOT EXISTS calibrations (
    machine TEXT NOT NULL,
    versions TEXT NOT NULL,
    backend TEXT NOT NULL,
    threads INTEGER NOT NULL,
    created_at REAL NOT NULL,
    noisy INTEGER NOT NULL,
    record TEXT NOT NULL,
    PRIMARY KEY (machine, versions, backend, threads)
)"""
CALIBRATION_COLUMNS = ("machine", "versions", "backend", "threads", "created_at", "noisy")

DEVICE_RESULTS = "device_results"
DEVICE_RESULT_COLUMNS = ("device", "model", "input", "median_ms", "measured_at")


def measurements_schema() -> tuple[str, ...]:
    """The table, its index, and a trigger that keeps the newest ``MEASUREMENT_ROWS`` rows."""
    bound = (f"CREATE TRIGGER IF NOT EXISTS measurements_bound_{MEASUREMENT_ROWS} AFTER INSERT ON measurements "
             f"BEGIN DELETE FROM measurements WHERE id <= NEW.id - {MEASUREMENT_ROWS}; END")  # fmt: skip
    return MEASUREMENTS, MEASUREMENTS_INDEX, bound


def gemm_peaks_schema() -> tuple[str, ...]:
    return (GEMM_PEAKS,)


def calibrations_schema() -> tuple[str, ...]:
    return (CALIBRATIONS,)


def device_results_schema() -> tuple[str, ...]:
    """The table, and a trigger that keeps its newest ``DEVICE_RESULT_ROWS`` rows."""
    table = (f"CREATE TABLE IF NOT EXISTS {DEVICE_RESULTS} (id INTEGER PRIMARY KEY, device TEXT NOT NULL, "
             "model TEXT NOT NULL, input TEXT NOT NULL, median_ms REAL NOT NULL, measured_at REAL NOT NULL)")
    bound = (f"CREATE TRIGGER IF NOT EXISTS {DEVICE_RESULTS}_bound_{DEVICE_RESULT_ROWS} AFTER INSERT ON "
             f"{DEVICE_RESULTS} BEGIN DELETE FROM {DEVICE_RESULTS} WHERE id <= NEW.id - {DEVICE_RESULT_ROWS}; END")
    return table, bound
