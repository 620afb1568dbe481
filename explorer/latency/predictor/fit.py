"""Fit one regressor per kernel kind on a calibration's networks, and what it predicts: features, fits, ranges.

**The regressor: time linear in cost features, non-negative coefficients, relative least squares.**
For a kernel, ``t = c0 + c1*MACs + c2*activation bytes + c3*weight bytes + ...`` (features per
kind in ``FEATURES``), the coefficients found by non-negative least squares (Lawson-Hanson)
on the *relative* error (each sample's row divided by its time, so a 20 us kernel counts
as much as a 20 ms one). That fit leans low (a slow sample pulls it less than a fast one);
``robust_fit`` can re-weight towards the log error (``REWEIGHTS`` > 1), but on calibrations
taken under load that swung some kinds far off, so it is off by default and what the kernels
miss on the whole is left to the in-network correction (``correction``), fitted on whole
networks. Why this and not the alternatives:

* **It is the roofline, summed.** A kernel costs a fixed launch ``c0``, compute time per
  multiply-add and memory time per byte; with both kinds of limits active in a network's
  kernels, the sum is the smooth form of ``max(compute, memory)`` that nn-Meter's kernels
  approximate with a random forest. Its coefficients read as rates (ms per G multiply-add,
  per MB) and can be shown.
* **It captures G2.** At equal multiply-adds a ShuffleNet with more groups has wider
  feature maps, so more activation bytes (``c2``), and a grouped 1x1 runs as ``g`` small
  GEMMs, which costs per group and output pixel (``groups x pixels``, ``c4``): both
  coefficients are >= 0, so predicted time never falls as g rises at equal multiply-adds (on
  ONNX Runtime, unless g's groups do not share out evenly over the threads: below).
  nn-Meter's convolution features have no ``groups`` and price grouped 1x1s as dense ones.
* **Whole groups per thread.** ONNX Runtime runs an NCHW grouped 1x1 convolution's groups whole,
  one per thread at a time, so its work is priced on its slowest thread (``layout.imbalance``): on
  two threads g = 3 costs 4/3 of an even split, g = 2, 4 or 8 nothing extra. Without it the
  regressor spread g = 3's loss over every g, and the paper's five g came out in the wrong order.
* **A shuffle of few groups costs more per byte.** OpenVINO's ``ShuffleChannels`` costs more
  per byte the fewer the groups, so the shuffle's bytes also count divided by g; without that
  term its regressor priced the paper's g = 2-4 shuffles far below their profiled time
  (docs/prediction.md has the measurements). ONNX Runtime's reshape-transpose-reshape shows no
  such cost, and the coefficient fits to about 0 there.
* **Piecewise terms for the cache.** Bytes beyond each of ``SPILL_KNOTS`` (this machine's
  per-core L2, then on the way out of its shared L3): a kernel whose tensors no longer fit pays
  more per byte, and more again further out. A knot that fewer than ``MIN_SPILL_ROWS`` networks pass
  gets no term: fitted on one, it prices that network's noise into every larger kernel.
* **Two layouts, two sets of coefficients.** A 1x1 or depthwise convolution, or a pooling, runs
  as a different kernel in the blocked channel layout than in plain NCHW (``layout.blocked``), so
  each gets its own coefficients per path (``_by_layout``). In the blocked layout a depthwise
  kernel computes and moves whole blocks of channels, so its multiply-adds and bytes are counted
  over the padded channels.
* **Monotone within a layout, and safe to extrapolate.** Every feature grows with width and
  input size and every coefficient is >= 0, so among networks whose kernels run in the same
  layouts a wider one is never predicted faster, and beyond the sampled shapes the prediction
  grows linearly, as cost does (it is flagged anyway). Across layouts it need not: on ONNX
  Runtime channels that fill the blocks run without the reorders a narrower network needs
  (``layout.ort_kernels``), as they do on the machine.
  A log-log fit or a lookup with interpolation fits the sampled grid as well but bends
  outside it, and a lookup over seven dimensions (channels, groups, size, kernel, stride)
  needs far more samples than three minutes allow.

**What a row is.** A network: its kernels of one kind and their time together inside it, from the
runtime's profiler (``profiled``), their features summed (``fit_in_network``). Neither runtime
runs a kernel alone as it does inside a network, so no kernel is timed alone.

A kernel whose features lie outside the sampled range of its kind (beyond ``RANGE_TOLERANCE``)
is an extrapolation; ``outside`` says which feature and by how much.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .calibration import Calibration
from .kernels import BYTES, KINDS, Kernel
from .layout import blocked, padded, run_kernels
from .networks import NetworkSample, clean

SPILL_KNOTS = (1 << 20, 4 << 20, 16 << 20)  # per-core L2, and two points on the way out of the shared 32 MiB L3
RANGE_FEATURES = ("macs", "in_elements", "out_elements", "weights", "groups")  # what ``outside`` checks
RANGE_TOLERANCE = 1.1  # a feature within 10% beyond the sampled range is not yet an extrapolation
MIN_SPILL_ROWS = 2  # rows with bytes beyond a knot before its cache term is fitted (``fitted_columns``)
MIN_NET_MS = 0.001  # a kernel is never faster than 1 us once the run overhead is subtracted
REWEIGHTS = 1  # fits of ``robust_fit``: 1 = the relative fit alone (see the module docstring)
HUBER = 0.4  # log error (a factor 1.5) beyond which a sample's weight shrinks as 1/error
CACHE_BYTES = SPILL_KNOTS[0]


def spill_bytes(kernel: Kernel) -> float:
    return max(0.0, kernel.activation_bytes + kernel.weight_bytes - CACHE_BYTES)


def _spills(kernel: Kernel) -> list[float]:
    """Bytes beyond each of ``SPILL_KNOTS``: with non-negative coefficients, a cost per byte that grows
    (piecewise, convex) as a kernel's tensors leave each level of cache."""
    total = kernel.activation_bytes + kernel.weight_bytes
    return [max(0.0, total - knot) for knot in SPILL_KNOTS]


