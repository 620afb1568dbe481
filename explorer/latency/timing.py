"""The timing harness: warm up, time enough runs for a stable median, summarise honestly.

``time_function(fn)`` is time-based like ``torch.utils.benchmark``'s
``blocked_autorange``: it warms up for ``warmup`` seconds (at least two calls), picks a
block size so that one timed block lasts at least ``block_ms`` (a single call for
anything slower than that: each sample is then one inference), and keeps timing blocks
until ``min_time`` seconds *and* ``min_samples`` samples are reached (or ``max_time``
has passed with at least three samples, for very slow models). A sample is the mean
time of one call within its block.

``summarize(samples)`` reports the median, the interquartile range (numpy's default
linear interpolation between order statistics), the minimum and the number of runs; a
measurement whose IQR exceeds ``NOISY_IQR_FRACTION`` (10%) of its median is flagged as
noisy: something else was competing for the CPU, so the number should be re-measured.
A uniformly slowed measurement can have a small IQR, so ``CpuMeter`` also records how
much CPU *other* processes used while timing; beyond the cores the measurement left free
(cores - threads) plus 10% of the machine, it is flagged ``contended``.

Other sessions of the same server are invisible to that check (their CPU time is this
process's own), and they disturb most: eager PyTorch takes the GIL between operators, so
a page run in another thread of the process slowed eager ShuffleNet 1x many times over per
run here (ONNX Runtime releases the GIL for a whole run). So the harness
yields to them (``explorer.concurrency``: foreground work, i.e. page runs, counting and
mixing, is recorded while in flight). Around every timed block (and before the warm-up)
it reads ``foreground_state()``: while another thread's foreground work is in flight it
sleeps instead of running (at most ``yield_limit`` seconds per measurement,
``YIELD_LIMIT_S`` by default), and a block that overlapped foreground work (in flight
when it started, or started during it) is discarded and timed again. The targets
(``min_time``, ``min_samples``) count clean blocks only; re-timing stops once
``max_time`` of blocks have been discarded. If fewer than three clean blocks (or
``min_samples``, if smaller) were timed by then, the result keeps every block and is
flagged ``sessions_busy`` (and so ``contended``, shown as "busy"), with ``busy_reason``
saying that other sessions of this server were working.

The harness also holds the process-wide measurement lock for a caller
(``measurement_lock``: queued callers are told how long they have waited) and stops a
measurement that is cancelled (``Cancelled``) between its steps and between timed runs.

No Streamlit, no models: plain callables and numbers, so it is testable on its own.
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from ..concurrency import MEASUREMENT_LOCK, foreground_state
from ..store.database import data_dir

NOISY_IQR_FRACTION = 0.10
DEFAULT_MIN_TIME = 1.0  # seconds of timed runs per measurement
DEFAULT_WARMUP = 0.25  # seconds of warm-up (at least WARMUP_CALLS calls)
WARMUP_CALLS = 2
SLOW_CALL_S = 1.0  # one warm-up call is enough for calls this slow
DEFAULT_MIN_SAMPLES = 5
MIN_SAMPLES_FLOOR = 3
DEFAULT_BLOCK_MS = 1.0


CONTENDED_SHARE = 0.10  # other processes using more than this share of all CPUs while we time
SHARED_SPEEDUP = 1.0  # threads that run the probe network no faster than one thread are shared (``quiet``)
YIELD_LIMIT_S = 3.0  # longest wait, per measurement, for other sessions' foreground work to finish
YIELD_POLL_S = 0.02


def _busy_seconds() -> float | None:
    """CPU seconds all processes spent busy since boot (/proc/stat, steal included), or None."""
    try:
        with open("/proc/stat", encoding="utf-8") as handle:
            fields = handle.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


class CpuMeter:
    """How much CPU *other* processes used during a window: the contention a median hides.

    A busy neighbour does not always widen the IQR (two OpenMP threads sharing two cores
    with another process can be uniformly slow), so the harness also compares the
    machine's busy time (/proc/stat) with this process's own CPU time (os.times).
    """

    def __init__(self) -> None:
        self.start_busy, self.start_own, self.start_wall = _busy_seconds(), _own_seconds(), time.monotonic()

    def others_share(self) -> float | None:
        """Other processes' CPU time / (wall time x cores), 0..1; None where /proc/stat is missing."""
        busy = _busy_seconds()
        if busy is None or self.start_busy is None:
            return None
        wall = time.monotonic() - self.start_wall
        cores = os.cpu_count() or 1
        if wall <= 0:
            return 0.0
        others = (busy - self.start_busy) - (_own_seconds() - self.start_own)
        return min(1.0, max(0.0, others / (wall * cores)))


