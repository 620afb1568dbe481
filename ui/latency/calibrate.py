"""The Latency page's "Calibrate the latency predictor": what is kept, why a kept one is ignored, and a job.

A calibration (``explorer.latency.predictor.calibrate``) times and profiles about 126 whole
networks, 2-3 minutes per backend, holding the server's measurement lock all
that time: every other measurement, of every user, waits. So the button asks first (a
confirm step, on every server: any server may be shared), and an operator can turn it off
with ``EXPLORER_CALIBRATE=off`` in the server's environment (``calibrate_enabled``; the CLI,
``python -m explorer calibrate``, stays available to them). The job runs in the page's
``JobRegistry`` (``ui.latency.jobs``) and keeps the calibration only once it is complete:
Cancel, a failure or a server stop leave the store as it was.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping

import streamlit as st

from explorer.checks import on_off_setting
from explorer.latency import Cancelled, measurement_lock
from explorer.latency.predictor import (
    BACKENDS,
    Kept,
    calibrate,
    calibration_needed,
    ignored_here,
    keep_new,
    kept_calibration,
    predictor_for,
)
from explorer.latency.predictor.labels import backend_label, error_text, noisy_text, stays_text, threads_text
from explorer.store import age_text
from ui.latency.jobs import Job, JobRegistry, result_store
from ui.shell.presentation import caption
from ui.shell.text import shown_value

CALIBRATE_ENV = "EXPLORER_CALIBRATE"
JOB_KEY = "lat_calibrate_job"
CONFIRM_KEY = "lat_calibrate_confirm"
JOB_NAME = "Calibration"


def calibrate_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """``EXPLORER_CALIBRATE``: on (default) or off; anything else is refused with ``ValueError``."""
    try:
        return on_off_setting(CALIBRATE_ENV, environ)
    except ValueError as error:
        raise ValueError(f"{error}; calibrating from the page is off until it is fixed") from None


def calibration_task(backend: str, threads: int):
    """The job's task: wait for the measurement lock, calibrate, keep it only when complete; True when cancelled."""

    def run(job: Job, store) -> bool:
        def on_wait(seconds: float) -> None:
            job.waiting_s = seconds

        def progress(done: int, total: int, text: str) -> None:
            job.waiting_s, job.done, job.estimated, job.current = 0.0, done, total, text

        try:
            with measurement_lock(on_wait, job.cancel):
                calibration = calibrate(backend, threads, progress=progress, cancel=job.cancel)
        except Cancelled:
            return True
        job.outcome = keep_new(calibration)
        return False

    return run


def kept_line(backend: str, threads: int) -> str:
    calibration = kept_calibration(backend, threads)
    if calibration is None:
        return f"**{backend_label(backend)}, {threads_text(threads)}**: not calibrated on this machine."
    why = noisy_text(calibration)
    noisy = f" {why[:1].upper()}{why[1:]}." if why else ""
    predictor = predictor_for(backend, threads)
    how_sure = error_text(predictor.expected_error if predictor is not None else None)
    return (
        f"**{backend_label(backend)}, {threads_text(threads)}**: calibrated "
        f"{age_text(time.time() - calibration.created_at)} ({calibration.contents()}, "
        f"{calibration.seconds:.0f} s); {how_sure}.{noisy}"
    )


