"""Streamlit side of the Latency lab: the process-wide result store, background jobs, chart.

* ``result_store()``: every measurement made in this server process, keyed by
  (config incl. input, backend, threads, batch); shared by all sessions, bounded.
* ``job_registry()``: background measurement jobs (Table 8, reference models). A job runs
  in its own thread (named ``explorer-job-<id>``), takes ``explorer.latency.LOCK`` per
  measurement (so two users never time on top of each other), stops soon after its cancel
  flag is set (between the steps of a measurement and between timed runs), records a
  backend that fails for a config and goes on with the others, and reports progress the
  page polls with ``st.fragment(run_every=...)``. Its ONNX files live in the job's
  ``LatencyRunner`` directory, removed when the thread ends, whatever ended it.
* ``failures_markdown(failures)``: which backend failed, at which step and why, escaped.
* ``latency_summary(config)`` / ``compare_latency_column(configs)``: what other pages show
  for a config that was already measured; they never measure.
* ``latency_figure(measurements, peak)``: latency vs multiply-adds (log-log) with the
  GEMM roofline line.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Sequence

import plotly.graph_objects as go
import streamlit as st

from explorer import AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from explorer.latency import (
    BACKENDS,
    STAGES,
    BackendFailed,
    BackendFailure,
    Cancelled,
    LatencyRunner,
    Measurement,
    default_threads,
    one_line,
)
from explorer.style import NEUTRAL, groups_color
from ui.charts import style_figure
from ui.text import shown_value

log = logging.getLogger(__name__)

STORE_ENTRIES = 512
JOB_THREAD_PREFIX = "explorer-job-"
REASON_SHOWN = 300  # characters of a failure's reason on the page (the log has the traceback)


class ResultStore:
    """Thread-safe map of Measurement.key() -> newest Measurement (oldest dropped past the bound)."""

    def __init__(self, entries: int = STORE_ENTRIES) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple, Measurement] = {}
        self._entries = entries

    def put(self, measurement: Measurement) -> None:
        with self._lock:
            self._items.pop(measurement.key(), None)
            self._items[measurement.key()] = measurement
            while len(self._items) > self._entries:
                self._items.pop(next(iter(self._items)))

    def get(self, config, backend: str, threads: int, batch: int = 1) -> Measurement | None:
        with self._lock:
            return self._items.get((config, backend, threads, batch))

    def for_config(self, config, batch: int = 1) -> list[Measurement]:
        with self._lock:
            return [m for m in self._items.values() if m.config == config and m.batch == batch]

    def all(self) -> list[Measurement]:
        with self._lock:
            return list(self._items.values())

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


@st.cache_resource(show_spinner=False)
def result_store() -> ResultStore:
    return ResultStore()


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
    started: float = field(default_factory=time.time)
    finished: float | None = None
    thread: threading.Thread | None = None

    @property
    def total(self) -> int:
        return len(self.items)

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

    def start(self, name: str, items: Sequence, threads: int, batch: int, min_time: float,
              store: ResultStore) -> Job:
        job = Job(next(self._ids), name, list(items), threads, batch, min_time)
        with self._lock:
            self._jobs[job.id] = job
            for old in [j for j in self._jobs.values() if not j.active and j.id != job.id][:-16]:
                self._jobs.pop(old.id, None)  # keep a few finished jobs for their sessions
        job.thread = threading.Thread(target=self._run, args=(job, store), name=f"{JOB_THREAD_PREFIX}{job.id}",
                                      daemon=True)
        job.thread.start()
        return job

    def get(self, job_id: int | None) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id) if job_id is not None else None

    def active(self) -> list[Job]:
        with self._lock:
            return [j for j in self._jobs.values() if j.active]

    @staticmethod
    def _run(job: Job, store: ResultStore) -> None:
        def on_wait(seconds: float) -> None:
            job.waiting_s = seconds

        try:
            with LatencyRunner(job.threads, job.batch, job.min_time) as runner:
                for config, backend in job.items:
                    if job.cancel.is_set():
                        break
                    job.state = "running"
                    job.current = f"{config.label} {config.input_size[0]}×{config.input_size[1]} · " \
                                  f"{BACKENDS[backend].label}"
                    try:
                        measurement = runner.measure(config, backend, on_wait=on_wait, cancel=job.cancel)
                    except BackendFailed as failed:  # logged with its traceback by explorer.latency
                        job.failures.append(failed.failure)
                    else:
                        store.put(measurement)
                        job.results.append(measurement)
                    job.waiting_s = 0.0
                    job.done += 1
            job.state = "cancelled" if job.cancel.is_set() and job.done < job.total else "done"
        except Cancelled:
            job.state = "cancelled"
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


def failures_markdown(failures: Sequence[BackendFailure]) -> str:
    """One bullet per failed (config, backend): the backend, the step and the reason, all escaped."""
    return "\n".join(
        f"- **{shown_value(f.backend_label)}** for {shown_value(f.where, 80)}: failed at step "
        f"**{f.stage}** ({shown_value(STAGES[f.stage], 120)}): {shown_value(f.reason, REASON_SHOWN)}"
        for f in failures
    )


# --------------------------------------------------------------------------- other pages


def _summary_text(m: Measurement) -> str:
    noisy = ", noisy" if m.timing.noisy else ""
    return (f"{m.median_ms:.1f} ms ({m.backend_label}, {m.threads} thread{'s' if m.threads > 1 else ''}, "
            f"batch {m.batch}, measured here{noisy})")


def latency_summary(config, threads: int | None = None, batch: int = 1) -> str | None:
    """The fastest already-measured latency of ``config`` (same input), or None. Never measures."""
    threads = default_threads() if threads is None else threads
    candidates = [m for m in result_store().for_config(config, batch) if m.threads == threads]
    if not candidates:
        return None
    return _summary_text(min(candidates, key=lambda m: m.median_ms))


def compare_latency_column(configs: Sequence) -> list[str]:
    """One cell per config for the Compare page: measured latency, or a pointer to the Latency page."""
    return [latency_summary(c) or "not measured yet (Latency page)" for c in configs]


# --------------------------------------------------------------------------- chart

BACKEND_SYMBOLS = {"torch": "circle", "torch-cl": "square", "torch-fold": "triangle-up", "ort": "diamond",
                   "ort-int8": "star"}
ALEXNET_COLOR = "#000000"


def model_color(config) -> str:
    if isinstance(config, ShuffleNetConfig):
        return groups_color(config.groups)
    if isinstance(config, MobileNetConfig):
        return NEUTRAL
    return ALEXNET_COLOR


def latency_figure(measurements: Sequence[Measurement], gemm_macs_per_s: float | None = None,
                   title: str = "Latency vs multiply-adds (measured here)") -> go.Figure:
    """Median latency vs multiply-adds incl. FC, log-log; the dashed line is the GEMM roofline."""
    figure = go.Figure()
    for backend in BACKENDS:
        points = [m for m in measurements if m.backend == backend]
        if not points:
            continue
        figure.add_trace(go.Scatter(
            x=[m.macs * m.batch / 1e6 for m in points],
            y=[m.median_ms for m in points],
            mode="markers",
            name=BACKENDS[backend].label,
            marker={"size": 13, "symbol": BACKEND_SYMBOLS[backend], "color": [model_color(m.config) for m in points],
                    "line": {"color": "#333", "width": 1}},
            customdata=[[m.model, f"{m.input_size[0]}×{m.input_size[1]}", m.batch,
                         100 * (m.roofline_fraction or 0)] for m in points],
            hovertemplate=("%{customdata[0]} at %{customdata[1]}, batch %{customdata[2]}<br>"
                           "%{x:.1f} M multiply-adds<br>%{y:.2f} ms<br>%{customdata[3]:.0f}% of the GEMM peak"
                           f"<extra>{BACKENDS[backend].label}</extra>"),
        ))  # fmt: skip
    if gemm_macs_per_s and measurements:
        low = min(m.macs * m.batch for m in measurements) / 2
        high = max(m.macs * m.batch for m in measurements) * 2
        figure.add_trace(go.Scatter(
            x=[low / 1e6, high / 1e6], y=[low / gemm_macs_per_s * 1e3, high / gemm_macs_per_s * 1e3],
            mode="lines", name="GEMM roofline (FP32 peak)", line={"color": NEUTRAL, "dash": "dash"},
            hovertemplate="%{x:.1f} M multiply-adds at the GEMM peak: %{y:.2f} ms<extra></extra>",
        ))  # fmt: skip
    style_figure(figure, title, "Multiply-adds per batch (millions, incl. FC; log scale)",
                 "Median latency (ms, log scale)", height=480)
    figure.update_xaxes(type="log")
    figure.update_yaxes(type="log", rangemode="normal")
    return figure


def model_family_label(config) -> str:
    if isinstance(config, AlexNetConfig):
        return "AlexNet"
    if isinstance(config, MobileNetConfig):
        return "MobileNet v1"
    return "ShuffleNet"
