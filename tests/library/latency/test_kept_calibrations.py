"""Calibrations kept in the store: keyed by machine, versions, backend and threads, never shared across them."""

from __future__ import annotations

import dataclasses
import os

import pytest

from explorer.latency.predictor import (
    Calibration,
    ignored_here,
    keep,
    keep_new,
    kept_calibration,
    kept_predictor,
)
from explorer.latency.predictor.kept import key_here
from explorer.store import CalibrationKey, calibration_rows, clear_calibrations, put_calibration


@pytest.fixture
def fresh_store(store_env):
    """This process's store: a fresh SQLite data directory, then a fresh PostgreSQL database (``store_backends``)."""
    yield store_env


@pytest.fixture(scope="module")
def calibration() -> Calibration:
    """A small synthetic calibration (no timing): built by the predictor tests' helper."""
    from test_predictor import synthetic_calibration

    return synthetic_calibration(backend="ort")  # its networks run every kind, reorders included


def _versions_here() -> dict[str, str]:
    from explorer.machine import versions

    return versions()


def made_here(calibration: Calibration, **changes) -> Calibration:
    """``calibration`` as if made on this machine with these versions (ort, 2 threads unless changed)."""
    values = {"backend": "ort", "threads": 2, "machine": key_here("ort", 2).machine, "versions": _versions_here()}
    return dataclasses.replace(calibration, **(values | changes))


def test_a_kept_calibration_is_found_under_its_own_key_only(fresh_store, calibration):
    assert kept_calibration("ort", 2) is None
    keep(made_here(calibration))
    found = kept_calibration("ort", 2)
    assert found is not None and found.backend == "ort" and found.threads == 2
    assert kept_calibration("ort", 1) is None
    assert kept_calibration("openvino", 2) is None


def test_another_machine_or_other_versions_are_never_used_here(fresh_store, calibration):
    other_machine = CalibrationKey("another cpu|2", CalibrationKey.versions_text(_versions_here()), "ort", 2)
    other_versions = CalibrationKey(
        key_here("ort", 2).machine, CalibrationKey.versions_text({"torch": "0.0"}), "ort", 2
    )
    for key in (other_machine, other_versions):
        put_calibration(key, calibration.to_dict(), noisy=False)
    assert kept_calibration("ort", 2) is None
    assert kept_predictor(threads=2) is None
    assert len(calibration_rows()) == 2


def test_a_new_calibration_replaces_the_old_one_and_clear_removes(fresh_store, calibration):
    mine = made_here(calibration)
    keep(dataclasses.replace(mine, created_at=1.0))
    keep(dataclasses.replace(mine, created_at=2.0))
    assert [row["backend"] for row in calibration_rows()] == ["ort"]
    assert kept_calibration("ort", 2).created_at == 2.0
    assert kept_predictor("ort", 2) is not None and kept_predictor(threads=2).backend == "ort"
    assert clear_calibrations() == 1
    assert kept_calibration("ort", 2) is None


def test_an_unreadable_record_is_ignored(fresh_store):
    put_calibration(key_here("ort", 2), {"format": "something else"}, noisy=False)
    assert kept_calibration("ort", 2) is None
    assert ["another version of the predictor" in reason for reason in ignored_here("ort", 2)] == [True]
    assert isinstance(fresh_store, str) or os.path.exists(fresh_store / "explorer.sqlite3")


def _at_level(calibration: Calibration, level_ms: float) -> Calibration:
    networks = tuple(dataclasses.replace(n, probe_ms=level_ms) for n in calibration.networks)
    return dataclasses.replace(calibration, networks=networks)


def test_a_calibration_slower_than_those_kept_before_it_ran_slow_and_is_asked_again(fresh_store, calibration):
    from explorer.latency.predictor import calibration_needed
    from explorer.latency.predictor.calibration import SLOW_CALIBRATION

    first = keep(made_here(_at_level(calibration, 1.0), backend="openvino"))
    assert not first.ran_slow and calibration_needed("openvino", 2) is None  # nothing kept before it
    steady = keep(made_here(_at_level(calibration, SLOW_CALIBRATION - 0.01)))
    assert not steady.ran_slow and not steady.noisy
    slow = keep(made_here(_at_level(calibration, 1.12)))  # the whole calibration 12% slower
    assert slow.ran_slow and slow.noisy and slow.extra["usual_level_ms"] == pytest.approx(1.0, rel=0.05)
    assert kept_calibration("ort", 2).ran_slow  # kept as made, with the level it was compared with
    reason = calibration_needed("ort", 2)
    assert reason is not None and "slower than the calibrations kept here before it" in reason
    assert {row["backend"]: row["noisy"] for row in calibration_rows()} == {"openvino": False, "ort": True}


@pytest.mark.parametrize(
    ("before", "after", "replaced"),
    [
        (None, 1.3, True),  # nothing kept: even a noisy one is better than none
        (1.0, 1.03, True),  # quiet replaces quiet
        (1.0, 1.3, False),  # noisy never replaces quiet
    ],
)
def test_a_calibration_just_made_replaces_the_kept_one_unless_it_is_noisy_and_that_one_quiet(
    fresh_store, calibration, before, after, replaced
):
    keep(made_here(_at_level(calibration, 1.0), backend="openvino"))  # the machine's usual level: 1.0 ms
    if before is not None:
        keep(made_here(dataclasses.replace(_at_level(calibration, before), created_at=1.0)))
    kept = keep_new(made_here(dataclasses.replace(_at_level(calibration, after), created_at=2.0)))
    assert kept.calibration.noisy == (after > 1.05)
    assert (kept.stays is None) == replaced
    assert kept_calibration("ort", 2).created_at == (2.0 if replaced else 1.0)
    if not replaced:
        assert kept.stays.created_at == 1.0 and not kept.stays.noisy


def test_a_noisy_calibration_replaces_a_noisy_one(fresh_store, calibration):
    noisy = made_here(dataclasses.replace(calibration, noisy_networks=len(calibration.networks), created_at=1.0))
    keep(noisy)
    kept = keep_new(dataclasses.replace(noisy, created_at=2.0))
    assert kept.stays is None and kept_calibration("ort", 2).created_at == 2.0