def _panel(registry: JobRegistry) -> None:
    """Progress and Cancel while the job runs; how it ended afterwards (one full redraw when it ends)."""
    job = registry.get(st.session_state.get(JOB_KEY))
    if job is None:
        return
    if job.active:
        total = f"~{job.total}" if job.total else "~400"
        now = f" · now: {job.current}" if job.current else ""
        st.progress(
            min(job.fraction, 1.0) if job.total else 0.0,
            text=f"{job.name}: {job.done} of {total} networks timed and profiled{now}",
        )
        if job.waiting_s > 0:
            st.info(f"Queued behind another measurement… ({job.waiting_s:.0f} s)", icon="⏳")
        if st.button("Cancel", key="lat_calibrate_cancel", help="Stops at the next timed run; nothing is kept."):
            job.cancel.set()
            st.toast("Cancelling…")
        return
    if st.session_state.get("lat_calibrate_seen") != job.id:
        st.session_state["lat_calibrate_seen"] = job.id
        st.rerun(scope="app")
    if job.state == "failed":
        st.error(
            f"The calibration stopped by an unexpected error, nothing kept (details in the server log): "
            f"{shown_value(job.error, 300)}"
        )
    elif job.state == "cancelled":
        st.info(f"Calibration cancelled after {job.done} networks: nothing kept.", icon="🛑")
    elif isinstance(job.outcome, Kept):
        made = job.outcome.calibration
        done = f"Calibrated {backend_label(made.backend)} at {threads_text(made.threads)} in {made.seconds:.0f} s"
        if job.outcome.stays is not None:
            st.warning(f"{done}. {stays_text(made, job.outcome.stays)}", icon="⚠️")
        else:
            st.success(f"{done}: kept, and used for every prediction on this server.", icon="✅")


def _start(registry: JobRegistry, backend: str, threads: int) -> None:
    task = calibration_task(backend, threads)
    job = registry.start(JOB_NAME, [], threads, 1, 0.0, result_store(), task=task)
    st.session_state[JOB_KEY] = job.id


def _ask(registry: JobRegistry, backend: str, threads: int, busy: bool) -> None:
    """The button, then the confirm step: the lock is held for minutes, so the user says yes first."""
    label = f"{backend_label(backend)} at {threads_text(threads)}"
    if not st.session_state.get(CONFIRM_KEY):
        why = calibration_needed(backend, threads)
        caption(
            f"Why now: {why}."
            if why
            else "The kept calibration is current; calibrating again replaces it, unless the new one is noisy."
        )
        if st.button(f"Calibrate {label}…", key="lat_calibrate", disabled=busy):
            st.session_state[CONFIRM_KEY] = True
            st.rerun()
        return
    st.warning(
        f"Calibrating {label} holds this server's measurement lock for about 2-3 minutes: every other "
        "measurement, yours and other users', waits until it ends. Calibrate now?",
        icon="⏳",
    )
    yes, no = st.columns(2)
    if yes.button("Yes, calibrate now", key="lat_calibrate_yes", type="primary", disabled=busy):
        st.session_state.pop(CONFIRM_KEY, None)
        _start(registry, backend, threads)
        st.rerun()
    if no.button("Not now", key="lat_calibrate_no"):
        st.session_state.pop(CONFIRM_KEY, None)
        st.rerun()


def calibrate_section(registry: JobRegistry, threads: int) -> None:
    """Draw the section at the page's thread count: the kept calibrations, why others are ignored, the job."""
    st.header("Calibrate the latency predictor")
    caption(
        "The latency predictor prices any ShuffleNet from the kernels its runtime runs (fused convolutions, "
        "the shuffle, pooling, concat, add), timed here inside whole networks of sampled shapes, from the runtime's "
        "own per-layer profile; its numbers are labelled "
        "“predicted here”, with its expected error (`python -m explorer predict`, docs/prediction.md)."
    )
    for backend in BACKENDS:
        st.markdown(kept_line(backend, threads))
    for reason in ignored_here(threads=threads):
        st.warning(f"A kept calibration is not used: {reason}.", icon="⚠️")
    try:
        enabled = calibrate_enabled()
    except ValueError as error:
        st.error(str(error))
        enabled = False
    if not enabled:
        st.info(
            f"Calibrating from this page is turned off on this server ({CALIBRATE_ENV}=off). The operator can "
            "calibrate with `python -m explorer calibrate`.",
            icon="🔒",
        )
        return
    job = registry.get(st.session_state.get(JOB_KEY))
    busy = job is not None and job.active
    backend = st.selectbox("Backend", BACKENDS, format_func=backend_label, key="lat_calibrate_backend", disabled=busy)
    _ask(registry, backend, threads, busy)
    st.fragment(_panel, run_every=1.0 if busy else None)(registry)
