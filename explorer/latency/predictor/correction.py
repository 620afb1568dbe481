"""The in-network correction: what a network costs beyond its isolated kernels, fitted on whole networks.

Each kernel's time in a network is taken as

    scale * isolated(kernel) + per_kernel_ms + per_spill_mb * spill(kernel)

``isolated`` being its kind's regressor (``fit``), ``spill`` the bytes its tensors need beyond
the per-core cache (``fit.CACHE_BYTES``). The three coefficients are fitted, non-negative, on
the calibration's whole networks (``networks``) by the same relative least squares as the
kernels: a network's measured time less the run overhead against the sums of those three
features over its kernels. Three numbers, each a reading (how much slower a kernel runs
inside a network, what each kernel adds there, what a byte beyond the cache adds), so
the calibration's ~60 networks pin them down and the per-layer shares keep the kernels' own proportions;
a scale per kind fitted the same networks no better when cross-validated.

``cross_validated`` is the predictor's error on networks it was not fitted on: each
network predicted by the correction fitted on the others (the kernels' regressors never
see a network). It exists as soon as the calibration does; ``benchmarks/predictor_accuracy.py``
measures the same on fresh random configs.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .fit import spill_bytes, weighted_nnls
from .kernels import Kernel
from .networks import NetworkSample

NAMES = ("scale", "per_kernel_ms", "per_spill_mb")
WITHIN = 0.10
MIN_NETWORKS = 4  # fewer: no correction (identity) and no cross-validated error


@dataclass(frozen=True)
class Correction:
    """The fitted coefficients; ``IDENTITY`` when there are no networks to fit on."""

    scale: float = 1.0
    per_kernel_ms: float = 0.0
    per_spill_mb: float = 0.0

    def kernel_ms(self, isolated_ms: float, kernel: Kernel) -> float:
        return self.scale * isolated_ms + self.per_kernel_ms + self.per_spill_mb * spill_bytes(kernel) / 1e6

    def to_dict(self) -> dict:
        return dict(zip(NAMES, (self.scale, self.per_kernel_ms, self.per_spill_mb)))


IDENTITY = Correction()
Isolated = Callable[[Kernel], float]  # a kernel's isolated time (0 for kinds the backend fuses away)
Kernels = Callable[[object], Sequence[Kernel]]


def _features(kernels: Sequence[Kernel], isolated: Isolated) -> list[float]:
    timed = [(k, isolated(k)) for k in kernels]
    timed = [(k, ms) for k, ms in timed if ms > 0]
    return [sum(ms for _, ms in timed), float(len(timed)), sum(spill_bytes(k) for k, _ in timed) / 1e6]


def _fit(rows: np.ndarray, targets: np.ndarray) -> Correction:
    return Correction(*(float(c) for c in weighted_nnls(rows, targets, 1 / targets)))


def _design(
    networks: Sequence[NetworkSample], overhead_ms: float, isolated: Isolated, kernels: Kernels
) -> tuple[np.ndarray, np.ndarray]:
    rows = np.array([_features(kernels(n.config), isolated) for n in networks], dtype=float)
    targets = np.array([max(1e-3, n.median_ms - overhead_ms) for n in networks])
    return rows, targets


def fit_correction(
    networks: Sequence[NetworkSample], overhead_ms: float, isolated: Isolated, kernels: Kernels
) -> Correction:
    """The correction fitted on ``networks`` (``IDENTITY`` with fewer than ``MIN_NETWORKS``)."""
    if len(networks) < MIN_NETWORKS:
        return IDENTITY
    return _fit(*_design(networks, overhead_ms, isolated, kernels))


def cross_validated(
    networks: Sequence[NetworkSample], overhead_ms: float, isolated: Isolated, kernels: Kernels
) -> dict | None:
    """Leave-one-out over ``networks``: the expected-error record (``labels.error_text`` words it), or None."""
    if len(networks) < MIN_NETWORKS + 1:
        return None
    rows, targets = _design(networks, overhead_ms, isolated, kernels)
    errors = []
    for index in range(len(networks)):
        keep = np.arange(len(networks)) != index
        correction = _fit(rows[keep], targets[keep])
        coefficients = np.array([correction.scale, correction.per_kernel_ms, correction.per_spill_mb])
        predicted = overhead_ms + rows[index] @ coefficients
        errors.append(float(predicted / networks[index].median_ms - 1))
    magnitudes = [abs(e) for e in errors]
    return {
        "configs": len(errors),
        "method": "cross-validated",
        "within_10_percent": sum(m <= WITHIN for m in magnitudes) / len(errors),
        "median_abs_error": float(statistics.median(magnitudes)),
        "max_abs_error": float(max(magnitudes)),
        "median_error": float(statistics.median(errors)),
    }
