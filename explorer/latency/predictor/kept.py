"""The calibrations kept in the store, and the predictor made from them for this machine.

A calibration is kept under its key (``explorer.store.CalibrationKey``: this machine's
fingerprint, these library versions, backend, threads), so one from another machine or from
other versions is never used here. ``kept_predictor`` fits the predictor once per kept
calibration (fitting is the slow part) and picks, when no backend is named, the calibrated
backend that predicts the paper's reference ShuffleNet (1x, g = 3, 224x224) fastest.
"""

from __future__ import annotations

import functools
import logging

from ...machine import fingerprint, versions
from ...shufflenet import ShuffleNetConfig
from ...store import CalibrationKey, calibration_record, put_calibration
from ..threads import default_threads
from .calibration import BACKENDS, Calibration
from .predict import Predictor

log = logging.getLogger(__name__)

REFERENCE = ShuffleNetConfig(groups=3, width=1.0)


def key_here(backend: str, threads: int) -> CalibrationKey:
    """The key a calibration of ``backend`` at ``threads`` made now, on this machine, is kept under."""
    return CalibrationKey(fingerprint(), CalibrationKey.versions_text(versions()), backend, threads)


def keep(calibration: Calibration) -> None:
    """Keep ``calibration`` under its own machine, versions, backend and threads (replacing an older one)."""
    key = CalibrationKey(
        calibration.machine,
        CalibrationKey.versions_text(calibration.versions),
        calibration.backend,
        calibration.threads,
    )
    put_calibration(key, calibration.to_dict(), calibration.noisy)


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
