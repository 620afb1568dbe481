"""``python -m explorer results --copy-to URL``: an existing SQLite store moved into PostgreSQL, every table, twice
without duplicates; a bad URL refused in one line (exit 2), an unreachable server in one line (exit 1)."""

from __future__ import annotations

import pytest
from conftest import run_cli
from store_backends import fresh_database
from test_store import CONFIGS, measurement
from test_store_shared import CONFIG, profile

from explorer.latency.stored import ResultStore, open_store
from explorer.store import (
    CalibrationKey,
    ClassRow,
    KernelProfileTable,
    Place,
    open_class_view,
    open_database,
    put_calibration,
    put_peak_record,
)
from tests.servers.postgres import free_port
from ui.latency.jobs import KernelProfileStore

TABLES = ("measurements", "gemm_peaks", "calibrations", "device_results", "kernel_profiles")


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch):
    """A data directory's SQLite store with rows in every table (two places, two classes)."""
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("EXPLORER_DATABASE_URL", raising=False)
    store = open_store(tmp_path)
    for config in CONFIGS[:3]:
        store.put(measurement(config))
    ResultStore(store.database, Place("Another CPU (8 cores)", "torch=0")).put(measurement(CONFIGS[3]))
    open_class_view(tmp_path).add(ClassRow("phone", "m", "224x224", 1.0, 1.0))
    open_class_view(tmp_path, "algo-101").add(ClassRow("laptop", "m", "224x224", 2.0, 2.0))
    put_peak_record("cpu|2", 2, {"macs_per_s": 1e11})
    put_calibration(CalibrationKey("cpu|2", "{}", "ort", 2), {"format": 1}, noisy=False)
    KernelProfileTable(open_database(tmp_path)).put_record(CONFIG, 2, 1, profile().to_record())
    return store


def copied(stdout: str) -> dict[str, tuple[int, int]]:
    rows = [line.split() for line in stdout.splitlines() if line.split() and line.split()[0] in TABLES]
    return {name: (int(new), int(old)) for name, new, old in rows}


def test_copy_to_moves_every_table_once(sqlite_store, pg_cluster):
    url = fresh_database(pg_cluster)
    first = run_cli("results", "--copy-to", url)
    assert first.returncode == 0, first.stderr
    assert pg_cluster.password not in first.stdout
    assert copied(first.stdout) == {
        "measurements": (4, 0),
        "gemm_peaks": (1, 0),
        "calibrations": (1, 0),
        "device_results": (2, 0),
        "kernel_profiles": (1, 0),
    }
    again = run_cli("results", "--copy-to", url)  # idempotent
    assert again.returncode == 0 and copied(again.stdout) == {
        "measurements": (0, 4),
        "gemm_peaks": (0, 1),
        "calibrations": (0, 1),
        "device_results": (0, 2),
        "kernel_profiles": (0, 1),
    }
    moved = open_store(url)
    assert sorted(moved.all(), key=repr) == sorted(sqlite_store.all(), key=repr) and len(moved.rows()) == 4
    assert [r.device for r in open_class_view(url, "algo-101").rows()] == ["laptop"]
    assert KernelProfileStore(table=KernelProfileTable(open_database(url))).get(CONFIG, 2) == profile()


def test_copy_to_refuses_a_bad_url_and_an_unreachable_server(sqlite_store):
    bad = run_cli("results", "--copy-to", "postgresql://u:hunter2@host:port/db")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert "not a database URL" in bad.stderr and "hunter2" not in bad.stderr
    other = run_cli("results", "--copy-to", "sqlite:///x.db")
    assert other.returncode == 2 and "is not PostgreSQL" in other.stderr
    down = run_cli("results", "--copy-to", f"postgresql://u:hunter2@127.0.0.1:{free_port()}/db")
    assert down.returncode == 1 and len(down.stderr.strip().splitlines()) == 1
    assert "no PostgreSQL server accepted the connection" in down.stderr and "hunter2" not in down.stderr
