"""A calibration: the sampled kernels timed on one backend at one thread count, plus the per-run overhead.

**What is sampled.** The shapes come from the networks themselves: every kernel of every
ShuffleNet on a grid spanning the allowed space (g 1, 2, 3, 4, 8, 16, 32, 64; width 0.1
to 4.0; the three variants; inputs 32x32, 224x224, 480x640 and 720x1280) and of the
reference networks (AlexNet at 224x224 and 480x640, MobileNet v1 at its four widths) is
pooled, de-duplicated by shape, and drawn per kernel kind: first, for each feature a
predictor reads (multiply-adds, input and output elements, weights, groups), the pooled
kernels with the smallest and largest value, so the sampled ranges equal the pool's;
then, per power-of-two bucket of groups, kernels spread evenly over the log of their size
(kinds a backend fuses away, ``kernels.FUSED_BY_BACKEND``, are not timed). Kernels above ``MAX_SAMPLE_MACS``
(AlexNet's classifier at 720x1280, about 2 s a run) are left out: predictions that need
them say they extrapolate.

**How it is timed.** Each kernel runs alone in its own graph (``graphs``), warmed up and
timed for ``min_time`` seconds (``explorer.latency.timing.time_function``); the overhead
graph is timed the same way. ``budget_s`` (150 s by default) paces the timing: once the
machine proves slow, the remaining kernels are timed for less (``_Pace``). Measured here
(2 threads, the machine shared, check included): ONNX Runtime 61-72 s (171-186 kernels,
load average 2-9; 201 s at load 12-19 before the pacing existed), OpenVINO 70-102 s
(186 kernels, compiling each graph costs 0.1-0.4 s).

**Its own check.** ``check.calibrate_checked`` then times three whole networks end to end and
sets them against the prediction: kept under ``extra["check"]``, reported, never fitted.

**Cancel and progress.** ``calibrate`` calls ``progress(done, total, text)`` after each
kernel and checks ``cancel`` (a ``threading.Event``) between kernels and between timed
runs; when set it raises ``Cancelled`` and returns nothing: a ``Calibration`` exists only
complete. ``to_dict``/``from_dict`` give JSON-able values (the store keys them by machine,
versions, backend and threads).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ...shufflenet import AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from ...shufflenet.config import MOBILENET_WIDTHS, VARIANTS
from ..timing import Cancelled, check_cancel, time_function
from . import graphs
from .kernels import FUSED_BY_BACKEND, KINDS, Kernel, decompose

FORMAT = 1
BACKENDS = ("ort", "openvino")
POOL_GROUPS = (1, 2, 3, 4, 8, 16, 32, 64)
POOL_WIDTHS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
POOL_INPUTS = ((32, 32), (224, 224), (480, 640), (720, 1280))
REFERENCE_INPUTS = ((224, 224), (480, 640))
MAX_SAMPLE_MACS = 2e9
SAMPLE_COUNTS = {
    "pointwise": 60,
    "depthwise": 30,
    "conv": 20,
    "shuffle": 20,
    "maxpool": 8,
    "avgpool": 10,
    "globalpool": 8,
    "concat": 12,
    "add": 15,
    "fc": 8,
}
RANGE_FEATURES = ("macs", "in_elements", "out_elements", "weights", "groups")
DEFAULT_MIN_TIME = 0.08  # seconds of timed runs per kernel
OVERHEAD_MIN_TIME = 0.3
NOISY_SHARE = 0.25

Progress = Callable[[int, int, str], None]
Checker = Callable[["Calibration", str, "threading.Event | None"], dict]


@dataclass(frozen=True)
class Sample:
    """One sampled kernel and its measured time per run (median ms, IQR ms), overhead included."""

    kernel: Kernel
    median_ms: float
    iqr_ms: float

    def to_dict(self) -> dict:
        return {"kernel": self.kernel.to_dict(), "median_ms": self.median_ms, "iqr_ms": self.iqr_ms}

    @classmethod
    def from_dict(cls, values: dict) -> Sample:
        return cls(Kernel.from_dict(values["kernel"]), float(values["median_ms"]), float(values["iqr_ms"]))


@dataclass(frozen=True)
class Calibration:
    """Everything measured for one (machine, versions, backend, threads): the predictor is fitted from it.

    ``overhead_ms`` is what one run of a network pays beyond its kernels (the overhead graph run
    the way ``LatencyRunner`` runs a network); ``kernel_overhead_ms`` is the same graph run the way
    each kernel graph was timed, and is subtracted from every sample before fitting.
    """

    backend: str
    threads: int
    machine: str
    versions: dict[str, str]
    overhead_ms: float
    kernel_overhead_ms: float
    samples: tuple[Sample, ...]
    seconds: float
    created_at: float
    load_average: float | None = None
    noisy_samples: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def noisy(self) -> bool:
        """More than ``NOISY_SHARE`` of the kernels had an IQR over 10% of their median: re-calibrate when quiet."""
        return self.noisy_samples > NOISY_SHARE * len(self.samples)

    def kinds(self) -> tuple[str, ...]:
        return tuple(k for k in KINDS if any(s.kernel.kind == k for s in self.samples))

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "backend": self.backend,
            "threads": self.threads,
            "machine": self.machine,
            "versions": dict(self.versions),
            "overhead_ms": self.overhead_ms,
            "kernel_overhead_ms": self.kernel_overhead_ms,
            "seconds": self.seconds,
            "created_at": self.created_at,
            "load_average": self.load_average,
            "noisy_samples": self.noisy_samples,
            "extra": dict(self.extra),
            "samples": [s.to_dict() for s in self.samples],
        }

    @classmethod
    def from_dict(cls, values: dict) -> Calibration:
        """The calibration ``to_dict`` wrote; ``ValueError`` for another format or missing fields."""
        if not isinstance(values, dict) or values.get("format") != FORMAT:
            raise ValueError(f"not a calibration of format {FORMAT}: {str(values)[:80]!r}")
        try:
            return cls(
                values["backend"],
                int(values["threads"]),
                values["machine"],
                dict(values["versions"]),
                float(values["overhead_ms"]),
                float(values["kernel_overhead_ms"]),
                tuple(Sample.from_dict(s) for s in values["samples"]),
                float(values["seconds"]),
                float(values["created_at"]),
                values.get("load_average"),
                int(values.get("noisy_samples", 0)),
                dict(values.get("extra", {})),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"calibration is missing or has a bad field: {error}") from error


# --------------------------------------------------------------------------- the sampled shapes


def _shape_key(kernel: Kernel) -> tuple:
    """A kernel's identity for timing: everything but the layer type it is reported under."""
    return (
        kernel.kind,
        kernel.in_channels,
        kernel.out_channels,
        kernel.size,
        kernel.kernel,
        kernel.stride,
        kernel.padding,
        kernel.groups,
        kernel.relu,
        kernel.extra_channels,
    )