def _conv(k: Kernel) -> list[float]:
    """Beyond the launch, the work on its slowest thread (``Kernel.imbalance``)."""
    pixels = k.out_size[0] * k.out_size[1]
    work = [k.macs, k.activation_bytes, k.weight_bytes, k.groups * pixels, *_spills(k)]
    return [1.0, *(k.imbalance * w for w in work)]


def _depthwise(k: Kernel) -> list[float]:
    """In the blocked layout a depthwise kernel computes and moves whole blocks of channels (12 channels cost 16)."""
    channels, pixels_in = padded(k.in_channels) if blocked(k) else k.in_channels, k.size[0] * k.size[1]
    pixels_out = k.out_size[0] * k.out_size[1]
    padded_macs = channels * pixels_out * k.kernel**2
    return [1.0, padded_macs, BYTES * channels * (pixels_in + pixels_out), k.in_channels, *_spills(k)]


def _shuffle(k: Kernel) -> list[float]:
    """Bytes over groups as well: a shuffle of few groups costs more per byte (OpenVINO's ``ShuffleChannels``)."""
    return [1.0, k.activation_bytes, k.in_channels, k.activation_bytes / k.groups, *_spills(k)]


def _moving(k: Kernel) -> list[float]:
    return [1.0, BYTES * k.in_elements, BYTES * k.out_elements, *_spills(k)]


def _fc(k: Kernel) -> list[float]:
    return [1.0, k.weight_bytes, k.activation_bytes]


def _by_layout(names: tuple[str, ...], features) -> tuple[tuple[str, ...], object]:
    """Two sets of coefficients, one for the kernel in the blocked layout and one for it in NCHW (``layout``)."""

    def split(k: Kernel) -> list[float]:
        values = features(k)
        zeros = [0.0] * len(values)
        return values + zeros if blocked(k) else zeros + values

    return tuple(f"blocked_{n}" for n in names) + tuple(f"nchw_{n}" for n in names), split


SPILLS = tuple(f"bytes_beyond_{knot >> 20}MiB" for knot in SPILL_KNOTS)
CONV_FEATURES = ("launch", "macs", "activation_bytes", "weight_bytes", "groups_x_pixels", *SPILLS)
MOVING = ("launch", "in_bytes", "out_bytes", *SPILLS)
FEATURES: dict[str, tuple[tuple[str, ...], object]] = {
    "conv": (CONV_FEATURES, _conv),
    "pointwise": _by_layout(CONV_FEATURES, _conv),
    "depthwise": _by_layout(("launch", "padded_macs", "padded_bytes", "channels", *SPILLS), _depthwise),
    "shuffle": (("launch", "activation_bytes", "channels", "bytes_per_group", *SPILLS), _shuffle),
    "maxpool": _by_layout(MOVING, _moving),
    "avgpool": _by_layout(MOVING, _moving),
    "globalpool": _by_layout(MOVING, _moving),
    "concat": (MOVING, _moving),
    "add": (MOVING, _moving),
    "reorder_in": (MOVING, _moving),
    "reorder_out": (MOVING, _moving),
    "fc": (("launch", "weight_bytes", "activation_bytes"), _fc),
}


