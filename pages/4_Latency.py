"""Latency: the current model timed on this machine, the paper's Table 8 reproduced here, the roofline.

A backend that fails for a config (export, ONNX Runtime session, OpenVINO compile or run) is
listed with its step and reason while the other backends' results are shown; tracebacks go
to the server log. Table 8's headline puts each model on its fastest FP32 backend, with the
per-backend speedups and a verdict computed from ONNX Runtime's profiles below it.
"""

import logging
from dataclasses import replace

import streamlit as st

from explorer import ShuffleNetConfig, machine, paper
from explorer import latency as lat
from explorer.latency.roofline import GemmPeak, cached_gemm_peak
from ui.latency.calibrate import calibrate_section
from ui.latency.device import device_section
from ui.latency.jobs import (
    JobRegistry,
    ResultStore,
    job_registry,
    measure_here,
    profile_kernels,
    result_store,
    start_measuring,
    table8_verdict,
)
from ui.latency.predicted import table8_columns, table8_predictions
from ui.latency.tables import (
    PROFILE_COLUMNS,
    TABLE8_COLUMNS,
    latency_figure,
    method_markdown,
    profile_frame,
    refused,
    show_failures,
    show_table,
    speedup_frame,
    stored_frame,
    table8_frame,
)
from ui.shell.controls import shared_controls
from ui.shell.page import page_setup
from ui.shell.presentation import caption, download_button, method_note
from ui.shell.text import input_size_text, shown_value

log = logging.getLogger("explorer.pages.latency")

BACKEND_LABEL = {key: b.label for key, b in lat.BACKENDS.items()}
MIN_TIMES = (0.02, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)
JOB_KEY = "lat_job"


def machine_caption(cores: int, store: ResultStore) -> None:
    versions = machine.versions()
    caption(
        f"Measured on this server: **{machine.cpu_model()}**, {cores} cores; torch {versions['torch']}, "
        f"onnxruntime {versions['onnxruntime']}, openvino {versions['openvino']}. Every number on this page is "
        "measured here unless it is marked “reported in the paper” or “predicted here”."
    )
    for warning in store.warnings:
        st.warning(shown_value(warning, 400), icon="⚠️")


def stored_section(store: ResultStore) -> None:
    """Where measurements are kept, and all of them as CSV."""
    st.header("Stored results")
    database = store.database
    where = (
        "memory only, until the server restarts"
        if database.in_memory
        else f"`{database.path}`"
        if database.path is not None
        else f"the PostgreSQL database `{database.location}` (EXPLORER_DATABASE_URL), "
        "shared by every server that is given it"
    )
    st.markdown(
        f"Every measurement is kept in {where}: one session's result is shown to every session, with its age, "
        "and survives a restart of the server. Press a measure button again to measure anew. Choose the folder "
        "with `EXPLORER_DATA_DIR`; `python -m explorer results` lists, exports or clears them."
    )
    frame = stored_frame(store)
    download_button(
        f"Download the stored results (CSV, {len(frame)} rows)",
        frame.to_csv(index=False),
        "latency_results.csv",
        "text/csv",
        key="lat_stored_csv",
        disabled=frame.empty,
    )


def settings_section(cores: int) -> tuple[int, int, float]:
    """Threads, batch and seconds of timed runs, for every measurement started from this page."""
    with st.expander("Measurement settings (threads, batch, time per measurement)"):
        left, middle, right = st.columns(3)
        threads = int(
            left.number_input(
                "Threads, for every backend",
                1,
                max(cores, 1),
                cores,
                key="lat_threads",
                help="torch.set_num_threads, ONNX Runtime's intra_op_num_threads and "
                "OpenVINO's INFERENCE_NUM_THREADS (one stream); PyTorch's previous "
                "setting is restored after each measurement.",
            )
        )
        batch = int(middle.number_input("Batch size", 1, 256, 1, key="lat_batch"))
        min_time = right.select_slider(
            "Seconds of timed runs per measurement",
            MIN_TIMES,
            value=1.0,
            key="lat_min_time",
            help="After warm-up; at least 5 runs (3 for very slow models).",
        )
    return threads, batch, min_time


