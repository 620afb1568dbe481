"""A calibration: whole networks timed and profiled on one backend at one thread count, and the run overhead.

**What is timed.** ``networks.sampled_networks()``: the reference networks, then ShuffleNets drawn
over the allowed space, each exported and run as ``LatencyRunner`` runs it, end to end, then once
more with the runtime's profiler on (``profiled``): each kernel kind's time inside the network.
The kinds are fitted on those in-network times (``fit.fit_in_network``) and the correction on the
whole runs (``correction``). No kernel is timed alone: neither runtime runs a kernel alone as it
runs it inside a network (``profiled`` says by how much). The overhead graph
(``graphs.overhead_graph``), run the same way, gives what a run costs before any kernel works.

**Budget.** The networks are timed in that order until ``budget_s`` (``DEFAULT_BUDGET_S``) is
spent, ``FEWEST_NETWORKS`` at least; ``benchmarks/predictor_accuracy.py`` prints how long a
calibration took. Each network is probed after it is timed (``explorer.latency.quiet``): one timed
while the host ran the threads on shared hardware is timed again once they run in parallel,
waiting ``SHARED_WAIT_S`` at most in all; those left shared are flagged (``NetworkSample.shared``).

**Cancel and progress.** ``calibrate`` calls ``progress(done, total, text)`` after each network
and checks ``cancel`` (a ``threading.Event``) between networks and between timed runs; when set it
raises ``Cancelled`` and returns nothing: a ``Calibration`` exists only complete.
``to_dict``/``from_dict`` give JSON-able values (the store keys them by machine, versions,
backend and threads).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..quiet import probe_ms, slowed, time_in_parallel, usual_level, wait_for_parallel
from ..timing import Cancelled, Timing, check_cancel, is_noisy, time_function
from . import graphs
from .kernels import KINDS
from .networks import NETWORK_COUNT, Deadline, NetworkSample, network_timer, sampled_networks, slow, time_networks

FORMAT = 5  # 3: OpenVINO's networks profiled; 4: both runtimes; 5: ONNX Runtime's reorders and adds kinds of their own
BACKENDS = ("ort", "openvino")
OVERHEAD_MIN_TIME = 0.3
NOISY_SHARE = 0.25
# A calibration's level (the lower quartile of ~126 probes) is far steadier than one probe, so a smaller margin says
# the whole calibration ran slow (docs/prediction-runs.md has the calibrations that set it).
SLOW_CALIBRATION = 1.05

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class Calibration:
    """Everything measured for one (machine, versions, backend, threads): the predictor is fitted from it.

    ``overhead_ms`` is what one run of a network pays beyond its kernels (the overhead graph run
    the way ``LatencyRunner`` runs a network).
    """

    backend: str
    threads: int
    machine: str
    versions: dict[str, str]
    overhead_ms: float
    networks: tuple[NetworkSample, ...]
    seconds: float
    created_at: float
    load_average: float | None = None
    noisy_networks: int = 0
    extra: dict = field(default_factory=dict)

    @property
    def noisy(self) -> bool:
        """More than ``NOISY_SHARE`` of the networks were noisy (``timing.is_noisy``: IQR over 10% of the median) or
        timed while the host shared the threads or the machine ran slow (``networks.slow``), or the whole calibration
        ran slow (``ran_slow``): re-calibrate when quiet."""
        return self.noisy_networks > NOISY_SHARE * len(self.networks) or self.ran_slow

    @property
    def quiet_networks(self) -> int:
        """The networks timed without noise: of two calibrations, the one with more has more to fit on."""
        return len(self.networks) - self.noisy_networks

    @property
    def ran_slow(self) -> bool:
        """Its level was more than ``SLOW_CALIBRATION`` times the usual level of the calibrations this machine kept
        before it (``extra["usual_level_ms"]``, set by ``kept.keep``): the host slowed the whole calibration, which
        its own probes cannot see."""
        return slowed(self.level_ms, self.extra.get("usual_level_ms"), SLOW_CALIBRATION)

    @property
    def level_ms(self) -> float | None:
        """The machine's usual level while it calibrated: the probe network's time after its networks
        (``quiet.usual_level``), None when none was probed. Two calibrations' levels say which ran on a slower
        machine."""
        return usual_level([n.probe_ms for n in self.networks])

    def contents(self) -> str:
        """What it timed, in words: "126 networks, profiled layer by layer"."""
        return f"{len(self.networks)} networks, profiled layer by layer"

    def kinds(self) -> tuple[str, ...]:
        """The kernel kinds it timed inside its networks."""
        found = {kind for n in self.networks for kind in n.kind_ms}
        return tuple(k for k in KINDS if k in found)

    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "backend": self.backend,
            "threads": self.threads,
            "machine": self.machine,
            "versions": dict(self.versions),
            "overhead_ms": self.overhead_ms,
            "seconds": self.seconds,
            "created_at": self.created_at,
            "load_average": self.load_average,
            "noisy_networks": self.noisy_networks,
            "extra": dict(self.extra),
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
                tuple(NetworkSample.from_dict(n) for n in values["networks"]),
                float(values["seconds"]),
                float(values["created_at"]),
                values.get("load_average"),
                int(values.get("noisy_networks", 0)),
                dict(values.get("extra", {})),
            )
        except (KeyError, TypeError) as error:
            raise ValueError(f"calibration is missing or has a bad field: {error}") from error


# --------------------------------------------------------------------------- timing


def level_of(calibrations: Iterable[Calibration]) -> float | None:
    """The machine's usual level (ms) over several calibrations together: ``quiet.usual_level`` of all their probes
    (the probe network is the same for every backend); None when none was probed."""
    return usual_level([n.probe_ms for c in calibrations for n in c.networks])


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

    def wait_for_parallel(self, threads: int, cancel: threading.Event | None) -> None:
        """Before the first timing: wait (``START_WAIT_SHARE`` of the whole wait at most) for parallel threads."""
        if threads > 1:
            self.waited_s += wait_for_parallel(threads, START_WAIT_SHARE * self.wait_s, cancel)[1]

    def __call__(self, run, cancel: threading.Event | None, min_time: float, threads: int) -> Timing:
        left = max(0.0, self.wait_s - self.waited_s)
        timing = time_in_parallel(lambda: _time(run, cancel, min_time, threads), threads, left, cancel)
        self.waited_s += timing.parallel_wait_s
        self.shared += timing.threads_shared
        return timing


def _overhead(backend: str, directory: str, threads: int, cancel: threading.Event | None, timer: _Timer) -> float:
    """What one run costs before any kernel works (ms): the overhead graph run as a network is."""
    path = graphs.write(graphs.overhead_graph(), directory, "overhead")
    return timer(
        network_timer(path, backend, graphs.OVERHEAD_SHAPE, threads), cancel, OVERHEAD_MIN_TIME, threads
    ).median_ms


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


DEFAULT_BUDGET_S = 165.0
SHARED_WAIT_S = 30.0  # of the budget, at most, waiting for the host to stop sharing the threads
START_WAIT_SHARE = 0.5  # of it before the first timing: a calibration spoiled from its start is redone whole
FEWEST_NETWORKS = 20  # timed whatever the budget: the references and enough ShuffleNets to fit every kind


def calibrate(
    backend: str,
    threads: int,
    *,
    progress: Progress | None = None,
    cancel: threading.Event | None = None,
    scale: float = 1.0,
    budget_s: float = DEFAULT_BUDGET_S,
    machine: str | None = None,
    versions: dict[str, str] | None = None,
    networks: list | None = None,
) -> Calibration:
    """Time and profile ``networks`` and the overhead on ``backend`` at ``threads``.

    A complete calibration or a raise. ``networks`` defaults to ``sampled_networks()`` with ``scale`` x
    ``NETWORK_COUNT`` ShuffleNets; they are timed in order until ``budget_s`` is spent (``FEWEST_NETWORKS``
    at least). ``machine``/``versions`` default to ``explorer.machine``'s fingerprint and versions. Raises
    ``Cancelled`` once ``cancel`` is set (nothing is returned, nothing is kept).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend {backend!r} is not allowed: calibrations exist for {', '.join(BACKENDS)}")
    from ...machine import fingerprint
    from ...machine import versions as library_versions

    start, load = time.perf_counter(), _load()
    configs = list(networks) if networks is not None else sampled_networks(round(scale * NETWORK_COUNT))
    timer = _Timer(SHARED_WAIT_S)

    def network_done(done: int, config) -> None:
        if progress is not None:
            size = "x".join(map(str, config.input_size))
            progress(done, len(configs), f"network {config.label} at {size}")

    timer.wait_for_parallel(threads, cancel)
    with tempfile.TemporaryDirectory(prefix="explorer-calibration-") as directory:
        overhead = _overhead(backend, directory, threads, cancel, timer)
        deadline = Deadline(start + budget_s, min(FEWEST_NETWORKS, len(configs)))
        timed = time_networks(configs, backend, threads, directory, timer, cancel, network_done, deadline, probe_ms)
    slowed = slow(timed)
    return Calibration(
        backend,
        threads,
        machine or fingerprint(),
        versions or library_versions(),
        overhead,
        timed,
        time.perf_counter() - start,
        time.time(),
        load,
        sum(1 for n, slowed_down in zip(timed, slowed) if is_noisy(n.median_ms, n.iqr_ms) or n.shared or slowed_down),
        {"threads_shared": timer.shared, "shared_wait_s": round(timer.waited_s, 1), "slow": sum(slowed)},
    )


__all__ = ["Calibration", "Cancelled", "calibrate"]
