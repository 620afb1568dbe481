"""The calibrations kept in the store, and the predictor made from them for this machine.

A calibration is kept under its key (``explorer.store.CalibrationKey``: this machine's
fingerprint, these library versions, backend, threads), so one from another machine or from
other versions is never used here. ``kept_predictor`` fits the predictor once per kept
calibration (fitting is the slow part) and picks, when no backend is named, the calibrated
backend that predicts the paper's reference ShuffleNet (1x, g = 3, 224x224) fastest.
``kept_rows`` lists every kept calibration (whether it is this machine's and current),
``clear_kept`` removes them, ``ignored_here`` says why a kept one is not used here, and
``calibration_needed`` why one should be made (none current, or the kept one is noisy). ``keep_new``
keeps a calibration just made, unless it is noisy and a quiet one is kept under its key.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from dataclasses import dataclass, replace

from ...machine import fingerprint, versions
from ...shufflenet import ShuffleNetConfig
from ...store import CalibrationKey, age_text, calibration_record, calibration_rows, clear_calibrations, put_calibration
from ..threads import default_threads
from .calibration import BACKENDS, Calibration, level_of
from .labels import noisy_text, threads_text
from .predict import Predictor

log = logging.getLogger(__name__)

REFERENCE = ShuffleNetConfig(groups=3, width=1.0)


def key_here(backend: str, threads: int) -> CalibrationKey:
    """The key a calibration of ``backend`` at ``threads`` made now, on this machine, is kept under."""
    return CalibrationKey(fingerprint(), CalibrationKey.versions_text(versions()), backend, threads)


def kept_level(threads: int) -> float | None:
    """This machine's usual level at ``threads``: the level of its current kept calibrations together, every
    backend's (``calibration.level_of``); None when none is kept."""
    kept = [kept_calibration(backend, threads) for backend in BACKENDS]
    return level_of(c for c in kept if c is not None)


def _judged(calibration: Calibration) -> Calibration:
    """``calibration`` with the usual level of the calibrations kept here before it (``Calibration.ran_slow``)."""
    usual = kept_level(calibration.threads) if calibration.machine == fingerprint() else None
    if usual is None:
        return calibration
    return replace(calibration, extra={**calibration.extra, "usual_level_ms": usual})


def _key(calibration: Calibration) -> CalibrationKey:
    versions_text = CalibrationKey.versions_text(calibration.versions)
    return CalibrationKey(calibration.machine, versions_text, calibration.backend, calibration.threads)


def _put(calibration: Calibration) -> None:
    put_calibration(_key(calibration), calibration.to_dict(), calibration.noisy)


def keep(calibration: Calibration) -> Calibration:
    """Keep ``calibration`` under its own machine, versions, backend and threads (replacing an older one), judged
    against the calibrations kept here before it (``_judged``); returns it as kept."""
    calibration = _judged(calibration)
    _put(calibration)
    return calibration


@dataclass(frozen=True)
class Kept:
    """What ``keep_new`` did with a calibration just made: ``calibration`` as judged, and ``stays``, the quiet
    calibration kept before it that stays in use instead (None: the new one is kept)."""

    calibration: Calibration
    stays: Calibration | None = None


def keep_new(calibration: Calibration) -> Kept:
    """Keep a calibration just made, unless it is noisy and the one kept here under its key is not: a calibration the
    host slowed would predict high, so it never replaces a quiet one (``calibrate --clear`` makes room for it)."""
    calibration = _judged(calibration)
    here = _key(calibration) == key_here(calibration.backend, calibration.threads)
    earlier = kept_calibration(calibration.backend, calibration.threads) if here else None
    if calibration.noisy and earlier is not None and not earlier.noisy:
        return Kept(calibration, stays=earlier)
    _put(calibration)
    return Kept(calibration)


def _unreadable(backend: str, threads: int) -> str | None:
    """Why this machine's kept record of ``backend`` at ``threads`` cannot be used (None: none kept, or it can)."""
    record = calibration_record(key_here(backend, threads))
    if record is None:
        return None
    try:
        Calibration.from_dict(record)
    except ValueError as error:
        return str(error)
    return None


def kept_calibration(backend: str, threads: int) -> Calibration | None:
    """This machine's calibration of ``backend`` at ``threads`` with these versions, or None."""
    record = calibration_record(key_here(backend, threads))
    if record is None:
        return None
    try:
        return Calibration.from_dict(record)
    except ValueError as error:  # written by another version of the predictor: as if there were none
        log.warning("kept %s calibration at %d threads is unreadable and ignored: %s", backend, threads, error)
        return None


@functools.lru_cache(maxsize=8)
def _fitted(record_created_at: float, backend: str, threads: int) -> Predictor | None:
    calibration = kept_calibration(backend, threads)
    return None if calibration is None else Predictor(calibration)


