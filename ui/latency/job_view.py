"""A background job seen from a page: progress bar, cancel button, and one full redraw when it ends.

``job_view(registry, state_key, prefix)`` draws the job whose id the session keeps under
``state_key`` (``ui.latency.jobs.JobRegistry``): while it runs, a progress bar ("3 of ~12 ·
now: ...") and a Cancel button, redrawn every second by ``st.fragment(run_every=...)``;
when it has ended, the whole page is rerun once so the results drawn outside the
fragment appear, then how it ended (done, cancelled, failed with the reason).
"""

from __future__ import annotations

import streamlit as st

from ui.latency.jobs import Job, JobRegistry
from ui.shell.text import shown_value


def current_job(registry: JobRegistry, state_key: str) -> Job | None:
    return registry.get(st.session_state.get(state_key))


def _panel(registry: JobRegistry, state_key: str, prefix: str) -> None:
    job = current_job(registry, state_key)
    if job is None:
        return
    if job.active:
        about = "~" if not job.items else ""
        now = f" · now: {job.current}" if job.current else ""
        fraction = min(job.done / job.total, 1.0) if job.total else 0.0
        st.progress(fraction, text=f"{job.name}: {job.done} of {about}{job.total} measured{now}")
        if job.waiting_s > 0:
            st.info(f"Queued behind another measurement… ({job.waiting_s:.0f} s)", icon="⏳")
        if st.button("Cancel", key=f"{prefix}_cancel", help="Stops at the next timed run; what was measured is kept."):
            job.cancel.set()
            st.toast("Cancelling…")
        return
    seen_key = f"{prefix}_seen"
    if st.session_state.get(seen_key) != job.id:  # ended since the last full run: redraw the page once
        st.session_state[seen_key] = job.id
        st.rerun(scope="app")
    if job.state == "failed":
        st.error(
            f"{job.name} stopped by an unexpected error (details in the server log): {shown_value(job.error, 300)}"
        )
    elif job.state == "cancelled":
        st.info(f"{job.name} cancelled after {job.done} measurement(s); what was measured is kept.", icon="🛑")


def job_view(registry: JobRegistry, state_key: str, prefix: str) -> Job | None:
    """Draw the session's job (see the module docstring) and return it (None when there is none)."""
    job = current_job(registry, state_key)
    st.fragment(_panel, run_every=1.0 if job is not None and job.active else None)(registry, state_key, prefix)
    return job
