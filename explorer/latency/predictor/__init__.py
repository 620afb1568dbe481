"""Latency as quick as multiply-adds: a predictor per backend and thread count, calibrated on this machine.

``kernels`` decomposes any network into the kernels the runtime runs after its fusions,
in closed form, and ``layout`` says which of them run in the blocked channel layout;
``networks`` picks the whole networks a calibration times and ``profiled`` reads each kind's
time inside them from the runtime's own profiler; ``calibration`` times them with the per-run
overhead (``graphs``) into a ``Calibration`` (JSON-able); ``fit`` fits one non-negative
relative least-squares regressor per kernel kind on those in-network times and ``correction``
what a whole run adds, fitted and cross-validated on the networks; ``predict`` sums them per layer type (``Predictor.predict(config)`` ->
``Prediction``); ``kept`` keeps calibrations in the store and gives this machine's predictor
(``kept_predictor``); ``labels`` words a prediction ("predicted here", its error, extrapolation).
"""

from .calibration import BACKENDS, Calibration, calibrate
from .correction import Correction, cross_validated, fit_correction
from .fit import KindFit, fit_calibration, fit_in_network, nnls
from .kept import (
    Kept,
    KeptRow,
    calibration_needed,
    clear_kept,
    ignored_here,
    keep,
    keep_new,
    kept_calibration,
    kept_predictor,
    kept_rows,
    key_here,
    predictor_for,
)
from .kernels import KINDS, Kernel, conv_macs, decompose, total_macs
from .networks import NetworkSample, sampled_networks
from .predict import LayerTime, Prediction, Predictor

__all__ = [
    "BACKENDS",
    "KINDS",
    "Calibration",
    "Kept",
    "KeptRow",
    "Kernel",
    "KindFit",
    "LayerTime",
    "Prediction",
    "Predictor",
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
    "fit_in_network",
    "ignored_here",
    "keep",
    "keep_new",
    "kept_calibration",
    "kept_predictor",
    "kept_rows",
    "key_here",
    "nnls",
    "predictor_for",
    "total_macs",
]
