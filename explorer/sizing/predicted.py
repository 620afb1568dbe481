"""Predicted latency as sizing shows it, in the predictor's own words (``explorer.latency.predictor.labels``).

A predicted number never looks like a measured one: ``predicted_ms_text`` writes "predicted
here" beside it, with "(extrapolated)" when the config lies outside the shapes the
calibration sampled; ``note_text`` says what predicted a column and how sure it is;
``missing_text`` says, when no calibration is kept, that there is none and how to make one.
"""

from __future__ import annotations

from ..latency.predictor import Prediction, Predictor
from ..latency.predictor.labels import NO_CALIBRATION_HINT, PREDICTED, backend_label, error_text, threads_text

MEASURED = "measured here"


def holds_text(backend: str, threads: int) -> str:
    """``ONNX Runtime FP32, 2 threads``."""
    return f"{backend_label(backend)}, {threads_text(threads)}"


def predicted_ms_text(prediction: Prediction) -> str:
    """``3.10 ms predicted here`` (``(extrapolated)`` when outside the calibrated shapes)."""
    return f"{prediction.predicted_ms:.2f} ms {PREDICTED}{' (extrapolated)' if prediction.extrapolated else ''}"


def by_text(predictor: Predictor) -> str:
    """``with ONNX Runtime FP32, 2 threads (expected error ...)``: what predicted it, and how sure."""
    return f"with {holds_text(predictor.backend, predictor.threads)} ({error_text(predictor.expected_error)})"


def note_text(predictor: Predictor) -> str:
    """``predicted here with ONNX Runtime FP32, 2 threads (expected error ...)``: what a predicted column holds."""
    return f"{PREDICTED} {by_text(predictor)}"


def missing_text(backend: str | None, threads: int) -> str:
    """What to say instead of a predicted number when no calibration is kept for this machine."""
    which = (
        f"{backend_label(backend)} at {threads_text(threads)}" if backend else f"any backend at {threads_text(threads)}"
    )
    command = NO_CALIBRATION_HINT + (f" --backend {backend}" if backend else "") + f" --threads {threads}"
    return (
        f"No latency calibration is kept for {which} on this machine, so nothing is predicted. Calibrate on the "
        f"Latency page or with `{command}`."
    )
