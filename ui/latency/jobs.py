"""Latency measurements that outlive a script run: the shared result store and background jobs.

* ``result_store()``: every measurement made on this machine, kept across restarts in the
  data directory's SQLite file (``explorer.store``) and shared by every session of
  this server and every CLI process.
* ``kernel_profile_store()``: ONNX Runtime profiles (``explorer.latency.KernelProfile``) made by jobs or
  pages, keyed by (machine, versions, config incl. input, threads, batch), kept in the store's
  database (``explorer.store.KernelProfileTable``), bounded: the Table 8 verdict reads them, also
  on another replica than the one that made them.
* ``job_registry()``: background measurement jobs (Table 8, reference models, the Compare
  page's models, a latency-budget search: a *task* that picks what to measure as it goes). A job runs
  in its own thread (named ``explorer-job-<id>``) through ``LatencyRunner.measure_many``,
  the library's one measuring loop: it takes the measurement lock per measurement (so two
  users never time on top of each other), stops soon after its cancel flag is set
  (between the steps of a measurement and between timed runs), records a backend that
  fails for a config and goes on with the others, and reports progress the page polls
  with ``st.fragment(run_every=...)``. Its ONNX files live in the job's
  ``LatencyRunner`` directory, removed when the thread ends, whatever ended it. A job
  given ``profile`` configs profiles those it measured afterwards, on the same exports
  (a profile that fails is logged and costs only the verdict).

What the Latency page does with them, one call each (the page draws, these orchestrate):
``start_measuring`` (a background job writing to both stores), ``measure_here`` (a
measurement the script run waits for), ``profile_kernels`` (the GEMM peak under the
measurement lock, then ONNX Runtime's kernel profiles into the kernel-profile store) and
``table8_verdict`` (the verdict from the stored profiles and the GEMM peak).
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import streamlit as st

from explorer.latency import (
    BACKENDS,
    BackendFailure,
    KernelProfile,
    LatencyRunner,
    Measurement,
    explain,
    measurement_lock,
    one_line,
    to_profile,
    verdict_configs,
)
from explorer.latency.kernel_profile import profile_ort
from explorer.latency.roofline import GemmPeak, cached_gemm_peak, gemm_peak
from explorer.latency.stored import ResultStore, open_store
from explorer.store import KernelProfileTable

log = logging.getLogger(__name__)

JOB_THREAD_PREFIX = "explorer-job-"


@st.cache_resource(show_spinner=False)
def result_store() -> ResultStore:
    """The result store of this server (EXPLORER_DATABASE_URL or the data directory's file), shared by every session."""
    return open_store()


KERNEL_PROFILE_ENTRIES = 32  # kept for callers; the bound is the store's (explorer.store.KERNEL_PROFILE_ROWS)


class KernelProfileStore:
    """(config, threads, batch) -> newest ``KernelProfile`` made on this machine, kept in the store's database
    (``kernel_profiles``: shared by every replica on PostgreSQL, so a run on one is explained on another)."""

    def __init__(self, entries: int = KERNEL_PROFILE_ENTRIES, table: KernelProfileTable | None = None) -> None:
        self._table = table or KernelProfileTable()

    def put(self, profile: KernelProfile) -> None:
        self._table.put_record(profile.config, profile.threads, profile.batch, profile.to_record())

    def get(self, config, threads: int, batch: int = 1) -> KernelProfile | None:
        record = self._table.record(config, threads, batch)
        try:
            return None if record is None else KernelProfile.from_record(record)
        except (KeyError, TypeError, ValueError) as error:  # a record of another version: profiled again
            log.warning("stored kernel profile of %s is unreadable and left out: %s", config.label, error)
            return None


@st.cache_resource(show_spinner=False)
def kernel_profile_store() -> KernelProfileStore:
    return KernelProfileStore()


# --------------------------------------------------------------------------- jobs


@dataclass
class Job:
    """A list of (config, backend) measured in a background thread."""

    id: int
    name: str
    items: list
    threads: int
    batch: int
    min_time: float
    cancel: threading.Event = field(default_factory=threading.Event)
    state: str = "queued"  # queued, running, done, cancelled, failed
    done: int = 0
    current: str = ""
    waiting_s: float = 0.0  # > 0 while queued behind another measurement
    results: list = field(default_factory=list)
    failures: list = field(default_factory=list)  # BackendFailure: this backend could not be measured for a config
    error: str = ""
    profile: list = field(default_factory=list)  # configs to profile once measured (the Table 8 verdict)
    profile_error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    thread: threading.Thread | None = None
    task: Callable[[Job, ResultStore], bool] | None = None  # instead of ``items``: returns True when cancelled
    estimated: int = 0  # a task's own guess of its total, updated as it goes
    outcome: object = None  # what a task returns to the page (e.g. an ``explorer.sizing.LatencySearch``)

    @property
    def total(self) -> int:
        return len(self.items) or self.estimated

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


class JobRegistry:
    """Process-wide: jobs outlive the script run (and the session) that started them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._ids = itertools.count(1)

    def start(
        self,
        name: str,
        items: Sequence,
        threads: int,
        batch: int,
        min_time: float,
        store: ResultStore,
        profile: Sequence = (),
        profiles: KernelProfileStore | None = None,
        task: Callable[[Job, ResultStore], bool] | None = None,
    ) -> Job:
        """Measure ``items`` [(config, backend)] in a thread, or run ``task(job, store)`` there (adaptive jobs,
        such as a latency-budget search, that decide what to measure as they go and report ``job.done`` /
        ``job.estimated`` / ``job.current`` themselves)."""
        job = Job(next(self._ids), name, list(items), threads, batch, min_time, profile=list(profile), task=task)
        with self._lock:
            self._jobs[job.id] = job
            for old in [j for j in self._jobs.values() if not j.active and j.id != job.id][:-16]:
                self._jobs.pop(old.id, None)  # keep a few finished jobs for their sessions
        job.thread = threading.Thread(
            target=self._run, args=(job, store, profiles), name=f"{JOB_THREAD_PREFIX}{job.id}", daemon=True
        )
        job.thread.start()
        return job

    def get(self, job_id: int | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id is not None else None

    def active(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.active]

    @staticmethod
    def _profile(job: Job, runner: LatencyRunner, measured: list, profiles: KernelProfileStore) -> None:
        """Profile the job's ``profile`` configs that it exported (``explorer.latency.to_profile``); a failure is
        logged and noted, never raised."""
        for config in [c for c in to_profile(measured) if c in job.profile]:
            if job.cancel.is_set():
                return
            job.current = f"ONNX Runtime profile of {config.label} {config.input_size[0]}×{config.input_size[1]}"
            try:
                profiles.put(runner.profile(config))
            except Exception as error:  # noqa: BLE001 - the measurements stand; the verdict says it is missing
                log.exception("%s job %d: profile of %s failed", job.name, job.id, config.label)
                job.profile_error = one_line(error)

    @staticmethod
    def _run(job: Job, store: ResultStore, profiles: KernelProfileStore | None = None) -> None:
        def on_wait(seconds: float) -> None:
            job.waiting_s = seconds

        def on_start(index: int, total: int, config, backend: str) -> None:
            job.state = "running"
            job.current = f"{config.label} {config.input_size[0]}×{config.input_size[1]} · {BACKENDS[backend].label}"

        def progress(done: int, total: int, outcome: Measurement | BackendFailure) -> None:
            if isinstance(outcome, BackendFailure):  # logged with its traceback by explorer.latency
                job.failures.append(outcome)
            else:
                store.put(outcome)
                job.results.append(outcome)
            job.waiting_s = 0.0
            job.done = done

        try:
            if job.task is not None:
                job.state = "running"
                job.state = "cancelled" if job.task(job, store) else "done"
                return
            with LatencyRunner(job.threads, job.batch, job.min_time) as runner:
                results = runner.measure_many(
                    job.items, on_start=on_start, progress=progress, cancel=job.cancel, on_wait=on_wait
                )
                if profiles is not None and not results.cancelled:
                    JobRegistry._profile(job, runner, results.measurements, profiles)
            job.state = "cancelled" if results.cancelled else "done"
        except Exception as error:  # shown on the page (one line); the traceback goes to the server log
            log.exception("%s job %d stopped by an unexpected error", job.name, job.id)
            job.error = one_line(error)
            job.state = "failed"
        finally:
            job.current = ""
            job.finished = time.time()


@st.cache_resource(show_spinner=False)
def job_registry() -> JobRegistry:
    return JobRegistry()


# --------------------------------------------------------------------------- what the Latency page starts


def start_measuring(
    registry: JobRegistry,
    store: ResultStore,
    name: str,
    items: Sequence,
    threads: int,
    batch: int,
    min_time: float,
    profile: Sequence = (),
) -> Job:
    """Measure ``items`` [(config, backend)] in a background job into ``store``; the ``profile`` configs it
    measured are then profiled into the kernel-profile store (``kernel_profile_store()``, read by ``table8_verdict``)."""
    return registry.start(name, items, threads, batch, min_time, store, profile, kernel_profile_store())


def measure_here(
    items: Sequence,
    store: ResultStore,
    threads: int,
    batch: int,
    min_time: float,
    *,
    on_start: Callable | None = None,
    on_wait: Callable[[float], None] | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[BackendFailure]:
    """Measure ``items`` [(config, backend)] in this script run, each measurement into ``store`` as it ends;
    returns the backends that failed. ``on_start`` and ``on_wait`` are ``LatencyRunner.measure_many``'s,
    ``on_done()`` is called after each measurement. Raises ``ValueError`` for settings the runner refuses."""

    def progress(count: int, total: int, outcome: Measurement | BackendFailure) -> None:
        if isinstance(outcome, Measurement):
            store.put(outcome)
        if on_done is not None:
            on_done()

    with LatencyRunner(threads, batch, min_time) as runner:
        return runner.measure_many(list(items), on_start=on_start, progress=progress, on_wait=on_wait).failures


def profile_kernels(configs: Sequence, threads: int, batch: int) -> tuple[list[KernelProfile], GemmPeak]:
    """ONNX Runtime's kernel profiles of ``configs``, each kept in the kernel-profile store as it is made, and
    the FP32 GEMM peak at ``threads`` they are compared with (measured first, under the measurement lock, if
    this machine has none; each profile takes the lock itself, so it waits for other measurements). Raises
    what the export or ONNX Runtime raise; the profiles made before the failure stay stored."""
    with measurement_lock():
        peak = gemm_peak(threads)
    profiles = []
    for config in configs:
        profiles.append(profile_ort(config, threads, batch=batch))
        kernel_profile_store().put(profiles[-1])
    return profiles, peak


def table8_verdict(measurements: Sequence[Measurement], threads: int, batch: int) -> str | None:
    """Why Table 8's measured speedup differs from the theoretical one, from the stored kernel profiles of
    ``verdict_configs()`` and the GEMM peak; None until both models are profiled at these settings."""
    profiles = kernel_profile_store()
    found = [p for c in verdict_configs() if (p := profiles.get(c, threads, batch)) is not None]
    peak = cached_gemm_peak(threads)
    return explain(measurements, found, peak.macs_per_s if peak else None)
