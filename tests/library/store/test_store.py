"""The latency result store: kept across restarts, shared by processes, safe on a bad file or a bad disk.

Every test opens its own store: tests taking ``location`` run on both backends (a SQLite data directory
and a PostgreSQL database of a throw-away cluster, ``store_backends``); the file faults are SQLite's own. measurements are real ``Measurement`` objects
(their timings summarised from fixed samples: what is stored, not how fast this machine is).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

from explorer import AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from explorer.latency import Measurement
from explorer.latency.stored import ResultStore, open_store
from explorer.latency.timing import summarize
from explorer.store import Place
from explorer.store.database import FILE_NAME, Database
from explorer.store.tables import measurements_schema
from explorer.store.urls import masked

CONFIGS = [
    ShuffleNetConfig(groups=8, width=0.5, variant="arch2", shuffle=False, input_size=(480, 640)),
    ShuffleNetConfig(),
    AlexNetConfig(),
    MobileNetConfig(0.25, input_size=(96, 128)),
]


def measurement(
    config=CONFIGS[0],
    backend: str = "ort",
    median: float = 2.0,
    threads: int = 2,
    batch: int = 1,
    when: float = 1_700_000_000.0,
) -> Measurement:
    timing = summarize([median * 0.98, median, median * 1.01], others_share=0.05)
    return Measurement(
        config, backend, threads, batch, timing, 40_000_000, 38_000_000, 1.2e11, 1e-6, 1e-7, 0.4, measured_at=when
    )


def test_a_measurement_comes_back_exactly_after_a_restart(location):
    first = open_store(location)
    stored = [measurement(c, b) for c in CONFIGS for b in ("torch", "ort")]
    for m in stored:
        first.put(m)
    first.database.close()
    again = open_store(location)  # a new server process opening the same data directory or database
    assert not again.warnings and not again.database.in_memory
    assert again.path == (None if isinstance(location, str) else location / FILE_NAME)
    for m in stored:
        assert again.get(m.config, m.backend, m.threads) == m
    assert sorted(map(Measurement.key, again.all()), key=repr) == sorted(map(Measurement.key, stored), key=repr)


def test_the_newest_measurement_of_a_key_wins_and_others_stay_apart(location):
    store = open_store(location)
    store.put(measurement(median=3.0, when=1.0))
    store.put(measurement(median=2.0, when=2.0))  # measured again
    store.put(measurement(median=9.0, threads=1))  # another thread count: another key
    store.put(measurement(median=8.0, batch=4))
    assert store.get(CONFIGS[0], "ort", 2).median_ms == pytest.approx(2.0)
    assert store.get(CONFIGS[0], "ort", 1).median_ms == pytest.approx(9.0)
    assert store.get(CONFIGS[0], "ort", 2, batch=4).median_ms == pytest.approx(8.0)
    assert store.get(CONFIGS[0], "torch", 2) is None
    assert store.get(replace(CONFIGS[0], input_size=(224, 224)), "ort", 2) is None  # the input is part of the key
    assert {m.threads for m in store.for_config(CONFIGS[0])} == {1, 2}
    assert len(store.rows()) == 4 and len(store.all()) == 3


def test_get_many_answers_as_get_does_for_each_config(location):
    store = open_store(location)
    store.put(measurement(CONFIGS[0], median=3.0, when=1.0))
    store.put(measurement(CONFIGS[0], median=2.0, when=2.0))  # measured again: the newest wins
    store.put(measurement(CONFIGS[1], median=5.0))
    store.put(measurement(CONFIGS[2], median=7.0, threads=1))  # another thread count: not asked for
    same_model_other_input = replace(CONFIGS[0], input_size=CONFIGS[1].input_size)
    asked = [CONFIGS[1], same_model_other_input, CONFIGS[0], CONFIGS[2], CONFIGS[1]]
    assert store.get_many(asked, "ort", 2) == [store.get(c, "ort", 2) for c in asked]
    assert [m and m.median_ms for m in store.get_many(asked, "ort", 2)] == [5.0, None, 2.0, None, 5.0]
    assert store.get_many(asked, "torch", 2) == [None] * len(asked) and store.get_many([], "ort", 2) == []


def test_results_of_another_machine_or_other_versions_are_never_shown_as_this_machines(location):
    database = Database(location if isinstance(location, str) else location / FILE_NAME, measurements_schema())
    here = ResultStore(database)
    for place in (Place("Some other CPU (64 cores)", here.place.versions), Place(here.place.machine, "torch=1.0")):
        ResultStore(database, place).put(measurement(median=99.0))
    assert here.all() == [] and here.get(CONFIGS[0], "ort", 2) is None
    assert [row["here"] for row in here.rows()] == [False, False]
    here.put(measurement(median=2.0))
    assert [m.median_ms for m in here.all()] == [pytest.approx(2.0)]


def test_a_corrupt_file_is_moved_aside_and_a_fresh_one_started(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_bytes(b"this is not a database, it is an old text file " * 100)
    store = open_store(tmp_path)
    [moved] = [p for p in tmp_path.iterdir() if p.name.startswith(f"{FILE_NAME}.corrupt-")]
    assert moved.read_bytes().startswith(b"this is not a database")
    [warning] = store.warnings
    assert str(path) in warning and str(moved) in warning and "new one started" in warning
    assert store.path == path
    store.put(measurement())
    assert open_store(tmp_path).get(CONFIGS[0], "ort", 2) == measurement()


def test_a_row_this_version_cannot_read_is_left_out(location):
    store = open_store(location)
    store.put(measurement(backend="torch"))
    store.put(measurement(backend="ort"))
    store.database.write("UPDATE measurements SET record = '{\"config\": 1}' WHERE backend = 'torch'")
    assert [m.backend for m in open_store(location).all()] == ["ort"]


def test_a_directory_that_cannot_be_made_falls_back_to_memory(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = open_store(blocker / "data")  # its parent is a file: mkdir fails as on a read-only disk
    assert store.path is None and "in memory only" in store.warnings[0] and str(blocker / "data") in store.warnings[0]
    store.put(measurement())
    assert store.get(CONFIGS[0], "ort", 2) == measurement()


def refuse_writes(connection, fault: str) -> None:
    """Make SQLite itself refuse further writes to the file: read-only, or no page left to grow into."""
    if fault == "readonly":
        connection.exec_driver_sql("PRAGMA query_only = ON")
    else:
        (pages,) = connection.exec_driver_sql("PRAGMA page_count").fetchone()
        connection.exec_driver_sql(f"PRAGMA max_page_count = {pages}")


@pytest.mark.parametrize("fault", ["readonly", "full"])
def test_a_write_refused_by_sqlite_falls_back_to_memory_keeping_every_result(tmp_path, fault):
    """A read-only file or a full disk, as SQLite itself reports them (SQLITE_READONLY / SQLITE_FULL)."""
    store = open_store(tmp_path)
    store.put(measurement(backend="torch"))
    with store.database.reading() as connection:
        refuse_writes(connection, fault)
    for batch in range(1, 41):  # enough rows to need a new page
        store.put(measurement(backend="ort", batch=batch))  # refused by the file at some point: kept in memory
    assert store.path is None and fault in store.warnings[-1].replace("-", "")
    assert len(store.all()) == 41  # nothing shown before is lost


@contextlib.contextmanager
def mounted_tmpfs(where: Path, options: str):
    where.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()}); the PRAGMA test covers the case")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)


def test_a_full_disk_falls_back_to_memory(tmp_path):
    with mounted_tmpfs(tmp_path / "small", "size=96k") as disk:
        store = open_store(disk)
        for index in range(400):  # far more than 96 kB of rows
            store.put(measurement(batch=index + 1))
        assert store.path is None and "full" in store.warnings[-1]
        assert len(store.all()) == 400


def test_a_read_only_disk_falls_back_to_memory(tmp_path):
    with mounted_tmpfs(tmp_path / "ro", "ro,size=1m") as disk:
        store = open_store(disk)
        assert store.path is None and "in memory only" in store.warnings[0]
        store.put(measurement())
        assert store.all() == [measurement()]


def test_threads_writing_at_once_lose_no_row(location):
    store = open_store(location)

    def write(thread: int) -> None:
        for index in range(40):
            store.put(measurement(batch=thread * 100 + index + 1))

    workers = [threading.Thread(target=write, args=(t,)) for t in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(store.rows()) == len(store.all()) == 240


WRITER = """
import sys
from explorer.latency import Measurement
from explorer.latency.stored import open_store
from explorer.latency.timing import summarize
from explorer import ShuffleNetConfig
store = open_store(sys.argv[1])
for index in range(150):
    timing = summarize([1.0, 1.0, 1.0])
    store.put(Measurement(ShuffleNetConfig(), "torch", 1, int(sys.argv[2]) * 1000 + index + 1, timing, 1, 1, None))
