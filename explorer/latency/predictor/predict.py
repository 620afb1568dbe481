"""A prediction: the per-run overhead plus the sum of the kernels' predicted times, per layer type.

``Predictor(calibration)`` fits once (``fit.fit_calibration``, then ``correction.fit_correction``
on the calibration's whole networks) and then predicts any config the explorer builds without
building it: ``decompose`` (cached per config) lists its kernels, each kind's regressor prices
each kernel (fitted on kernels timed alone, or on OpenVINO on their times inside networks), the
correction prices what the network adds, and the times are summed per layer type, named as the
Table 8 verdict names them (``kernels.LAYER_*``, ``explorer.latency.kernel_profile``). A ``Prediction`` is labelled a prediction in its own
fields (``predicted_ms``, never ``median_ms``), carries the calibration's backend and
threads, and says when any kernel lies outside the shapes the calibration sampled
(``extrapolated`` and the reasons).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ...shufflenet import ModelConfig
from .calibration import Calibration
from .correction import Correction, cross_validated, fit_correction
from .fit import MIN_PROFILED, KindFit, fit_calibration, fit_in_network, kind_fit
from .kernels import FUSED_BY_BACKEND, Kernel, total_macs
from .layout import run_kernels
from .networks import NetworkSample, clean

MAX_REASONS = 5


@dataclass(frozen=True)
class LayerTime:
    """One layer type's predicted share of a run."""

    layer: str
    ms: float
    share: float  # of the predicted total, overhead included
    kernels: int
    macs: int

    def to_dict(self) -> dict:
        return {"layer": self.layer, "ms": self.ms, "share": self.share, "kernels": self.kernels, "macs": self.macs}


@dataclass(frozen=True)
class Prediction:
    """Predicted time of one config on one backend at one thread count, on the calibrated machine."""

    label: str
    backend: str
    threads: int
    predicted_ms: float
    overhead_ms: float
    layers: tuple[LayerTime, ...]
    macs: int
    extrapolated: bool
    extrapolation: tuple[str, ...]  # why, at most MAX_REASONS lines
    expected_error: dict | None = None  # the predictor's error on held-out configs, when it was measured

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "backend": self.backend,
            "threads": self.threads,
            "predicted_ms": self.predicted_ms,
            "overhead_ms": self.overhead_ms,
            "layers": [layer.to_dict() for layer in self.layers],
            "macs": self.macs,
            "extrapolated": self.extrapolated,
            "extrapolation": list(self.extrapolation),
            "expected_error": self.expected_error,
        }