def measure_now(
    config: ShuffleNetConfig, backends: list[str], store: ResultStore, threads: int, batch: int, min_time: float, status
) -> None:
    """Measure the sidebar's model on ``backends`` in this script run, with a progress bar."""
    progress = st.progress(0.0, text="Preparing…")
    queued = st.empty()

    def on_wait(seconds: float) -> None:
        queued.info(f"Queued behind another measurement… ({seconds:.0f} s)", icon="⏳")

    def on_start(index: int, total: int, model_config, backend: str) -> None:
        progress.progress(index / total, text=f"Measuring {BACKEND_LABEL[backend]}…")

    failures = []
    try:
        failures = measure_here(
            [(config, b) for b in backends],
            store,
            threads,
            batch,
            min_time,
            on_start=on_start,
            on_wait=on_wait,
            on_done=queued.empty,
        )
        progress.progress(1.0, text="Done.")
    except ValueError as error:
        status.error(str(error))
    st.session_state["lat_failures"] = ((config, threads, batch), failures)


def this_model_section(
    config: ShuffleNetConfig, store: ResultStore, threads: int, batch: int, min_time: float
) -> list[str]:
    """Measure the sidebar's model on the chosen backends; its stored results. Returns the backends chosen."""
    st.header("This model")
    caption(
        f"{config.label}, input {input_size_text(config.input_size)}, batch {batch}, "
        f"{threads} thread{'s' if threads > 1 else ''}."
    )
    backends = st.multiselect(
        "Backends",
        lat.available_backends(),
        default=list(lat.default_backends()),
        format_func=BACKEND_LABEL.get,
        key="lat_backends",
        help="PyTorch, ONNX Runtime and OpenVINO FP32 by default, so the fastest is among them "
        "(usually an FP32 runtime); add others to compare. "
        + " · ".join(f"{b.label}: {b.description}" for b in lat.BACKENDS.values())
        + "".join(
            f" · Not offered: {BACKEND_LABEL[k]}: {lat.unavailable_reason(k)}."
            for k in lat.BACKENDS
            if lat.unavailable_reason(k)
        ),
    )
    for key in (k for k in lat.BACKENDS if lat.unavailable_reason(k)):
        caption(f"{BACKEND_LABEL[key]} is not offered on this machine: {lat.unavailable_reason(key)}.")
    measure_clicked = st.button("Measure this model", type="primary", key="lat_measure", disabled=not backends)
    status = st.empty()
    if measure_clicked:
        message = refused([(config, backends)], batch)
        if message:
            status.error(message)
        else:
            measure_now(config, backends, store, threads, batch, min_time, status)
    mine = [m for b in lat.BACKENDS if (m := store.get(config, b, threads, batch))]
    last_failures = st.session_state.get("lat_failures")
    if last_failures and last_failures[0] == (config, threads, batch) and last_failures[1]:
        show_failures(last_failures[1], bool(mine))
    if mine:
        show_table(mine, "lat_this_table")
        best_metrics(mine)
    else:
        st.info("Not measured yet at these settings: press “Measure this model”.", icon="ℹ️")
    return backends


def best_metrics(mine) -> None:
    """The fastest measurement's numbers; "fastest" is said only when two or more backends were measured."""
    best = lat.fastest(mine)
    columns = st.columns(3)
    columns[0].metric("Fastest backend here" if len(mine) >= 2 else "Backend", best.backend_label, border=True)
    columns[1].metric(
        "Median latency",
        f"{best.median_ms:.2f} ms",
        border=True,
        help=f"IQR {best.timing.iqr_ms:.2f} ms over {best.timing.runs} runs",
    )
    if best.roofline_fraction is not None:
        columns[2].metric(
            "Share of the GEMM peak",
            f"{100 * best.roofline_fraction:.0f} %",
            border=True,
            help="(multiply-adds / latency) / FP32 GEMM multiply-adds per second at the same threads",
        )


def profile_section(config: ShuffleNetConfig, threads: int, batch: int) -> None:
    with st.expander("Where does the time go? ONNX Runtime's profile of this model"):
        caption(
            "ORT's own per-node profiler (20 runs after 3 warm-up runs), nodes grouped by what they do. "
            "Multiply-adds per second per group, against the FP32 GEMM peak, show which parts run like dense "
            "matrix products and which are limited by memory traffic and per-operator overhead."
        )
        if st.button("Profile this model", key="lat_profile"):
            run_profile(config, threads, batch)
        stored = st.session_state.get("lat_profile_rows")
        if stored and stored[:3] == (config, threads, batch):
            profile, peak_rate = stored[3], stored[4]
            caption(profile.overhead_text())
            st.dataframe(
                profile_frame(profile, peak_rate),
                hide_index=True,
                width="stretch",
                key="lat_profile_table",
                column_config=PROFILE_COLUMNS,
            )


