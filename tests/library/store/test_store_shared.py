"""What the store keeps for every replica, on both backends: Table 8 kernel profiles, class keys, bounds.

Each test takes ``location`` (``store_backends``): a SQLite data directory, then a PostgreSQL
database of a throw-away cluster. Two ``Database`` objects on one location stand for two
processes (two replicas) sharing it.
"""

from __future__ import annotations

import threading

import pytest

from explorer import ShuffleNetConfig
from explorer.latency import KernelProfile
from explorer.latency.kernel_profile import ProfileRow
from explorer.store import ClassRow, KernelProfileTable, Place, check_class_key, open_class_view, open_database, tables
from ui.latency.jobs import KernelProfileStore

CONFIG = ShuffleNetConfig(groups=3, width=0.5, input_size=(480, 640))


def profile(median: float = 4.0, threads: int = 2, config=CONFIG) -> KernelProfile:
    rows = (
        ProfileRow("1x1 GConv, compress (+BN, ReLU)", 1.25, 0.5, 16, 2.5e7, 1e4),
        ProfileRow("3x3 depthwise conv (+BN)", 1.25, 0.5, 16, 3e6, 0.0),
    )
    return KernelProfile(config, threads, 1, rows, 2.5, median)


def test_a_kernel_profile_made_on_one_replica_is_read_exactly_on_another(location):
    maker, reader = (KernelProfileStore(table=KernelProfileTable(open_database(location))) for _ in range(2))
    maker.put(profile(4.0))
    maker.put(profile(3.0))  # profiled again: replaces
    assert reader.get(CONFIG, 2) == profile(3.0)
    assert reader.get(CONFIG, 1) is None and reader.get(ShuffleNetConfig(), 2) is None


def test_another_machines_kernel_profile_is_never_used_here(location):
    database = open_database(location)
    KernelProfileTable(database, Place("Some other CPU (64 cores)", "x")).put_record(
        CONFIG, 2, 1, profile().to_record()
    )
    assert KernelProfileStore(table=KernelProfileTable(database)).get(CONFIG, 2) is None


def test_kernel_profiles_are_bounded(location, monkeypatch):
    monkeypatch.setattr(tables, "KERNEL_PROFILE_ROWS", 5)
    table = KernelProfileTable(open_database(location))
    for threads in range(1, 9):
        table.put_record(CONFIG, threads, 1, profile(threads=threads).to_record())
    assert table.count() == 5
    assert table.record(CONFIG, 1) is None and table.record(CONFIG, 8) is not None


def test_each_class_sees_only_its_own_device_results(location):
    default, course_a = open_class_view(location), open_class_view(location, "algo-101")
    course_b = open_class_view(location).for_class("vision_2")
    default.add(ClassRow("phone", "m", "224x224", 1.0, 1.0))
    course_a.add(ClassRow("laptop", "m", "224x224", 2.0, 2.0))
    course_b.add(ClassRow("tablet", "m", "224x224", 3.0, 3.0))
    assert [r.device for r in open_class_view(location).rows()] == ["phone"]
    assert [r.device for r in open_class_view(location, "algo-101").rows()] == ["laptop"]
    course_a.clear()
    assert course_a.rows() == [] and [r.device for r in course_b.rows()] == ["tablet"] and default.rows()


def test_device_results_are_bounded_across_classes(location, monkeypatch):
    monkeypatch.setattr(tables, "DEVICE_RESULT_ROWS", 6)
    views = [open_class_view(location, key) for key in ("a", "b")]
    for index in range(10):
        views[index % 2].add(ClassRow("phone", "m", "224x224", float(index), float(index)))
    assert [r.median_ms for r in views[0].rows()] == [4.0, 6.0, 8.0]
    assert [r.median_ms for r in views[1].rows()] == [5.0, 7.0, 9.0]


def test_two_writers_of_device_results_lose_nothing(location):
    views = [open_class_view(location, "c") for _ in range(2)]  # two databases: two processes' pools

    def write(view, start: int) -> None:
        for index in range(60):
            view.add(ClassRow("phone", "m", "224x224", float(start + index), 1.0))

    workers = [threading.Thread(target=write, args=(view, 1000 * n)) for n, view in enumerate(views)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(views[0].rows()) == 120


@pytest.mark.parametrize("key", ["", "algo-101", "A_b-9", "x" * 40])
def test_class_keys_allowed(key):
    assert check_class_key(key) == key


@pytest.mark.parametrize("key", ["x" * 41, "a b", "ä", "a/b", "<b>", "a;drop"])
def test_class_keys_refused(key):
    with pytest.raises(ValueError, match="1-40 characters: letters, digits"):
        check_class_key(key)


def test_measurements_are_bounded_on_both_backends(location, monkeypatch):
    from explorer.latency import Measurement
    from explorer.latency.stored import open_store
    from explorer.latency.timing import summarize

    monkeypatch.setattr(tables, "MEASUREMENT_ROWS", 10)
    store = open_store(location)
    for batch in range(1, 16):  # the batch is part of the key: each one a new measurement
        store.put(Measurement(CONFIG, "torch", 1, batch, summarize([1.0]), 1, 1, None))
    assert len(store.rows()) == len(store.all()) == 10
    assert store.get(CONFIG, "torch", 1, 5) is None and store.get(CONFIG, "torch", 1, 6) is not None


def test_a_file_from_before_class_keys_keeps_its_rows_in_the_default_class(tmp_path):
    import sqlite3

    old = sqlite3.connect(tmp_path / "explorer.sqlite3")  # the device_results table as it was made before
    old.execute(
        "CREATE TABLE device_results (id INTEGER PRIMARY KEY, device TEXT NOT NULL, model TEXT NOT NULL, "
        "input TEXT NOT NULL, median_ms REAL NOT NULL, measured_at REAL NOT NULL)"
    )
    old.execute(
        "INSERT INTO device_results (device, model, input, median_ms, measured_at) "
        "VALUES ('old phone', 'm', '224x224', 3.0, 1.0)"
    )
    old.commit()
    old.close()
    open_class_view(tmp_path, "algo-101").add(ClassRow("new laptop", "m", "224x224", 4.0, 2.0))
    assert [r.device for r in open_class_view(tmp_path).rows()] == ["old phone"]
    assert [r.device for r in open_class_view(tmp_path, "algo-101").rows()] == ["new laptop"]
