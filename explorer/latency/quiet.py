"""Is this machine quiet enough to time on? Other processes, and the host's sharing of the threads.

``wait_until_quiet`` waits until other processes leave the measurement's cores free
(``timing.CpuMeter``). The host is the other half. On a virtual machine it decides where
the guest's vCPUs run, and it can change its mind for minutes at a time: each vCPU alone
keeps its speed, but a network split over threads then runs no faster than on one (as
when two vCPUs share one physical core). Load average, steal time and ``CpuMeter`` show
nothing, yet every multi-threaded latency taken then is slower, most for networks of many
small kernels. A large matrix product barely notices, so the probe is a network like those
measured: ShuffleNet 0.5x (g = 3) at 224x224 (``_probe_model``).

``parallel_speedup(threads)`` runs it on ONNX Runtime with one thread and with ``threads``,
interleaved, and returns the ratio of their medians. On a quiet machine more threads run
it faster, if not by much (it is small); while the host shares the cores they run it slower
than one thread does, so below ``timing.SHARED_SPEEDUP`` (1x) the threads are *shared*
(``timing.shared``). ``time_in_parallel`` times a measurement, probes after it, and when the
threads were shared waits for them (``wait_for_parallel``, at most ``wait_s``) and times it
again, at most ``RETIMES`` times; the timing keeps the last speedup (``Timing.parallel_speedup``,
shown with the measurement's other flags). With one thread nothing is probed: there is
nothing to share. ``time_quietly`` does both, as ``LatencyRunner`` and ``--wait-quiet`` time a model.

The host can also slow every thread alike, which leaves the speedup as it was. ``probe_ms``
times the probe network alone: the machine's *level*. Against the usual level of a series of
probes (``usual_level``, their lower quartile), one ``SLOW_LEVEL`` times slower says the machine
ran slow (``slowed``); ``wait_for_level`` waits for it to come back.
"""

from __future__ import annotations

import functools
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from .timing import CONTENDED_SHARE, CpuMeter, Timing, check_cancel, shared

PROBE_RUNS = 5  # runs of each session per half of a probe
POLL_S = 0.5
RETIMES = 2  # a measurement taken on shared threads is timed again at most this often
SLOW_LEVEL = 1.15  # a probe this much slower than the usual level: the machine ran slow
USUAL_QUANTILE = 0.25

Probe = Callable[[int], float]


@functools.lru_cache(maxsize=1)
def _probe_model() -> tuple[bytes, tuple[int, ...]]:
    """The probe network's ONNX bytes and input shape (exported once per process)."""
    import torch

    from ..concurrency import torch_threads
    from ..shufflenet import ShuffleNetConfig, build_model
    from .export import export_onnx

    config = ShuffleNetConfig(groups=3, width=0.5)
    with tempfile.TemporaryDirectory(prefix="explorer-probe-") as directory, torch_threads(1), torch.no_grad():
        torch.manual_seed(0)
        path = export_onnx(build_model(config).eval(), config.input_size, os.path.join(directory, "probe.onnx"))
        with open(path, "rb") as handle:
            return handle.read(), (1, 3, *config.input_size)


@functools.lru_cache(maxsize=8)
def _session(threads: int):
    import onnxruntime as ort

    from .export import session_options

    model, _ = _probe_model()
    return ort.InferenceSession(model, session_options(threads), providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=1)
def _feed() -> dict[str, np.ndarray]:
    from .export import INPUT_NAME

    _, shape = _probe_model()
    return {INPUT_NAME: np.random.default_rng(0).standard_normal(shape, dtype=np.float32)}