def _pool_configs() -> list:
    shufflenets = [
        ShuffleNetConfig(g, w, v, True, size)
        for g in POOL_GROUPS
        for w in POOL_WIDTHS
        for v in VARIANTS
        for size in POOL_INPUTS
    ]
    references = [AlexNetConfig(size) for size in REFERENCE_INPUTS]
    references += [MobileNetConfig(w, size) for w in MOBILENET_WIDTHS for size in REFERENCE_INPUTS]
    return shufflenets + references


@functools.lru_cache(maxsize=1)
def kernel_pool() -> dict[str, tuple[Kernel, ...]]:
    """Every distinct kernel of the pooled networks, per kind, under ``MAX_SAMPLE_MACS``."""
    found: dict[tuple, Kernel] = {}
    for config in _pool_configs():
        for kernel in decompose(config):
            if kernel.macs <= MAX_SAMPLE_MACS:
                found.setdefault(_shape_key(kernel), kernel)
    return {kind: tuple(k for k in found.values() if k.kind == kind) for kind in KINDS}


def _size(kernel: Kernel) -> float:
    return math.log(1 + kernel.macs + kernel.in_elements + kernel.out_elements)


def _spread(kernels: list[Kernel], count: int) -> list[Kernel]:
    """``count`` kernels evenly spaced over log size."""
    ordered = sorted(kernels, key=_size)
    return [ordered[round((i + 0.5) * (len(ordered) - 1) / max(1, count))] for i in range(count)]