def features(kernel: Kernel) -> list[float]:
    return FEATURES[kernel.kind][1](kernel)  # type: ignore[operator]


def nnls(a: np.ndarray, b: np.ndarray, max_iterations: int | None = None) -> np.ndarray:
    """min ||a x - b|| subject to x >= 0 (Lawson and Hanson's active-set method)."""
    rows, columns = a.shape
    x, passive = np.zeros(columns), np.zeros(columns, dtype=bool)
    tolerance = 10 * np.finfo(float).eps * np.linalg.norm(a, 1) * max(rows, columns)
    gradient = a.T @ (b - a @ x)
    for _ in range(max_iterations or 3 * columns):
        if passive.all() or gradient[~passive].max() <= tolerance:
            break
        passive[np.argmax(np.where(passive, -np.inf, gradient))] = True
        z = _solve_passive(a, b, passive)
        while (z[passive] <= tolerance).any():
            blocking = passive & (z <= tolerance)
            alpha = np.min(x[blocking] / (x[blocking] - z[blocking]))
            x = x + alpha * (z - x)
            passive &= x > tolerance
            z = _solve_passive(a, b, passive)
        x = z
        gradient = a.T @ (b - a @ x)
    return x


def _solve_passive(a: np.ndarray, b: np.ndarray, passive: np.ndarray) -> np.ndarray:
    z = np.zeros(a.shape[1])
    z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
    return z


@dataclass(frozen=True)
class KindFit:
    """One kind's regressor: coefficients (ms per unit of each feature), sampled ranges, its own errors."""

    kind: str
    names: tuple[str, ...]
    coefficients: tuple[float, ...]
    ranges: dict[str, tuple[float, float]]
    samples: int
    median_error: float  # median |relative error| on its own samples
    p90_error: float

    def ms(self, kernel: Kernel) -> float:
        return sum(c * f for c, f in zip(self.coefficients, features(kernel)))

    def outside(self, kernel: Kernel) -> list[str]:
        """The features of ``kernel`` beyond this kind's sampled range (empty: an interpolation)."""
        found = []
        for name, (low, high) in self.ranges.items():
            value = float(getattr(kernel, name))
            if value > high * RANGE_TOLERANCE or value < low / RANGE_TOLERANCE:
                found.append(f"{kernel.kind} {name} {value:.4g} outside the sampled {low:.4g}..{high:.4g}")
        return found

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "names": list(self.names),
            "coefficients": list(self.coefficients),
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "samples": self.samples,
            "median_error": self.median_error,
            "p90_error": self.p90_error,
        }


