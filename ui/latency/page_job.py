"""The Latency page's background job: started behind the memory guard, its progress and how it ended.

``start_job`` refuses a request that would not fit in memory (the message is kept in the
session under ``lat_job_error``) and otherwise starts the measurements in the background,
keeping the job's id under ``JOB_KEY``; ``job_panel`` draws that job's progress and Cancel
button, and redraws the whole page once when it ends. Table 8 and the reference models
both start their measurements here.
"""

import streamlit as st

from ui.latency.jobs import JobRegistry, ResultStore, start_measuring
from ui.latency.tables import refused, show_failures
from ui.shell.text import shown_value

JOB_KEY = "lat_job"


def start_job(
    registry: JobRegistry, store: ResultStore, name: str, items, threads: int, batch: int, min_time: float, profile=()
) -> None:
    message = refused([(c, [b for cc, b in items if cc == c]) for c in dict.fromkeys(c for c, _ in items)], batch)
    if message:
        st.session_state["lat_job_error"] = message
        return
    st.session_state.pop("lat_job_error", None)
    st.session_state[JOB_KEY] = start_measuring(registry, store, name, items, threads, batch, min_time, profile).id


def job_panel(registry: JobRegistry) -> None:
    """Progress and cancel of this session's background job; redraws the page once when it ends."""
    job = registry.get(st.session_state.get(JOB_KEY))
    if job is None:
        return
    if job.active:
        st.progress(
            job.fraction,
            text=f"{job.name}: {job.done} of {job.total} measured" + (f" · now: {job.current}" if job.current else ""),
        )
        if job.waiting_s > 0:
            st.info(f"Queued behind another measurement… ({job.waiting_s:.0f} s)", icon="⏳")
        if st.button(
            "Cancel",
            key="lat_cancel",
            help="Stops at the next timed run or step of the measurement in progress (an ONNX export "
            "or quantisation under way finishes first); its temporary files are removed.",
        ):
            job.cancel.set()
            st.toast("Cancelling…")
        return
    if st.session_state.get("lat_job_seen") != job.id:  # finished since the last full run: redraw everything
        st.session_state["lat_job_seen"] = job.id
        st.rerun(scope="app")
    if job.state == "failed":
        st.error(
            f"{job.name} stopped by an unexpected error (details in the server log): {shown_value(job.error, 300)}"
        )
    elif job.state == "cancelled":
        st.info(f"{job.name} cancelled after {job.done} of {job.total} measurements.", icon="🛑")
    elif job.results:
        st.success(f"{job.name}: {len(job.results)} measurements done.", icon="✅")
    if job.failures:
        show_failures(job.failures, bool(job.results))
    if job.profile_error:
        st.warning(
            f"No verdict: ONNX Runtime's profile failed (details in the server log): "
            f"{shown_value(job.profile_error, 300)}",
            icon="⚠️",
        )