def select(pool: tuple[Kernel, ...], count: int) -> list[Kernel]:
    """``count`` kernels: each range feature's extremes, then per power-of-two bucket of groups (so that g 1
    to 64 are all timed: G2 is about them) kernels evenly spread over log size (deterministic)."""
    chosen: dict[tuple, Kernel] = {}
    for name in RANGE_FEATURES:
        for pick in (min, max):
            kernel = pick(pool, key=lambda k: (getattr(k, name), _size(k)))
            chosen.setdefault(_shape_key(kernel), kernel)
    buckets: dict[int, list[Kernel]] = {}
    for kernel in pool:
        buckets.setdefault(round(math.log2(kernel.groups)), []).append(kernel)
    slots = max(0, count - len(chosen))
    keys = sorted(buckets)
    for position, key in enumerate(keys):
        share = slots * (position + 1) // len(keys) - slots * position // len(keys)
        for kernel in _spread(buckets[key], share):
            chosen.setdefault(_shape_key(kernel), kernel)
    return list(chosen.values())


def sampled_kernels(scale: float = 1.0, skip: frozenset[str] = frozenset()) -> list[Kernel]:
    """The kernels a calibration times: ``SAMPLE_COUNTS`` (times ``scale``) per kind, but the ``skip`` kinds."""
    pool = kernel_pool()
    kernels: list[Kernel] = []
    for kind in KINDS:
        if pool[kind] and kind not in skip:
            kernels += select(pool[kind], max(2, round(SAMPLE_COUNTS[kind] * scale)))
    return kernels


# --------------------------------------------------------------------------- timing


def _timer(backend: str, path: str, shape: tuple[int, ...], threads: int, bound: bool = True):
    if backend == "ort":
        return graphs.ort_timer(path, shape, threads, bound)
    if backend == "openvino":
        return graphs.openvino_timer(path, shape, threads)
    raise ValueError(f"backend {backend!r} is not allowed: calibrations exist for {', '.join(BACKENDS)}")


def _time(run, cancel: threading.Event | None, min_time: float, threads: int):
    stop = (lambda: cancel.is_set()) if cancel is not None else None
    timing = time_function(
        run,
        min_time=min_time,
        warmup=min(0.05, min_time),
        min_samples=3,
        max_time=max(1.0, 3 * min_time),
        should_stop=stop,
        threads=threads,
    )
    check_cancel(cancel)
    return timing


def _overheads(backend: str, directory: str, threads: int, cancel: threading.Event | None) -> tuple[float, float]:
    """(per network run, per kernel-graph run) overhead in ms: the overhead graph run both ways."""
    path = graphs.write(graphs.overhead_graph(), directory, "overhead")
    bound = _time(_timer(backend, path, graphs.OVERHEAD_SHAPE, threads), cancel, OVERHEAD_MIN_TIME, threads)
    if backend != "ort":
        return bound.median_ms, bound.median_ms
    plain = _time(_timer(backend, path, graphs.OVERHEAD_SHAPE, threads, False), cancel, OVERHEAD_MIN_TIME, threads)
    return plain.median_ms, bound.median_ms


def _measure(
    backend: str,
    kernel: Kernel,
    directory: str,
    index: int,
    threads: int,
    cancel: threading.Event | None,
    min_time: float,
) -> Sample:
    path = graphs.write(graphs.kernel_graph(kernel), directory, f"k{index}")
    timing = _time(_timer(backend, path, graphs.input_shape(kernel), threads), cancel, min_time, threads)
    return Sample(kernel, timing.median_ms, timing.iqr_ms)


def _load() -> float | None:
    try:
        import os

        return os.getloadavg()[0]
    except OSError:
        return None