class Predictor:
    """Prices any config's kernels with the regressors fitted on one calibration."""

    def __init__(self, calibration: Calibration) -> None:
        self.calibration = calibration
        self.fits: dict[str, KindFit] = fit_calibration(calibration)
        self.fused = FUSED_BY_BACKEND.get(calibration.backend, frozenset())
        self.correction: Correction = fit_correction(
            self._networks(), calibration.overhead_ms, self.fitted_ms, self.kernels
        )

    def _networks(self):
        """The calibration's networks to fit on (``networks.clean``) that this predictor can price (every kind they
        run was sampled)."""
        return [
            n
            for n in clean(self.calibration.networks)
            if all(k.kind in self.fused or kind_fit(self.fits, k.kind) for k in self.kernels(n.config))
        ]

    def kernels(self, config: ModelConfig) -> tuple[Kernel, ...]:
        """The kernels ``config`` runs on this backend (``layout.run_kernels``)."""
        return run_kernels(config, self.backend, self.threads)

    @property
    def backend(self) -> str:
        return self.calibration.backend

    @property
    def threads(self) -> int:
        return self.calibration.threads

    @functools.cached_property
    def expected_error(self) -> dict | None:
        """The error on configs the predictor was not fitted on: ``benchmarks/predictor_accuracy.py``'s random
        configs when it kept them with the calibration (``extra["held_out"]``), else the cross-validated
        error over the calibration's own networks (``correction.cross_validated``, the kinds refitted per fold),
        or None."""
        held_out = self.calibration.extra.get("held_out")
        if held_out:
            return held_out
        return cross_validated(self._networks(), self.calibration.overhead_ms, self.kernels, self._refit)

    def _refit(self, networks: Sequence[NetworkSample]) -> Callable[[Kernel], float]:
        """``fitted_ms`` with the kinds fitted on ``networks`` alone (``fit.fit_in_network``)."""
        fits = {**self.fits, **fit_in_network(networks, self.calibration.overhead_ms, self.backend, self.threads)}
        return lambda kernel: 0.0 if kernel.kind in self.fused else kind_fit(fits, kernel.kind).ms(kernel)

    def _fit(self, kernel: Kernel) -> KindFit:
        fit = kind_fit(self.fits, kernel.kind)
        if fit is None:
            raise ValueError(
                f"the calibration fitted no {kernel.kind} kernels (fewer than {MIN_PROFILED} of its networks ran one): "
                "calibrate again with more networks"
            )
        return fit

    def fitted_ms(self, kernel: Kernel) -> float:
        """The kernel's time by its kind's regressor, before the correction; 0 for a kind this backend fuses into
        the kernel before it."""
        return 0.0 if kernel.kind in self.fused else self._fit(kernel).ms(kernel)

    def kernel_ms(self, kernel: Kernel) -> float:
        """The kernel's predicted time inside a network (the correction applied); 0 for a fused kind."""
        return 0.0 if kernel.kind in self.fused else self.correction.kernel_ms(self.fitted_ms(kernel), kernel)

    def outside(self, kernels: tuple[Kernel, ...]) -> list[str]:
        """Every reason (at most ``MAX_REASONS``) why these kernels lie outside the sampled shapes."""
        reasons: list[str] = []
        for kernel in kernels:
            if kernel.kind in self.fused:
                continue
            for reason in self._fit(kernel).outside(kernel):
                if reason not in reasons:
                    reasons.append(reason)
            if len(reasons) >= MAX_REASONS:
                break
        return reasons[:MAX_REASONS]

    def _timed(self, config: ModelConfig) -> tuple[tuple[Kernel, ...], list[float], float]:
        """Its kernels, each one's predicted time, and the total with the run overhead."""
        kernels = self.kernels(config)
        times = [self.kernel_ms(kernel) for kernel in kernels]
        return kernels, times, self.calibration.overhead_ms + sum(times)

    def predict(self, config: ModelConfig) -> Prediction:
        """The predicted median latency of ``config``, per layer type, with the extrapolation flag."""
        kernels, kernel_times, total = self._timed(config)
        times: dict[str, list] = {}
        for kernel, ms in zip(kernels, kernel_times):
            entry = times.setdefault(kernel.layer, [0.0, 0, 0])
            entry[0] += ms
            entry[1] += 1
            entry[2] += kernel.macs
        overhead = self.calibration.overhead_ms
        layers = tuple(
            sorted(
                (LayerTime(name, ms, ms / total, count, macs) for name, (ms, count, macs) in times.items()),
                key=lambda row: -row.ms,
            )
        )
        reasons = self.outside(kernels)
        return Prediction(
            config.label,
            self.backend,
            self.threads,
            total,
            overhead,
            layers,
            total_macs(list(kernels)),
            bool(reasons),
            tuple(reasons),
            self.expected_error,
        )

    def predict_ms(self, config: ModelConfig) -> float:
        """``predict(config).predicted_ms`` alone, without the layers and the extrapolation check: for scans."""
        return self._timed(config)[2]

    def summary(self) -> dict:
        """The fitted regressors as JSON-able values (coefficients, ranges, own errors), for the docs and the store."""
        return {**{kind: fit.to_dict() for kind, fit in self.fits.items()}, "correction": self.correction.to_dict()}