def _median_run_s(session, feed: dict, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        session.run(None, feed)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def parallel_speedup(threads: int, runs: int = PROBE_RUNS) -> float:
    """The probe network's median time on one thread over its median time on ``threads`` (1.0 for one)."""
    if threads <= 1:
        return 1.0
    feed, one, many = _feed(), _session(1), _session(threads)
    one.run(None, feed), many.run(None, feed)  # the first run after a pause pays for waking up
    single, parallel = [], []
    for _ in range(2):  # interleaved halves: a change of state mid-probe weighs on both sides
        single.append(_median_run_s(one, feed, runs))
        parallel.append(_median_run_s(many, feed, runs))
    return float(np.median(single) / np.median(parallel))


def probe_ms(threads: int, runs: int = 2 * PROBE_RUNS) -> float:
    """The probe network's median time (ms) on ``threads``: the machine's level, for comparing timings taken minutes
    apart (``predictor.networks.slow``). A slowdown of every thread alike leaves ``parallel_speedup`` as it was."""
    feed, session = _feed(), _session(threads)
    session.run(None, feed)
    return _median_run_s(session, feed, runs) * 1e3


def usual_level(levels: Sequence[float | None]) -> float | None:
    """The usual probe time (ms) among ``levels``: their lower quartile (None without any)."""
    probed = [level for level in levels if level is not None]
    return float(np.quantile(probed, USUAL_QUANTILE)) if probed else None


def slowed(level: float | None, usual: float | None, tolerance: float = SLOW_LEVEL) -> bool:
    """Whether a probe time ``level`` is more than ``tolerance`` times the ``usual`` one."""
    return level is not None and usual is not None and level > tolerance * usual


def _wait(
    probe: Callable[[], float],
    done: Callable[[float], bool],
    limit_s: float,
    cancel: threading.Event | None,
    sleep: Callable[[float], None],
) -> tuple[float, float]:
    """Probe until ``done(probe())`` or ``limit_s`` has passed: (last probe, seconds waited)."""
    start = time.monotonic()
    while True:
        value = probe()
        waited = time.monotonic() - start
        if done(value) or waited >= limit_s:
            return value, waited
        check_cancel(cancel)
        sleep(min(POLL_S, limit_s - waited))


def wait_for_parallel(
    threads: int,
    limit_s: float,
    cancel: threading.Event | None = None,
    probe: Probe = parallel_speedup,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[float, float]:
    """Probe until the threads run in parallel or ``limit_s`` has passed: (last speedup, seconds waited)."""
    return _wait(lambda: probe(threads), lambda speedup: not shared(speedup, threads), limit_s, cancel, sleep)


def wait_for_level(
    threads: int,
    usual_ms: float,
    limit_s: float,
    cancel: threading.Event | None = None,
    probe: Probe = probe_ms,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[float, float]:
    """Probe until the machine runs at its ``usual_ms`` level again (``slowed``) or ``limit_s`` has passed: (last
    probe time in ms, seconds waited)."""
    return _wait(lambda: probe(threads), lambda level: not slowed(level, usual_ms), limit_s, cancel, sleep)


def time_in_parallel(
    time_once: Callable[[], Timing],
    threads: int,
    wait_s: float,
    cancel: threading.Event | None = None,
    probe: Probe = parallel_speedup,
    sleep: Callable[[float], None] = time.sleep,
) -> Timing:
    """``time_once()``, probed after; timed again (at most ``RETIMES`` times) once parallel, if it was shared.

    The timing returned carries the speedup probed after it and the seconds spent waiting
    (``wait_s`` bounds them in all). One thread: ``time_once()`` as it is.
    """
    if threads <= 1:
        return time_once()
    timing, speedup, waited = time_once(), probe(threads), 0.0
    for _ in range(RETIMES):
        if not shared(speedup, threads) or waited >= wait_s:
            break
        now, seconds = wait_for_parallel(threads, wait_s - waited, cancel, probe, sleep)
        waited += seconds
        if shared(now, threads):
            break  # still shared when the wait ran out: keep the timing, flagged
        timing, speedup = time_once(), probe(threads)
    return replace(timing, parallel_speedup=speedup, parallel_threads=threads, parallel_wait_s=waited)


def wait_until_quiet(limit_s: float, window_s: float = 0.5, threads: int | None = None) -> float | None:
    """Wait (up to ``limit_s``) until other processes leave ``threads`` cores free (10% slack) over ``window_s``.

    Returns the last share seen. Used by ``--wait-quiet``: on a shared machine a measurement
    then starts in a quiet moment instead of being flagged ``contended`` afterwards.
    """
    deadline = time.monotonic() + limit_s
    while True:
        meter = CpuMeter()
        time.sleep(window_s)
        share = meter.others_share()
        cores = os.cpu_count() or 1
        spare = max(0.0, (cores - threads) / cores) if threads else 0.0
        if share is None or share <= spare + CONTENDED_SHARE or time.monotonic() >= deadline:
            return share


def time_quietly(
    time_once: Callable[[], Timing], threads: int, wait_s: float, cancel: threading.Event | None = None
) -> Timing:
    """``time_once()`` once other processes are quiet (``wait_s`` > 0), on threads running in parallel."""
    if wait_s > 0:
        wait_until_quiet(wait_s, threads=threads)
        check_cancel(cancel)
    return time_in_parallel(time_once, threads, wait_s, cancel)