def weighted_nnls(a: np.ndarray, t: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """NNLS of ``weights * (a @ x - t)`` with the columns scaled to 1 (they span 1 to 1e10)."""
    scale = np.abs(a).max(axis=0)
    scale[scale == 0] = 1.0
    return nnls((a / scale) * weights[:, None], t * weights) / scale


def robust_fit(a: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Non-negative coefficients minimising the log error, robust to a few disturbed samples.

    Starts from the relative least squares (rows weighted by 1/measured), then re-weights
    by 1/predicted (Gauss-Newton for the log error: weighting by the measurement alone
    biases predictions low, as a slowed sample pulls the fit less than a fast one) and
    down-weights samples whose log error exceeds ``HUBER`` (a kernel preempted while timed).
    """
    weights = 1 / t
    for _ in range(REWEIGHTS):
        coefficients = weighted_nnls(a, t, weights)
        predicted = np.maximum(a @ coefficients, MIN_NET_MS / 10)
        error = np.abs(np.log(t / predicted))
        weights = np.where(error > HUBER, HUBER / np.maximum(error, HUBER), 1.0) / predicted
    return coefficients


def fitted_columns(names: Sequence[str], a: np.ndarray) -> np.ndarray:
    """Which features to fit: all but a cache term (``SPILLS``) fewer than ``MIN_SPILL_ROWS`` rows reach.

    A term that only one row reaches fits that row's noise exactly, as a cost per byte that can be
    orders of magnitude above the others', and every kernel beyond the knot is then priced by it
    (docs/prediction.md has the calibration that did it). Without the term such a kernel is priced by
    its bytes' linear cost, and flagged when it lies beyond the sampled range."""
    support = (a > 0).sum(axis=0)
    return np.array([not name.endswith(SPILLS) or count >= MIN_SPILL_ROWS for name, count in zip(names, support)])


def fit_rows(kind: str, rows: list[list[Kernel]], times_ms: list[float]) -> KindFit:
    """One kind's regressor from rows of kernels and each row's summed time: time is linear in the features,
    so a row's features are its kernels' features summed (one kernel a row when timed alone)."""
    names = FEATURES[kind][0]
    a = np.array([np.sum([features(k) for k in row], axis=0) for row in rows], dtype=float)
    t = np.asarray(times_ms, dtype=float)
    columns = fitted_columns(names, a)
    coefficients = np.zeros(len(names))
    coefficients[columns] = robust_fit(a[:, columns], t)
    errors = np.abs(a @ coefficients / t - 1)
    kernels = [k for row in rows for k in row]
    ranges = {
        n: (float(min(getattr(k, n) for k in kernels)), float(max(getattr(k, n) for k in kernels)))
        for n in RANGE_FEATURES
    }
    return KindFit(
        kind,
        names,
        tuple(float(c) for c in coefficients),
        ranges,
        len(rows),
        float(np.median(errors)),
        float(np.quantile(errors, 0.9)),
    )


def fit_calibration(calibration: Calibration) -> dict[str, KindFit]:
    """One ``KindFit`` per kind, on the calibration's networks (``networks.clean``) and their in-network times."""
    return fit_in_network(
        clean(calibration.networks), calibration.overhead_ms, calibration.backend, calibration.threads
    )


MIN_PROFILED = 8  # networks a kind must run in to be fitted on its in-network times
# A kind priced by another's regressor where too few networks ran it: ONNX Runtime adds in NCHW only in some
# networks (mostly g = 1), and an add with its ReLU moves the bytes a concat with its ReLU moves.
STAND_INS = {"add": "concat"}


def kind_fit(fits: dict[str, KindFit], kind: str) -> KindFit | None:
    """The kind's regressor in ``fits``, else its stand-in's (``STAND_INS``), else None."""
    return fits.get(kind) or fits.get(STAND_INS.get(kind, ""))


def fit_in_network(
    networks: Sequence[NetworkSample], overhead_ms: float, backend: str, threads: int
) -> dict[str, KindFit]:
    """One ``KindFit`` per kind from the networks' profiled times on ``backend`` at ``threads``
    (``NetworkSample.kind_ms``, ``profiled``): a network is a row of the kernels of that kind it runs
    (``layout.run_kernels``) and their time together inside it (``in_network``)."""
    profiled = [n for n in networks if sum(n.kind_ms.values()) > 0]  # a profile with every layer at 0 says nothing
    rows_by_network = [(in_network(n, overhead_ms), run_kernels(n.config, backend, threads)) for n in profiled]
    fits = {}
    for kind in KINDS:
        rows = [([k for k in kernels if k.kind == kind], ms.get(kind, 0.0)) for ms, kernels in rows_by_network]
        rows = [(row, t) for row, t in rows if row and t > 0]
        if len(rows) >= MIN_PROFILED:
            fits[kind] = fit_rows(kind, [row for row, _ in rows], [t for _, t in rows])
    return fits


def in_network(network: NetworkSample, overhead_ms: float) -> dict[str, float]:
    """Its kinds' profiled times scaled to add up to its timed run less the run overhead, as ``kernel_profile``
    scales its shares: a profiled run's layers add up to more than a plain run (``profiled``)."""
    factor = max(MIN_NET_MS, network.median_ms - overhead_ms) / sum(network.kind_ms.values())
    return {kind: ms * factor for kind, ms in network.kind_ms.items()}


def relative_error(predicted: float, measured: float) -> float:
    """Signed (predicted - measured) / measured."""
    return predicted / measured - 1 if measured > 0 else math.inf