def run_profile(config: ShuffleNetConfig, threads: int, batch: int) -> None:
    message = refused([(config, ["ort"])], batch)
    if message:
        st.error(message)
        return
    try:
        with st.spinner("Profiling (waits for other measurements to finish)…"):
            [profile], peak = profile_kernels([config], threads, batch)
        st.session_state["lat_profile_rows"] = (config, threads, batch, profile, peak.macs_per_s)
    except Exception as error:  # export or ONNX Runtime fault: say so, log the traceback
        log.exception("ONNX Runtime profile of %s failed", config.label)
        st.error(
            f"ONNX Runtime's profile of this model failed (details in the server log): "
            f"{shown_value(lat.one_line(error), 300)}"
        )


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
    st.dataframe(
        table8_predictions(table8_frame(lat.table8_records(t8)), t8),
        hide_index=True,
        width="stretch",
        key="lat_t8_table",
        column_config={**TABLE8_COLUMNS, **table8_columns(threads)},
    )
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


def at_input(model_config, input_size: tuple[int, int]):
    """A reference model at the sidebar's input size, or None where it does not fit (AlexNet needs 223 × 223)."""
    try:
        return replace(model_config, input_size=input_size)
    except ValueError:
        return None


def reference_section(
    config: ShuffleNetConfig,
    registry: JobRegistry,
    store: ResultStore,
    backends: list[str],
    threads: int,
    batch: int,
    min_time: float,
    busy: bool,
) -> None:
    st.header("Reference models")
    st.markdown(f"**AlexNet, as built here.** {lat.ALEXNET_DEFINITION}")
    st.markdown(
        "**MobileNet v1** (Howard et al. 2017) at widths 1.0, 0.75, 0.5 and 0.25. All models are counted by "
        "the same counter as ShuffleNet (fvcore, multiply-adds incl. FC)."
    )
    configs = [c for c in (at_input(m, config.input_size) for m in lat.REFERENCE_MODELS.values()) if c is not None]
    items = [(c, b) for c in configs for b in (backends or ["ort"])]
    if st.button(
        f"Measure the reference models at {input_size_text(config.input_size)} ({len(items)} measurements)",
        key="lat_ref_run",
        disabled=busy,
    ):
        start_job(registry, store, "Reference models", items, threads, batch, min_time)
        st.rerun()


def chart_section(store: ResultStore, threads: int, batch: int, peak: GemmPeak | None, present: bool) -> None:
    st.header("Where multiply-adds predict speed, and where not")
    measured = [m for m in store.all() if m.threads == threads and m.batch == batch]
    if not measured:
        st.info("Measure something above to see it here.", icon="ℹ️")
        return
    st.plotly_chart(latency_figure(measured, peak.macs_per_s if peak else None, present=present), key="lat_chart")
    caption(
        "Every model measured on this machine at these settings (the stored results). Colour: ShuffleNet by its g "
        "(as on every page), MobileNet grey, AlexNet black; symbol: backend (legend). Names are drawn where they fit "
        "(one per model and input when there are many points); hover a point for its model, input and backend. "
        "The dashed line is the latency if every "
        "multiply-add ran at the measured FP32 GEMM speed: points far above it are limited by memory traffic and "
        "per-operator overhead (depthwise and small grouped convolutions, channel shuffle), not by arithmetic."
    )


def method_section(threads: int, peak: GemmPeak | None) -> None:
    method_note("How the numbers are measured", method_markdown())
    if peak:
        flags = lat.flags_text(peak.timing.noisy, False)
        noisy = f" — {flags}" if flags else ""
        rates = ", ".join(f"{library} {rate / 1e9:.1f}" for library, rate in peak.rates)
        caption(
            f"FP32 GEMM peak at {threads} thread(s): {peak.gmacs:.1f} G multiply-adds/s "
            f"({peak.gflops:.1f} GFLOP/s), {peak.library} {peak.size}²{noisy}"
            f"{f' (best of {rates} G multiply-adds/s)' if rates else ''}."
        )


def main() -> None:
    present = page_setup("Latency")
    config = shared_controls()
    st.title("Latency")
    store, registry = result_store(), job_registry()
    cores = lat.default_threads()
    machine_caption(cores, store)
    threads, batch, min_time = settings_section(cores)
    peak = cached_gemm_peak(threads)
    backends = this_model_section(config, store, threads, batch, min_time)
    profile_section(config, threads, batch)
    current_job = registry.get(st.session_state.get(JOB_KEY))
    busy = current_job is not None and current_job.active
    table8_section(registry, store, threads, batch, min_time, busy)
    device_section(config)
    reference_section(config, registry, store, backends, threads, batch, min_time, busy)
    chart_section(store, threads, batch, peak, present)
    calibrate_section(registry, threads)
    stored_section(store)
    method_section(threads, peak)


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