@dataclass(frozen=True)
class Timing:
    """Summary of timed samples (milliseconds per call)."""

    samples_ms: tuple[float, ...]
    runs: int  # calls timed (samples x block size)
    block: int = 1  # calls per sample
    others_share: float | None = None  # other processes' share of all CPUs while timing (CpuMeter)
    spare_share: float = 0.0  # share of the CPUs this measurement did not need (cores - threads) / cores
    retimed: int = 0  # blocks discarded because other sessions' foreground work overlapped them
    yielded_s: float = 0.0  # seconds spent waiting for other sessions' foreground work
    sessions_busy: bool = False  # too few clean blocks: the samples include blocks that overlapped it
    parallel_speedup: float | None = None  # ``quiet.parallel_speedup`` probed after timing (None: not probed)
    parallel_threads: int = 0  # the threads that probe compared with one
    parallel_wait_s: float = 0.0  # seconds spent waiting for the threads to run in parallel again

    @property
    def threads_shared(self) -> bool:
        """The probe after timing found the threads running the probe no faster than one thread (``quiet``)."""
        return shared(self.parallel_speedup, self.parallel_threads)

    @property
    def processes_busy(self) -> bool:
        """Other processes used more than the CPUs this measurement left free, plus CONTENDED_SHARE."""
        return self.others_share is not None and self.others_share > self.spare_share + CONTENDED_SHARE

    @property
    def contended(self) -> bool:
        """Timed while something else used the CPUs: other processes, other sessions of this server, or the host."""
        return self.processes_busy or self.sessions_busy or self.threads_shared

    @property
    def busy_reason(self) -> str:
        """Why the measurement is flagged busy, in words ("" when it is not)."""
        reasons = []
        if self.processes_busy:
            reasons.append(f"other processes used {self.others_share:.0%} of the CPUs while timing")
        if self.sessions_busy:
            reasons.append(
                f"other sessions in this server were working while timing ({self.retimed} blocks overlapped their work)"
            )
        if self.threads_shared:
            reasons.append(
                f"{self.parallel_threads} threads ran {self.parallel_speedup:.2f}x as fast as one "
                "(the host was running this machine's cores on shared hardware)"
            )
        return "; ".join(reasons)

    @property
    def median_ms(self) -> float:
        return float(np.median(self.samples_ms))

    @property
    def q1_ms(self) -> float:
        return float(np.percentile(self.samples_ms, 25))

    @property
    def q3_ms(self) -> float:
        return float(np.percentile(self.samples_ms, 75))

    @property
    def iqr_ms(self) -> float:
        return self.q3_ms - self.q1_ms

    @property
    def min_ms(self) -> float:
        return float(min(self.samples_ms))

    @property
    def noisy(self) -> bool:
        return is_noisy(self.median_ms, self.iqr_ms)

    def to_record(self) -> dict:
        """Every field as JSON values (``from_record`` reads it back): how a stored result keeps its timing."""
        return {**asdict(self), "samples_ms": list(self.samples_ms)}

    @classmethod
    def from_record(cls, record: dict) -> Timing:
        """The timing ``to_record`` wrote (fields this version does not know are ignored)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in known}
        return cls(**{**values, "samples_ms": tuple(values["samples_ms"])})

    def to_dict(self) -> dict:
        return {
            "median_ms": self.median_ms,
            "iqr_ms": self.iqr_ms,
            "q1_ms": self.q1_ms,
            "q3_ms": self.q3_ms,
            "min_ms": self.min_ms,
            "runs": self.runs,
            "samples": len(self.samples_ms),
            "block": self.block,
            "noisy": self.noisy,
            "others_cpu_share": self.others_share,
            "contended": self.contended,
            "sessions_busy": self.sessions_busy,
            "retimed_blocks": self.retimed,
            "yielded_s": self.yielded_s,
            "busy_reason": self.busy_reason,
            "parallel_speedup": self.parallel_speedup,
            "threads_shared": self.threads_shared,
        }


def flags_text(noisy: bool, busy: bool) -> str:
    """The one wording of a measurement's flags, for the CLI, the tables and the pages: "noisy", "busy",
    "noisy, busy" or ""."""
    return ", ".join(flag for flag, on in (("noisy", noisy), ("busy", busy)) if on)


def shared(speedup: float | None, threads: int) -> bool:
    """True when ``threads`` threads ran the probe network slower than one thread (speedup < ``SHARED_SPEEDUP``)."""
    return speedup is not None and threads > 1 and speedup < SHARED_SPEEDUP


def is_noisy(median: float, iqr: float, fraction: float = NOISY_IQR_FRACTION) -> bool:
    """True when the spread (IQR) is more than ``fraction`` of the median."""
    return iqr > fraction * median


def summarize(
    samples_ms: list[float] | tuple[float, ...],
    runs: int | None = None,
    block: int = 1,
    others_share: float | None = None,
    spare_share: float = 0.0,
    retimed: int = 0,
    yielded_s: float = 0.0,
    sessions_busy: bool = False,
) -> Timing:
    samples = tuple(float(s) for s in samples_ms)
    if not samples:
        raise ValueError("no samples to summarise: time at least one run")
    if not all(math.isfinite(s) and s >= 0 for s in samples):
        raise ValueError(f"samples must be finite, non-negative times, got {samples!r}")
    return Timing(
        samples,
        len(samples) * block if runs is None else runs,
        block,
        others_share,
        spare_share,
        retimed,
        yielded_s,
        sessions_busy,
    )


def _wait_for_foreground(limit_s: float, sleep: Callable[[float], None]) -> float:
    """Sleep while another thread's foreground work is in flight, at most ``limit_s``; returns seconds waited."""
    waited = 0.0
    while waited < limit_s and foreground_state().busy:
        start = time.monotonic()
        sleep(YIELD_POLL_S)
        waited += time.monotonic() - start
    return waited


