"""How a prediction is worded, in one place: the CLI, the sidebar, Table 8 and Compare all say it this way.

A predicted number never reads like a measured one: it says "predicted here", names the
backend and thread count it was calibrated for, carries the predictor's own error (on held-out
configs when ``benchmarks/predictor_accuracy.py`` measured it, else cross-validated on the
calibration's own networks) and says when it extrapolates beyond the shapes the calibration sampled.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence

from ...store import age_text
from ..backends import BACKENDS
from ..quiet import SLOW_LEVEL
from .calibration import Calibration
from .predict import Prediction

PREDICTED = "predicted here"
NO_CALIBRATION_HINT = "python -m explorer calibrate"
MIN_LEVEL_ROWS = 3  # one backend's measurements beside predictions before their common ratio says anything


def backend_label(backend: str) -> str:
    return BACKENDS[backend].label if backend in BACKENDS else backend


def threads_text(threads: int) -> str:
    return f"{threads} thread{'s' if threads != 1 else ''}"


def error_percent(expected_error: dict | None) -> float | None:
    """The typical |error| of the predictor (median over what it was checked on), or None when never checked."""
    if not expected_error or expected_error.get("median_abs_error") is None:
        return None
    return 100 * float(expected_error["median_abs_error"])


def error_text(expected_error: dict | None) -> str:
    """What the expected error is and where it comes from, e.g. "±6% (median |error| on 39 networks ...)"."""
    typical = error_percent(expected_error)
    if typical is None:
        return "expected error unknown (not checked yet)"
    worst = expected_error.get("max_abs_error")
    worst_text = f", max {100 * worst:.0f}%" if worst is not None else ""
    within = expected_error.get("within_10_percent")
    within_text = f", {100 * within:.0f}% within ±10%" if within is not None else ""
    if expected_error.get("method") == "cross-validated":
        where = f"the calibration's {expected_error['configs']} networks, each left out of the fit (cross-validated)"
    else:
        where = f"{expected_error['configs']} held-out configs"
    return f"expected error ±{typical:.0f}% (median |error| on {where}{within_text}{worst_text})"


def short_error_text(expected_error: dict | None) -> str:
    """ "±6% expected error" or "" (the sidebar's short form; the long form says where it comes from)."""
    typical = error_percent(expected_error)
    return "" if typical is None else f"±{typical:.0f}% expected error"


def noisy_text(calibration: Calibration) -> str:
    """Why a calibration should be made again, in a few words ("" when it is quiet)."""
    if calibration.ran_slow:
        ratio = calibration.level_ms / calibration.extra["usual_level_ms"]
        return (
            f"ran {ratio - 1:.0%} slower than the calibrations kept here before it (the host slowed the machine), "
            "so it predicts high: calibrate again when the machine is quiet"
        )
    return "noisy (the machine was busy): calibrate again when it is quiet" if calibration.noisy else ""


def stays_text(new: Calibration, stays: Calibration) -> str:
    """Why a calibration just made is not kept (``kept.keep_new``) and what stays in use instead."""
    why = noisy_text(new)
    return (
        f"{why[:1].upper()}{why[1:]}. It is not kept: the quiet calibration kept "
        f"{age_text(time.time() - stays.created_at)} stays in use (to replace it anyway: "
        f"python -m explorer calibrate --clear --backend {new.backend} --threads {new.threads}, then calibrate)."
    )


def ms_text(ms: float) -> str:
    return f"{ms:.2f}" if ms < 10 else f"{ms:.1f}"


def headline(prediction: Prediction) -> str:
    """ "predicted 3.14 ms here (ONNX Runtime FP32, 2 threads), expected error ±6% (...)"."""
    return (
        f"predicted {ms_text(prediction.predicted_ms)} ms here ({backend_label(prediction.backend)}, "
        f"{threads_text(prediction.threads)}), {error_text(prediction.expected_error)}"
    )


def sidebar_line(prediction: Prediction) -> str:
    """One short line: "predicted 3.1 ms here, ONNX Runtime FP32, 2 threads, ±6% expected error, extrapolated"."""
    parts = [
        f"predicted {ms_text(prediction.predicted_ms)} ms here",
        backend_label(prediction.backend),
        threads_text(prediction.threads),
        short_error_text(prediction.expected_error),
        "extrapolated" if prediction.extrapolated else "",
    ]
    return ", ".join(part for part in parts if part)


def extrapolation_text(prediction: Prediction) -> str:
    """ "" inside the sampled shapes, else "extrapolation: <why>" (the reasons ``Predictor.outside`` found)."""
    if not prediction.extrapolated:
        return ""
    return "extrapolation: outside the shapes the calibration sampled (" + "; ".join(prediction.extrapolation) + ")"


def compared_text(predicted_ms: float, measured_ms: float) -> str:
    """This config's own error: "+4% vs measured"."""
    return f"{100 * (predicted_ms / measured_ms - 1):+.0f}% vs measured" if measured_ms > 0 else ""


def drift_text(backend: str, ratios: Sequence[float]) -> str:
    """When ``backend``'s predictions run above or below its measurements alike (``ratios``: predicted / measured,
    their median beyond ``quiet.SLOW_LEVEL``), why: the machine ran at another speed when it was calibrated. A shared
    host changes its speed for minutes or hours, and the benchmark sees the same (docs/prediction.md, Accuracy).
    "" for fewer than ``MIN_LEVEL_ROWS`` ratios, or when they sit around 1."""
    if len(ratios) < MIN_LEVEL_ROWS:
        return ""
    level = statistics.median(ratios)
    if 1 / SLOW_LEVEL <= level <= SLOW_LEVEL:
        return ""
    above, slower = ("above", "slower") if level > 1 else ("below", "faster")
    return (
        f"{backend_label(backend)}'s predictions run {abs(level - 1):.0%} {above} its {len(ratios)} measurements "
        f"here alike (their median ratio, {level:.2f}): this machine ran {slower} when it was calibrated than when "
        "they were measured (a shared host changes its speed for minutes or hours). The predictions still compare "
        "the models with each other; calibrate again to predict at the speed it has now."
    )
