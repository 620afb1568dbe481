"""Latency as quick as multiply-adds: a predictor per backend and thread count, calibrated on this machine.

``kernels`` decomposes any network into the kernels the runtime runs after its fusions,
in closed form; ``graphs`` builds one tiny ONNX graph per kernel and times it;
``sampling`` picks the kernels to time over the allowed space and ``networks`` the whole
networks, which ``profiled`` reads OpenVINO's per-layer times of; ``calibration`` times both
with the per-run overhead (a ``Calibration``, JSON-able); ``fit`` fits one non-negative
relative least-squares regressor per kernel kind (on kernels timed alone, or on OpenVINO on
their times inside the networks) and ``correction`` what a network adds, fitted and
cross-validated on the whole networks; ``predict`` sums them per layer type (``Predictor.predict(config)`` ->
``Prediction``); ``kept`` keeps calibrations in the store and gives this machine's predictor
(``kept_predictor``); ``labels`` words a prediction ("predicted here", its error, extrapolation).
"""

from .calibration import BACKENDS, Calibration, Sample, calibrate
from .correction import Correction, cross_validated, fit_correction
from .fit import KindFit, fit_calibration, fit_kind, nnls
from .kept import (
    KeptRow,
    calibration_needed,
    clear_kept,
    ignored_here,
    keep,
    kept_calibration,
    kept_predictor,
    kept_rows,
    key_here,
    predictor_for,
)
from .kernels import KINDS, Kernel, conv_macs, decompose, total_macs
from .networks import NetworkSample, sampled_networks
from .predict import LayerTime, Prediction, Predictor
from .sampling import kernel_pool, sampled_kernels

__all__ = [
    "BACKENDS",
    "KINDS",
    "Calibration",
    "KeptRow",
    "Kernel",
    "KindFit",
    "LayerTime",
    "Prediction",
    "Predictor",
    "Sample",
    "calibrate",
    "Correction",
    "NetworkSample",
    "cross_validated",
    "fit_correction",
    "sampled_networks",
    "calibration_needed",
    "clear_kept",
    "conv_macs",
    "decompose",
    "fit_calibration",
    "fit_kind",
    "ignored_here",
    "keep",
    "kept_calibration",
    "kept_predictor",
    "kept_rows",
    "kernel_pool",
    "key_here",
    "nnls",
    "predictor_for",
    "sampled_kernels",
    "total_macs",
]
