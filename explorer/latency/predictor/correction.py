"""The in-network correction: what a whole run costs beyond its kernels' regressors, fitted on the networks.

Each kernel's time in a network is taken as

    (scale + unaligned_scale * unaligned(kernel)) * fitted(kernel)
        + per_kernel_ms + per_spill_mb * spill(kernel)

``fitted`` being its kind's regressor (``fit``, on the kinds' in-network times), ``spill`` the bytes
its tensors need beyond the per-core cache (``fit.CACHE_BYTES``), and ``unaligned`` whether it runs
outside the blocked channel layout (``layout.blocked``). The four coefficients are fitted,
non-negative, on the calibration's whole runs (``networks``) by the same relative least squares as
the kinds: a network's measured time less the run overhead against the sums of those features over
its kernels. The kinds are already fitted on the runs' profiles scaled to the runs, so the
correction is near the identity (``scale`` about 1, the rest about 0); what it keeps is what the
profiles' shares miss.

``cross_validated`` is the predictor's error on networks it was not fitted on: each network
predicted by kinds and a correction fitted without it. It exists as soon as the calibration does;
``benchmarks/predictor_accuracy.py`` measures the same on fresh random configs.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .fit import spill_bytes, weighted_nnls
from .kernels import Kernel
from .layout import blocked
from .networks import NetworkSample

NAMES = ("scale", "per_kernel_ms", "per_spill_mb", "unaligned_scale")
WITHIN = 0.10
MIN_NETWORKS = 4  # fewer: no correction (identity) and no cross-validated error


@dataclass(frozen=True)
class Correction:
    """The fitted coefficients; ``IDENTITY`` when there are no networks to fit on."""

    scale: float = 1.0
    per_kernel_ms: float = 0.0
    per_spill_mb: float = 0.0
    unaligned_scale: float = 0.0

    def kernel_ms(self, fitted_ms: float, kernel: Kernel) -> float:
        scale = self.scale + self.unaligned_scale * unaligned(kernel)
        return scale * fitted_ms + self.per_kernel_ms + self.per_spill_mb * spill_bytes(kernel) / 1e6

    def coefficients(self) -> np.ndarray:
        """In the order of ``_features``."""
        return np.array([getattr(self, name) for name in NAMES])

    def to_dict(self) -> dict:
        return dict(zip(NAMES, self.coefficients().tolist()))


IDENTITY = Correction()
Fitted = Callable[[Kernel], float]  # a kernel's time by its kind's regressor (0 for kinds the backend fuses away)
Kernels = Callable[[object], Sequence[Kernel]]


def unaligned(kernel: Kernel) -> bool:
    """It runs outside the blocked layout (``layout.blocked``): a shuffle, a concat, the FC, or a convolution or
    pooling whose channels do not fill the blocks."""
    return not blocked(kernel)


def _features(kernels: Sequence[Kernel], fitted: Fitted) -> list[float]:
    timed = [(k, fitted(k)) for k in kernels]
    timed = [(k, ms) for k, ms in timed if ms > 0]
    return [
        sum(ms for _, ms in timed),
        float(len(timed)),
        sum(spill_bytes(k) for k, _ in timed) / 1e6,
        sum(ms for k, ms in timed if unaligned(k)),
    ]


def _fit(rows: np.ndarray, targets: np.ndarray) -> Correction:
    return Correction(*(float(c) for c in weighted_nnls(rows, targets, 1 / targets)))


def _design(
    networks: Sequence[NetworkSample], overhead_ms: float, fitted: Fitted, kernels: Kernels
) -> tuple[np.ndarray, np.ndarray]:
    rows = np.array([_features(kernels(n.config), fitted) for n in networks], dtype=float)
    targets = np.array([max(1e-3, n.median_ms - overhead_ms) for n in networks])
    return rows, targets


def fit_correction(
    networks: Sequence[NetworkSample], overhead_ms: float, fitted: Fitted, kernels: Kernels
) -> Correction:
    """The correction fitted on ``networks`` (``IDENTITY`` with fewer than ``MIN_NETWORKS``)."""
    if len(networks) < MIN_NETWORKS:
        return IDENTITY
    return _fit(*_design(networks, overhead_ms, fitted, kernels))


FOLDS = 10  # each network is predicted by kinds and a correction fitted without its tenth


def cross_validated(
    networks: Sequence[NetworkSample],
    overhead_ms: float,
    kernels: Kernels,
    refit: Callable[[Sequence[NetworkSample]], Fitted],
) -> dict | None:
    """Every network predicted by a fit that did not see it: ``FOLDS``-fold, the kinds (``refit(networks) ->
    fitted``) and the correction fitted on the other folds. The expected-error record (``labels.error_text``
    words it), or None with too few networks."""
    if len(networks) < MIN_NETWORKS + 1:
        return None
    errors = []
    for fold in range(FOLDS):
        train = [n for i, n in enumerate(networks) if i % FOLDS != fold]
        test = [n for i, n in enumerate(networks) if i % FOLDS == fold]
        if not test:
            continue
        fold_fitted = refit(train)
        correction = fit_correction(train, overhead_ms, fold_fitted, kernels)
        rows, _ = _design(test, overhead_ms, fold_fitted, kernels)
        errors += [
            float((overhead_ms + row @ correction.coefficients()) / n.median_ms - 1) for row, n in zip(rows, test)
        ]
    return _error_record(errors)


def _error_record(errors: list[float]) -> dict:
    magnitudes = [abs(e) for e in errors]
    return {
        "configs": len(errors),
        "method": "cross-validated",
        "within_10_percent": sum(m <= WITHIN for m in magnitudes) / len(errors),
        "median_abs_error": float(statistics.median(magnitudes)),
        "max_abs_error": float(max(magnitudes)),
        "median_error": float(statistics.median(errors)),
    }