print(len(store.warnings))
"""


def test_two_processes_writing_at_once_lose_no_row(location):
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(location), str(n)],
            cwd=ROOT,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for n in (1, 2)
    ]
    outputs = [writer.communicate(timeout=300) for writer in writers]
    assert [w.returncode for w in writers] == [0, 0], outputs
    assert [out.strip() for out, _ in outputs] == ["0", "0"]  # both wrote to the file, none fell back
    assert len(open_store(location).all()) == 300


def test_results_command_locates_lists_exports_and_clears(store_env, tmp_path):
    store = open_store()
    where = masked(store_env) if isinstance(store_env, str) else str(tmp_path / FILE_NAME)
    for config in CONFIGS[:2]:
        store.put(measurement(config))
    ResultStore(store.database, Place("Another CPU (8 cores)", "torch=0")).put(measurement(CONFIGS[2]))
    located = run_cli("results", "--path")
    assert located.returncode == 0 and located.stdout.strip() == where
    listed = run_cli("results")
    assert listed.returncode == 0 and "3 stored results" in listed.stdout
    assert "ShuffleNet 0.5x arch2 (g=8, no shuffle)" in listed.stdout and "480x640" in listed.stdout
    assert [line.rstrip().endswith(" other") for line in listed.stdout.splitlines()].count(True) == 1
    exported = json.loads(run_cli("results", "--json").stdout)
    assert exported["path"] == where and len(exported["results"]) == 3
    assert [r["here"] for r in exported["results"]] == [True, True, False]
    assert {
        "machine",
        "versions",
        "backend",
        "model",
        "input",
        "batch",
        "median_ms",
        "iqr_ms",
        "runs",
        "noisy",
        "measured_at",
    } <= set(exported["results"][0])
    cleared = run_cli("results", "--clear")
    assert cleared.returncode == 0 and "Deleted 3 stored results" in cleared.stdout
    assert open_store().rows() == []
    refused = run_cli("results", "--clear", "--path")
    assert refused.returncode == 2 and "not allowed with argument" in refused.stderr


def test_bench_keeps_what_it_measures(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    done = run_cli(
        "bench",
        "--groups",
        "8",
        "--width",
        "0.25",
        "--input",
        "64x64",
        "--backends",
        "torch",
        "--threads",
        "1",
        "--min-time",
        "0.02",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    [result] = json.loads(done.stdout)["results"]
    [stored] = open_store().all()
    assert stored.model == result["model"] and stored.median_ms == pytest.approx(result["median_ms"])
    assert os.path.exists(tmp_path / FILE_NAME)
