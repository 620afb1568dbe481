"""A calibration's own check: a few whole networks, timed end to end, against what it predicts.

The kernels are timed one graph at a time; a network runs them back to back, with its
own layout changes and fusions (ONNX Runtime folds the residual add into the expand
convolution). So ``calibrate_checked`` (``calibrate`` with ``network_check`` as its last step) times ``CHECK_CONFIGS`` end to end, as
``LatencyRunner`` runs them (static-shape export, ``session.run`` for ONNX Runtime, an
infer request for OpenVINO, the same threads) and records predicted against measured:
a number for "how sure" that exists as soon as the calibration does, before any
held-out benchmark. Nothing is corrected with it: it is reported, not fitted.
"""

from __future__ import annotations

import statistics
import threading

import torch

from ...shufflenet import ShuffleNetConfig, build_model
from ..export import export_onnx
from ..timing import check_cancel
from . import graphs
from .calibration import Calibration, _time, calibrate

CHECK_CONFIGS = (
    ShuffleNetConfig(3, 0.5, "arch2"),
    ShuffleNetConfig(8, 1.0),
    ShuffleNetConfig(2, 0.25, "shallow", input_size=(480, 640)),
)
CHECK_MIN_TIME = 0.3


def _export(config: ShuffleNetConfig, directory: str, index: int) -> str:
    with torch.no_grad():
        model = build_model(config).eval()
        return export_onnx(model, config.input_size, f"{directory}/check{index}.onnx", dynamic=False)


def _network_ms(
    config: ShuffleNetConfig,
    backend: str,
    threads: int,
    directory: str,
    index: int,
    timer,
    cancel: threading.Event | None,
) -> float:
    path = _export(config, directory, index)
    shape = (1, 3, *config.input_size)
    run = (
        graphs.ort_timer(path, shape, threads, bound=False)
        if backend == "ort"
        else graphs.openvino_timer(path, shape, threads)
    )
    return timer(run, cancel, CHECK_MIN_TIME, threads).median_ms


def self_check(calibration: Calibration, directory: str, timer, cancel: threading.Event | None = None) -> dict:
    """Predicted vs measured for ``CHECK_CONFIGS`` on the calibration's backend: a JSON-able record."""
    from .predict import Predictor

    predictor = Predictor(calibration)
    rows = []
    for index, config in enumerate(CHECK_CONFIGS):
        check_cancel(cancel)
        measured = _network_ms(config, calibration.backend, calibration.threads, directory, index, timer, cancel)
        predicted = predictor.predict_ms(config)
        rows.append(
            {
                "config": config.label,
                "input": list(config.input_size),
                "predicted_ms": predicted,
                "measured_ms": measured,
                "error": predicted / measured - 1,
            }
        )
    errors = [abs(row["error"]) for row in rows]
    return {"networks": rows, "median_abs_error": statistics.median(errors), "max_abs_error": max(errors)}


def network_check(calibration: Calibration, directory: str, cancel: threading.Event | None = None) -> dict:
    """``self_check`` with the calibration's own timing: the ``check`` step ``calibrate`` accepts."""
    return self_check(calibration, directory, _time, cancel)


def calibrate_checked(backend: str, threads: int, **options) -> Calibration:
    """``calibrate`` (same options) followed by ``network_check``: what the CLI and the app run."""
    return calibrate(backend, threads, check=network_check, **options)
