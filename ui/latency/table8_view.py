"""Table 8 on this machine: the paper's three models at three inputs, the speedups and why they differ.

``table8_section(registry, store, threads, batch, min_time, busy)`` draws the section: the
backends and inputs to run, the Run button (a background job, see ``ui.latency.page_job``),
the measured table beside the paper's, the headline speedup (each model on its fastest
FP32 backend), the per-backend speedups, and the verdict from ONNX Runtime's profiles.
"""

import logging

import streamlit as st

from explorer import latency as lat
from explorer import paper
from ui.latency.jobs import JobRegistry, ResultStore, profile_kernels, table8_verdict
from ui.latency.page_job import job_panel, start_job
from ui.latency.predicted import table8_columns, table8_drift_notes, table8_found, table8_predictions
from ui.latency.table8_frames import TABLE8_COLUMNS, speedup_frame, table8_frame
from ui.latency.tables import BACKEND_LABEL
from ui.shell.presentation import caption
from ui.shell.text import shown_value

log = logging.getLogger("explorer.pages.latency")


def table8_section(
    registry: JobRegistry, store: ResultStore, threads: int, batch: int, min_time: float, busy: bool
) -> None:
    st.header("Table 8 on this machine")
    caption(
        "The paper's Table 8 times ShuffleNet 0.5x (arch2, g = 3), ShuffleNet 1x (g = 3) and AlexNet at three input "
        f"sizes on {paper.TABLE8_DEVICE}. Here: the same three models, each backend, the threads and batch above. "
        "Theoretical speedup = ratio of multiply-adds incl. FC (AlexNet / model, same input)."
    )
    left, right = st.columns(2)
    t8_backends = left.multiselect(
        "Table 8 backends",
        lat.available_backends(),
        default=list(lat.TABLE8_BACKENDS),
        format_func=BACKEND_LABEL.get,
        key="lat_t8_backends",
    )
    input_names = {f"{h}x{w}": (h, w) for h, w in paper.TABLE8_INPUTS}
    t8_inputs = right.multiselect("Table 8 inputs", list(input_names), default=list(input_names), key="lat_t8_inputs")
    items = [(c, b) for c, b in lat.table8_jobs(t8_backends) if f"{c.input_size[0]}x{c.input_size[1]}" in t8_inputs]
    if st.button(f"Run Table 8 ({len(items)} measurements)", key="lat_t8_run", disabled=busy or not items):
        start_job(registry, store, "Table 8", items, threads, batch, min_time, lat.verdict_configs())
        st.rerun()
    if "lat_job_error" in st.session_state:
        st.error(st.session_state["lat_job_error"])
    st.fragment(job_panel, run_every=1.0 if busy else None)(registry)
    table8_results(store, threads, batch)


def table8_results(store: ResultStore, threads: int, batch: int) -> None:
    table8_configs = {row.at(size) for row in paper.TABLE8 for size in paper.TABLE8_INPUTS}
    t8 = [m for m in store.all() if m.config in table8_configs and m.threads == threads and m.batch == batch]
    if not t8:
        st.info("No Table 8 measurements at these settings yet: press “Run Table 8”.", icon="ℹ️")
        return
    model_order = [row.config for row in paper.TABLE8]
    t8.sort(
        key=lambda m: (
            paper.TABLE8_INPUTS.index(m.input_size),
            model_order.index(lat.model_key(m.config)),
            list(lat.BACKENDS).index(m.backend),
        )
    )
    found = table8_found(t8)
    st.dataframe(
        table8_predictions(table8_frame(lat.table8_records(t8)), t8, found),
        hide_index=True,
        width="stretch",
        key="lat_t8_table",
        column_config={**TABLE8_COLUMNS, **table8_columns(threads)},
    )
    for note in table8_drift_notes(t8, found):
        st.info(note, icon="ℹ️")
    if any(m.timing.noisy or m.timing.contended for m in t8):
        st.warning(
            "Some Table 8 measurements are noisy (IQR above 10% of the median) or were taken while other "
            "processes or other sessions of this server used the CPUs: re-run at a quiet moment.",
            icon="⚠️",
        )
    speedup_section(t8, threads, batch)


def speedup_section(t8, threads: int, batch: int) -> None:
    """The headline (each model on its fastest FP32 backend), the per-backend speedups, and why they differ."""
    best = lat.best_speedup(t8, paper.TABLE8[0].config)
    if not best:
        return
    columns = st.columns(3)
    columns[0].metric(
        "0.5x arch2 vs AlexNet at 224×224, each on its fastest FP32 backend",
        f"{best['measured_speedup']:.1f}×",
        border=True,
        help=f"0.5x arch2 on {best['model_backend_label']} {best['model_ms']:.2f} ms, AlexNet on "
        f"{best['alexnet_backend_label']} {best['alexnet_ms']:.2f} ms",
    )
    columns[1].metric("Theoretical (multiply-adds incl. FC)", f"{best['theoretical_speedup']:.1f}×", border=True)
    columns[2].metric(
        "Reported in the paper (Snapdragon 820)",
        f"{paper.TABLE8_MEASURED_SPEEDUP:g}× of {paper.TABLE8_THEORETICAL_SPEEDUP:g}×",
        border=True,
    )
    caption(
        f"Fastest FP32 backends measured: 0.5x arch2 on **{best['model_backend_label']}** "
        f"({best['model_ms']:.2f} ms), AlexNet on **{best['alexnet_backend_label']}** "
        f"({best['alexnet_ms']:.2f} ms): {best['efficiency']:.2f} of the multiply-add ratio."
    )
    per_backend = lat.backend_speedups(t8, paper.TABLE8[0].config)
    if per_backend:
        st.dataframe(
            speedup_frame(per_backend),
            hide_index=True,
            key="lat_t8_speedups",
            column_config={"Backend (both models)": st.column_config.TextColumn(width=260)},
        )
    verdict_section(t8, threads, batch)


def verdict_section(t8, threads: int, batch: int) -> None:
    """Why measured and theoretical differ, from ONNX Runtime's profiles of both models (made by the job)."""
    verdict = table8_verdict(t8, threads, batch)
    if verdict:
        st.markdown(f"**Why measured and theoretical differ here.** {verdict}")
        return
    caption("The explanation needs ONNX Runtime's profiles of both models at 224×224 (a Table 8 run makes them).")
    if st.button("Profile both models and explain", key="lat_t8_explain"):
        try:
            with st.spinner("Profiling 0.5x arch2 and AlexNet (waits for other measurements to finish)…"):
                profile_kernels(lat.verdict_configs(), threads, batch)
        except Exception as error:  # export or ONNX Runtime fault: say so, log the traceback
            log.exception("ONNX Runtime profiles for the Table 8 verdict failed")
            st.error(
                f"ONNX Runtime's profile failed (details in the server log): {shown_value(lat.one_line(error), 300)}"
            )
            return
        st.rerun()