def time_function(
    fn: Callable[[], object],
    *,
    min_time: float = DEFAULT_MIN_TIME,
    warmup: float = DEFAULT_WARMUP,
    min_samples: int = DEFAULT_MIN_SAMPLES,
    max_time: float | None = None,
    block_ms: float = DEFAULT_BLOCK_MS,
    should_stop: Callable[[], bool] | None = None,
    clock: Callable[[], float] = time.perf_counter,
    threads: int | None = None,
    yield_limit: float = YIELD_LIMIT_S,
    sleep: Callable[[float], None] = time.sleep,
) -> Timing:
    """Warm up, then time ``fn`` in blocks until the time and sample targets are met.

    Blocks are timed only while no other thread's foreground work is in flight (waiting up
    to ``yield_limit`` seconds in all); blocks that overlapped some are timed again.
    """
    if min_time < 0 or warmup < 0 or min_samples < 1 or yield_limit < 0:
        raise ValueError("min_time, warmup and yield_limit must be >= 0 and min_samples >= 1")
    max_time = max(3 * min_time, min_time + 1.0) if max_time is None else max_time
    yielded = _wait_for_foreground(yield_limit, sleep)  # warming up beside a page run would only slow both
    # Warm-up: first calls pay for allocation, kernel selection, lazy init.
    # At least ``warmup`` seconds and WARMUP_CALLS calls, except that a model slower than
    # SLOW_CALL_S per call stops after its first (initialising) call plus one more at most.
    start, calls = clock(), 0
    while True:
        fn()
        calls += 1
        elapsed = clock() - start
        if calls >= WARMUP_CALLS and elapsed >= warmup:
            break
        if elapsed >= SLOW_CALL_S * calls and calls >= 1 and elapsed >= warmup:
            break
    per_call = (clock() - start) / calls
    block = max(1, math.ceil(block_ms / 1e3 / per_call)) if per_call > 0 else 1
    clean: list[float] = []  # ms per call of blocks no foreground work overlapped
    overlapped: list[float] = []
    clean_s = overlapped_s = 0.0
    floor = min(min_samples, MIN_SAMPLES_FLOOR)
    meter = CpuMeter()
    while True:
        before = foreground_state()
        if before.busy and yielded < yield_limit:
            yielded += _wait_for_foreground(yield_limit - yielded, sleep)
            continue
        t0 = clock()
        for _ in range(block):
            fn()
        seconds = clock() - t0
        if before.quiet_until(foreground_state()):
            clean.append(seconds / block * 1e3)
            clean_s += seconds
        else:
            overlapped.append(seconds / block * 1e3)
            overlapped_s += seconds
        if clean_s >= min_time and len(clean) >= min_samples:
            break
        if clean_s >= max_time and len(clean) >= floor:
            break
        if overlapped_s >= max_time and len(clean) + len(overlapped) >= floor:
            break  # other sessions kept working: stop re-timing
        if should_stop is not None and should_stop() and len(clean) + len(overlapped) >= floor:
            break
    sessions_busy = len(clean) < floor
    samples = clean + overlapped if sessions_busy else clean
    cores = os.cpu_count() or 1
    spare = max(0.0, (cores - threads) / cores) if threads else 0.0
    return summarize(
        samples, len(samples) * block, block, meter.others_share(), spare, len(overlapped), yielded, sessions_busy
    )


# --------------------------------------------------------------------------- lock, cancel

LOCK_POLL_S = 0.25


class Cancelled(Exception):
    """A measurement job was cancelled between measurements."""


LOCK_FILE_NAME = "measurement.lock"


def lock_file() -> Path:
    """The file every process on this host locks while it times (``explorer.concurrency.MeasurementLock``)."""
    return data_dir() / LOCK_FILE_NAME


MEASUREMENT_LOCK.lock_file = lock_file


@contextlib.contextmanager
def measurement_lock(
    on_wait: Callable[[float], None] | None = None, cancel: threading.Event | None = None, poll: float = LOCK_POLL_S
) -> Iterator[None]:
    """Hold the process-wide measurement lock; call ``on_wait(seconds)`` while queued."""
    start = time.monotonic()
    while not MEASUREMENT_LOCK.acquire(timeout=poll):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled while queued")
        if on_wait is not None:
            on_wait(time.monotonic() - start)
    try:
        yield
    finally:
        MEASUREMENT_LOCK.release()


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")


def cancellable(run: Callable[[], object], cancel: threading.Event | None) -> Callable[[], object]:
    """``run``, raising ``Cancelled`` before each call once ``cancel`` is set (a timed loop stops at the next run)."""
    if cancel is None:
        return run

    def checked() -> object:
        if cancel.is_set():
            raise Cancelled("cancelled while timing")
        return run()

    return checked