class _Pace:
    """Keeps a calibration inside its budget: each kernel's timed seconds shrink when the machine is slow.

    Building and compiling a graph costs what it costs (``setup``, learned as it goes); the
    timed part of each remaining kernel gets its share of what is left, between
    ``MIN_KERNEL_TIME`` and the asked ``min_time``.
    """

    def __init__(self, budget_s: float, count: int, min_time: float) -> None:
        self.start, self.budget_s, self.count, self.min_time = time.perf_counter(), budget_s, count, min_time
        self.setup_s = 0.05

    def next_min_time(self, done: int) -> float:
        left = self.budget_s - (time.perf_counter() - self.start)
        per_kernel = left / max(1, self.count - done)
        return max(MIN_KERNEL_TIME, min(self.min_time, (per_kernel - self.setup_s) / TIMED_FACTOR))

    def record(self, wall_s: float, min_time: float) -> None:
        setup = max(0.0, wall_s - TIMED_FACTOR * min_time)
        self.setup_s = 0.7 * self.setup_s + 0.3 * setup


MIN_KERNEL_TIME = 0.01
TIMED_FACTOR = 1.6  # a kernel's wall time per second of min_time: warm-up and the last block
DEFAULT_BUDGET_S = 150.0
CHECK_RESERVE_S = 15.0  # of the budget, for the check's three exports and timings


def calibrate(
    backend: str,
    threads: int,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    scale: float = 1.0,
    min_time: float = DEFAULT_MIN_TIME,
    budget_s: float = DEFAULT_BUDGET_S,
    machine: str | None = None,
    versions: dict[str, str] | None = None,
    check: Checker | None = None,
) -> Calibration:
    """Time the sampled kernels and the overhead on ``backend`` at ``threads``; a complete calibration or a raise.

    ``check``: called last with the calibration, the work directory and ``cancel``; its record is
    kept under ``extra["check"]`` (``check.calibrate_checked`` passes ``check.network_check``: a
    few whole networks, predicted vs measured; ``CHECK_RESERVE_S`` of the budget is kept for it).
    ``budget_s`` paces the timing (``_Pace``): on a loaded machine each kernel is timed for
    less, so the whole stays near the budget. ``machine``/``versions`` default to
    ``explorer.machine``'s fingerprint and versions. Raises ``Cancelled`` once
    ``cancel`` is set (nothing is returned, nothing is kept).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not allowed: calibrations exist for {', '.join(BACKENDS)}")
    from ...machine import fingerprint
    from ...machine import versions as library_versions

    start, load = time.perf_counter(), _load()
    kernels = sampled_kernels(scale, FUSED_BY_BACKEND.get(backend, frozenset()))
    samples: list[Sample] = []
    with tempfile.TemporaryDirectory(prefix="explorer-calibration-") as directory:
        overhead, kernel_overhead = _overheads(backend, directory, threads, cancel)
        reserve = CHECK_RESERVE_S if check is not None else 0.0
        pace = _Pace(budget_s - reserve - (time.perf_counter() - start), len(kernels), min_time)
        for index, kernel in enumerate(kernels):
            check_cancel(cancel)
            kernel_start, kernel_time = time.perf_counter(), pace.next_min_time(index)
            samples.append(_measure(backend, kernel, directory, index, threads, cancel, kernel_time))
            pace.record(time.perf_counter() - kernel_start, kernel_time)
            if progress is not None:
                progress(
                    index + 1,
                    len(kernels),
                    f"{kernel.kind} {kernel.in_channels}->{kernel.out_channels} "
                    f"g={kernel.groups} at {kernel.size[0]}x{kernel.size[1]}",
                )
        noisy = sum(1 for s in samples if s.iqr_ms > 0.1 * s.median_ms)
        calibration = Calibration(
            backend,
            threads,
            machine or fingerprint(),
            versions or library_versions(),
            overhead,
            kernel_overhead,
            tuple(samples),
            0.0,
            time.time(),
            load,
            noisy,
        )
        extra = {"check": check(calibration, directory, cancel)} if check is not None else {}
    return dataclasses.replace(calibration, seconds=time.perf_counter() - start, extra=extra)


__all__ = ["Calibration", "Cancelled", "Sample", "calibrate", "kernel_pool", "sampled_kernels", "select"]
