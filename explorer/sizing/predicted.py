"""Predicted latency as sizing shows it: its own words ("predicted here"), the predictor's error, where to calibrate.

A predicted number never looks like a measured one: ``ms_text`` writes "predicted here"
beside it, with "(extrapolated)" when the config lies outside the shapes the calibration
sampled; ``error_text`` says how sure (the held-out error measured by
``benchmarks/predictor_accuracy.py``, else the calibration's own check on a few networks);
``missing_text`` says, when no calibration is kept, that there is none and how to make one.
"""

from __future__ import annotations

from collections.abc import Callable

from ..latency.backends import BACKENDS
from ..latency.predictor import Prediction, Predictor

PREDICTED = "predicted here"
MEASURED = "measured here"
CALIBRATE_WHERE = "the Latency page's calibration, or `python -m explorer calibrate`"
Predict = Callable[[object], "Prediction | None"]


def holds_text(backend: str, threads: int) -> str:
    """``ONNX Runtime FP32, 2 threads``."""
    return f"{BACKENDS[backend].label}, {threads} thread{'s' if threads != 1 else ''}"


def error_text(expected: dict | None) -> str:
    """How sure a prediction is, in one clause."""
    if not expected:
        return "its error has not been measured yet"
    if "within_10_percent" in expected:
        return (f"held-out error: median ±{expected['median_abs_error']:.0%}, {expected['within_10_percent']:.0%} of "
                f"{expected['configs']} configs within ±10%")
    return (f"checked on {len(expected.get('networks', []))} networks: median ±{expected['median_abs_error']:.0%}, "
            f"max ±{expected['max_abs_error']:.0%}")


def ms_text(prediction: Prediction) -> str:
    """``3.10 ms predicted here`` (``(extrapolated)`` when outside the calibrated shapes)."""
    return f"{prediction.predicted_ms:.2f} ms {PREDICTED}{' (extrapolated)' if prediction.extrapolated else ''}"


def by_text(predictor: Predictor) -> str:
    """``with ONNX Runtime FP32, 2 threads (held-out error: ...)``: what predicted it, and how sure."""
    return f"with {holds_text(predictor.backend, predictor.threads)} ({error_text(predictor.expected_error)})"


def note_text(predictor: Predictor) -> str:
    """``predicted here with ONNX Runtime FP32, 2 threads (held-out error: ...)``: what a predicted column holds."""
    return f"{PREDICTED} {by_text(predictor)}"


def missing_text(backend: str | None, threads: int) -> str:
    """What to say instead of a predicted number when no calibration is kept for this machine."""
    which = f"{BACKENDS[backend].label} at {threads} thread{'s' if threads != 1 else ''}" if backend else \
        f"any backend at {threads} thread{'s' if threads != 1 else ''}"  # fmt: skip
    command = "python -m explorer calibrate" + (f" --backend {backend}" if backend else "") + f" --threads {threads}"
    return (f"No latency calibration is kept for {which} on this machine, so nothing is predicted. Calibrate on the "
            f"Latency page or with `{command}` (about 2-3 minutes per backend).")