def predictor_for(backend: str, threads: int) -> Predictor | None:
    """The predictor of this machine's kept ``backend`` calibration at ``threads``, fitted once; None without one."""
    calibration = kept_calibration(backend, threads)
    if calibration is None:
        return None
    predictor = _fitted(calibration.created_at, backend, threads)
    return predictor if predictor is not None and predictor.calibration.created_at == calibration.created_at else None


def kept_predictor(backend: str | None = None, threads: int | None = None) -> Predictor | None:
    """The predictor for ``backend`` (None: the fastest calibrated one) at ``threads`` (None: the runner's
    default), or None when this machine has no such calibration."""
    threads = default_threads() if threads is None else threads
    if backend is not None:
        return predictor_for(backend, threads)
    found = [p for b in BACKENDS if (p := predictor_for(b, threads)) is not None]
    return min(found, key=lambda p: p.predict_ms(REFERENCE), default=None)


# --------------------------------------------------------------------------- what is kept, and why it is (not) used


def _hardware(machine: str) -> str:
    """The CPU and core count of a fingerprint (``explorer.machine.fingerprint``: CPU | cores | versions...)."""
    return " | ".join(machine.split(" | ")[:2])


@dataclass(frozen=True)
class KeptRow:
    """One kept calibration, without its samples: its key, when, noisy, and whether it applies here."""

    backend: str
    threads: int
    created_at: float
    noisy: bool
    machine: str
    versions: dict[str, str]
    this_machine: bool  # same CPU and core count
    current: bool  # this machine with these library versions: the one the predictor uses

    def key(self) -> CalibrationKey:
        return CalibrationKey(self.machine, CalibrationKey.versions_text(self.versions), self.backend, self.threads)

    def to_dict(self) -> dict:
        return {
            "backend": self.backend,
            "threads": self.threads,
            "created_at": self.created_at,
            "noisy": self.noisy,
            "machine": self.machine,
            "versions": self.versions,
            "this_machine": self.this_machine,
            "current": self.current,
        }


def kept_rows() -> list[KeptRow]:
    """Every kept calibration (of any machine and versions), oldest first."""
    here, now = fingerprint(), CalibrationKey.versions_text(versions())
    rows = []
    for row in calibration_rows():
        try:
            kept_versions = json.loads(row["versions"])
        except ValueError:
            kept_versions = {}
        rows.append(
            KeptRow(
                row["backend"],
                int(row["threads"]),
                float(row["created_at"]),
                bool(row["noisy"]),
                row["machine"],
                kept_versions,
                _hardware(row["machine"]) == _hardware(here),
                row["machine"] == here and row["versions"] == now,
            )
        )
    return rows


def clear_kept(backend: str | None = None, threads: int | None = None) -> int:
    """Remove the kept calibrations of ``backend`` and ``threads`` (None: any), of every machine; how many."""
    if backend is None and threads is None:
        return clear_calibrations()
    chosen = [r for r in kept_rows() if backend in (None, r.backend) and threads in (None, r.threads)]
    return sum(clear_calibrations(row.key()) for row in chosen)


def _changed(kept: dict[str, str], now: dict[str, str]) -> str:
    names = sorted(set(kept) | set(now))
    return ", ".join(f"{n} {kept.get(n, 'none')} -> {now.get(n, 'none')}" for n in names if kept.get(n) != now.get(n))


def ignored_here(backend: str | None = None, threads: int | None = None) -> list[str]:
    """Why calibrations kept on this machine (of ``backend`` / ``threads`` when given) are not used: made with
    other library versions, or by another version of the predictor. One sentence each; empty when there is none."""
    now, reasons = versions(), []
    for row in kept_rows():
        wanted = backend in (None, row.backend) and threads in (None, row.threads)
        if not row.this_machine or not wanted:
            continue
        if row.current:
            if _unreadable(row.backend, row.threads):
                reasons.append(
                    f"the {row.backend} calibration at {threads_text(row.threads)} kept "
                    f"{age_text(time.time() - row.created_at)} was made by another version of the predictor "
                    "and is ignored: calibrate again"
                )
            continue
        changed = _changed(row.versions, now) or "another build of the same versions"
        age = age_text(time.time() - row.created_at)
        reasons.append(
            f"the {row.backend} calibration at {threads_text(row.threads)} kept {age} was made with other "
            f"library versions ({changed}) and is ignored: calibrate again"
        )
    return reasons


def calibration_needed(backend: str, threads: int) -> str | None:
    """Why ``backend`` at ``threads`` should be calibrated now (none current here, or the kept one is noisy);
    None when the kept one is current and quiet."""
    calibration = kept_calibration(backend, threads)
    if calibration is None:
        return (
            f"no {backend} calibration at {threads_text(threads)} is kept for this machine and these library versions"
        )
    if calibration.ran_slow:
        return f"the kept {backend} calibration at {threads_text(threads)} {noisy_text(calibration)}"
    if calibration.noisy:
        return (
            f"the kept {backend} calibration at {threads_text(threads)} is noisy ({calibration.noisy_networks} of "
            f"{len(calibration.networks)} networks had an IQR over 10% of their median or were timed while the "
            "host shared the threads)"
        )
    return None
