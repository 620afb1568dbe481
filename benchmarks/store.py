"""Benchmark: reading 10 000 stored latency results for one Latency page render.

Fills a fresh result store (in a temporary data directory) with 10 000 distinct
measurements, then times what one page render reads: ``all()`` (the chart, Table 8) and
five ``get()`` calls (the "This model" table), both on the server's long-lived store
object (decoded rows cached: every render after the first, and the first one after a
restart too, because the server's start-up warm-up, ``ui/shell/warmup.py``, decodes the store in
the background) and on a new store object with nothing decoded (a render that beats the
warm-up to it: every row decoded; printed for the record, the warm-up's own cost).
Target: < 50 ms per render. Baseline in the same run: the bare SQLite query that lists the
10 000 rows.

    .venv/bin/python benchmarks/store.py
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer import ShuffleNetConfig  # noqa: E402
from explorer.latency import BACKENDS, Measurement  # noqa: E402
from explorer.latency.stored import open_store  # noqa: E402
from explorer.latency.timing import summarize  # noqa: E402

ROWS = 10_000
REPEATS = 15
TARGET_MS = 50.0


def fill(store) -> ShuffleNetConfig:
    rows = []
    for index in range(ROWS):
        config = ShuffleNetConfig(
            groups=1 + index % 8,
            width=round(0.1 + (index // 8) % 390 * 0.01, 2),
            input_size=(224, 224 + 16 * (index // 3120)),
        )
        rows.append(
            Measurement(
                config, "ort", 2, 1, summarize([1.0, 1.1, 1.2, 1.05, 0.98]), 1, 1, 1e11, measured_at=time.time()
            )
        )
    for measurement in rows:
        store.put(measurement)
    assert len(store.all()) == ROWS, len(store.all())
    return rows[-1].config


def render(store, config) -> None:
    store.all()
    for backend in BACKENDS:
        store.get(config, backend, 2)


def median_ms(function, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help, and no stray arguments
    with tempfile.TemporaryDirectory(prefix="explorer-store-bench-") as directory:
        store = open_store(directory)
        start = time.perf_counter()
        config = fill(store)
        print(f"filled {ROWS} results in {time.perf_counter() - start:.1f} s ({store.path})")
        with store.database.reading() as connection:
            bare = median_ms(lambda: connection.exec_driver_sql("SELECT id, model, input FROM measurements").fetchall())
        warm = median_ms(lambda: render(store, config))
        cold = median_ms(lambda: render(open_store(directory), config), repeats=5)
    print(f"bare SQLite listing of {ROWS} rows (baseline): median {bare:.1f} ms")
    verdict = "met" if warm < TARGET_MS else "MISSED"
    print(
        f"page render, long-lived store (every render, the first after a restart too once the warm-up has run): "
        f"median {warm:.1f} ms = {warm / bare:.1f}x the bare listing; target < {TARGET_MS:g} ms: {verdict}"
    )
    print(
        f"decoding every row on a new store (the start-up warm-up's work, or a render that beats it): "
        f"median {cold:.1f} ms = {cold / bare:.1f}x the bare listing"
    )


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("store", main))
