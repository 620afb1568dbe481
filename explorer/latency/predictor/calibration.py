"""A calibration: sampled kernels and whole networks timed on one backend at one thread count, and the run overhead.

**What is sampled**: ``sampling``.

**How it is timed.** Each kernel runs alone in its own graph (``graphs``), warmed up and
timed for ``min_time`` seconds (``explorer.latency.timing.time_function``); the overhead
graph is timed the same way. ``budget_s`` (``DEFAULT_BUDGET_S``) paces the timing: once the
machine proves slow, the remaining kernels are timed for less (``_Pace``).
``benchmarks/predictor_accuracy.py`` prints how long a calibration took. Each graph is
probed after it is timed (``explorer.latency.quiet``): one timed while the host ran the
threads on shared hardware is timed again once they run in parallel, waiting
``SHARED_WAIT_S`` at most in all; ``extra`` counts those left shared and the wait.

**Whole networks.** Then ``networks.sampled_networks()`` are exported and timed end to end
(``NETWORK_RESERVE_S`` of the budget is kept for them): what the correction (``correction``) is
fitted on and cross-validated with. On OpenVINO they are also profiled (``profiled``) and the
kinds are fitted on their times inside the networks, so no kernel is timed alone: its budget
goes to ``PROFILED_NETWORKS`` networks instead of ``NETWORK_COUNT``.

**Cancel and progress.** ``calibrate`` calls ``progress(done, total, text)`` after each
kernel and network and checks ``cancel`` (a ``threading.Event``) between kernels and between timed
runs; when set it raises ``Cancelled`` and returns nothing: a ``Calibration`` exists only
complete. ``to_dict``/``from_dict`` give JSON-able values (the store keys them by machine,
versions, backend and threads).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..quiet import time_in_parallel
from ..timing import Cancelled, Timing, check_cancel, time_function
from . import graphs
from .kernels import FUSED_BY_BACKEND, KINDS, Kernel
from .networks import (
    NETWORK_COUNT,
    PROFILED,
    PROFILED_REFERENCES,
    NetworkSample,
    sampled_networks,
    time_networks,
)
from .sampling import sampled_kernels

FORMAT = 3  # 2: with whole networks; 3: OpenVINO's networks with their kinds' in-network times
BACKENDS = ("ort", "openvino")
DEFAULT_MIN_TIME = 0.08  # seconds of timed runs per kernel
OVERHEAD_MIN_TIME = 0.3
NOISY_SHARE = 0.25

Progress = Callable[[int, int, str], None]


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
    networks: tuple[NetworkSample, ...] = ()

    @property
    def noisy(self) -> bool:
        """More than ``NOISY_SHARE`` of the graphs (kernels and networks) had an IQR over 10% of their median or
        were timed while the host shared the threads: re-calibrate when quiet."""
        return self.noisy_samples > NOISY_SHARE * self.graphs

    @property
    def graphs(self) -> int:
        return len(self.samples) + len(self.networks)

    def contents(self) -> str:
        """What it timed, in words: "336 kernels and 59 networks", or "123 networks, profiled layer by layer"."""
        networks = f"{len(self.networks)} networks"
        if self.samples:
            return f"{len(self.samples)} kernels and {networks}"
        return f"{networks}, profiled layer by layer" if any(n.kind_ms for n in self.networks) else networks

    def kinds(self) -> tuple[str, ...]:
        """The kernel kinds it timed, alone or inside its networks."""
        found = {s.kernel.kind for s in self.samples} | {kind for n in self.networks for kind in n.kind_ms}
        return tuple(k for k in KINDS if k in found)

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
            "networks": [n.to_dict() for n in self.networks],
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
                tuple(NetworkSample.from_dict(n) for n in values["networks"]),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"calibration is missing or has a bad field: {error}") from error


# --------------------------------------------------------------------------- timing


def _timer(backend: str, path: str, shape: tuple[int, ...], threads: int, bound: bool = True):
    if backend == "ort":
        return graphs.ort_timer(path, shape, threads, bound)
    if backend == "openvino":
        return graphs.openvino_timer(path, shape, threads)
    raise ValueError(f"backend {backend!r} is not allowed: calibrations exist for {', '.join(BACKENDS)}")


def _time(run, cancel: threading.Event | None, min_time: float, threads: int) -> Timing:
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


class _Timer:
    """``_time`` on threads that run in parallel (``explorer.latency.quiet``): a graph timed while the host
    shared them is timed again once it stops, waiting ``SHARED_WAIT_S`` at most in the whole calibration."""

    def __init__(self, wait_s: float) -> None:
        self.wait_s, self.waited_s, self.shared = wait_s, 0.0, 0

    def __call__(self, run, cancel: threading.Event | None, min_time: float, threads: int) -> Timing:
        left = max(0.0, self.wait_s - self.waited_s)
        timing = time_in_parallel(lambda: _time(run, cancel, min_time, threads), threads, left, cancel)
        self.waited_s += timing.parallel_wait_s
        self.shared += timing.threads_shared
        return timing


def _overheads(
    backend: str, directory: str, threads: int, cancel: threading.Event | None, timer: _Timer
) -> tuple[float, float]:
    """(per network run, per kernel-graph run) overhead in ms: the overhead graph run both ways."""
    path = graphs.write(graphs.overhead_graph(), directory, "overhead")
    bound = timer(_timer(backend, path, graphs.OVERHEAD_SHAPE, threads), cancel, OVERHEAD_MIN_TIME, threads)
    if backend != "ort":
        return bound.median_ms, bound.median_ms
    plain = timer(_timer(backend, path, graphs.OVERHEAD_SHAPE, threads, False), cancel, OVERHEAD_MIN_TIME, threads)
    return plain.median_ms, bound.median_ms


def _measure(
    backend: str,
    kernel: Kernel,
    directory: str,
    index: int,
    threads: int,
    cancel: threading.Event | None,
    min_time: float,
    timer: _Timer,
) -> Sample:
    path = graphs.write(graphs.kernel_graph(kernel), directory, f"k{index}")
    timing = timer(_timer(backend, path, graphs.input_shape(kernel), threads), cancel, min_time, threads)
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
DEFAULT_BUDGET_S = 165.0
SHARED_WAIT_S = 30.0  # of the budget, at most, waiting for the host to stop sharing the threads
NETWORK_RESERVE_S = 70.0  # of the budget, for exporting and timing the whole networks
PROFILED_NETWORKS = 120  # networks of a calibration that times no kernel alone (``PROFILED`` backends)
FEWEST_PROFILED_NETWORKS = 12


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
    networks: list | None = None,
) -> Calibration:
    """Time the sampled kernels, the overhead and the whole ``networks`` on ``backend`` at ``threads``.

    A complete calibration or a raise. ``networks`` defaults to ``sampled_networks()``
    (``NETWORK_RESERVE_S`` of the budget is kept for them); on a ``PROFILED`` backend no kernel is
    timed alone and it defaults to ``scale`` x ``PROFILED_NETWORKS`` of them and ``PROFILED_REFERENCES``,
    each profiled. ``budget_s`` paces the kernels
    (``_Pace``): on a loaded machine each is timed for less, so the whole stays near the
    budget. ``machine``/``versions`` default to ``explorer.machine``'s fingerprint and
    versions. Raises ``Cancelled`` once ``cancel`` is set (nothing is returned, nothing is kept).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not allowed: calibrations exist for {', '.join(BACKENDS)}")
    from ...machine import fingerprint
    from ...machine import versions as library_versions

    start, load = time.perf_counter(), _load()
    profiled = backend in PROFILED
    kernels = [] if profiled else sampled_kernels(scale, FUSED_BY_BACKEND.get(backend, frozenset()))
    count = max(FEWEST_PROFILED_NETWORKS, round(scale * PROFILED_NETWORKS)) if profiled else NETWORK_COUNT
    if networks is None:
        networks = sampled_networks(count) + list(PROFILED_REFERENCES if profiled else ())
    configs = list(networks)
    total = len(kernels) + len(configs)
    samples: list[Sample] = []
    timer = _Timer(SHARED_WAIT_S)
    with tempfile.TemporaryDirectory(prefix="explorer-calibration-") as directory:
        overhead, kernel_overhead = _overheads(backend, directory, threads, cancel, timer)
        reserve = NETWORK_RESERVE_S if configs else 0.0
        pace = _Pace(budget_s - reserve - (time.perf_counter() - start), len(kernels), min_time)
        for index, kernel in enumerate(kernels):
            check_cancel(cancel)
            kernel_start, kernel_time = time.perf_counter(), pace.next_min_time(index)
            samples.append(_measure(backend, kernel, directory, index, threads, cancel, kernel_time, timer))
            pace.record(time.perf_counter() - kernel_start, kernel_time)
            if progress is not None:
                progress(
                    index + 1,
                    total,
                    f"{kernel.kind} {kernel.in_channels}->{kernel.out_channels} "
                    f"g={kernel.groups} at {kernel.size[0]}x{kernel.size[1]}",
                )

        def network_done(done: int, config) -> None:
            if progress is not None:
                size = "x".join(map(str, config.input_size))
                progress(len(kernels) + done, total, f"network {config.label} at {size}")

        timed = time_networks(configs, backend, threads, directory, timer, cancel, network_done)
    return Calibration(
        backend,
        threads,
        machine or fingerprint(),
        versions or library_versions(),
        overhead,
        kernel_overhead,
        tuple(samples),
        time.perf_counter() - start,
        time.time(),
        load,
        sum(1 for s in (*samples, *timed) if s.iqr_ms > 0.1 * s.median_ms) + timer.shared,
        {"threads_shared": timer.shared, "shared_wait_s": round(timer.waited_s, 1)},
        networks=timed,
    )


__all__ = ["Calibration", "Cancelled", "Sample", "calibrate"]
