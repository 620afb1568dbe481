"""Latency: the current model timed on this machine, the paper's Table 8 reproduced here, the roofline.

A backend that fails for a config (export, ONNX Runtime session, OpenVINO compile or run) is
listed with its step and reason while the other backends' results are shown; tracebacks go
to the server log. Table 8's headline puts each model on its fastest FP32 backend, with the
per-backend speedups and a verdict computed from ONNX Runtime's profiles below it.
"""

import logging
from dataclasses import replace

import streamlit as st

from explorer import ShuffleNetConfig, machine
from explorer import latency as lat
from explorer.latency.roofline import cached_gemm_peak
from ui.latency.calibrate import calibrate_section
from ui.latency.device import device_section
from ui.latency.jobs import JobRegistry, ResultStore, job_registry, measure_here, profile_kernels, result_store
from ui.latency.page_job import JOB_KEY, start_job
from ui.latency.roofline_view import chart_section, method_section
from ui.latency.stored_view import stored_section
from ui.latency.table8_frames import PROFILE_COLUMNS, profile_frame
from ui.latency.table8_view import table8_section
from ui.latency.tables import BACKEND_LABEL, refused, show_failures, show_table
from ui.shell.controls import shared_controls
from ui.shell.page import page_setup
from ui.shell.presentation import caption
from ui.shell.text import input_size_text, shown_value

log = logging.getLogger("explorer.pages.latency")

MIN_TIMES = (0.02, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0)


def machine_caption(cores: int, store: ResultStore) -> None:
    versions = machine.versions()
    caption(
        f"Measured on this server: **{machine.cpu_model()}**, {cores} cores; torch {versions['torch']}, "
        f"onnxruntime {versions['onnxruntime']}, openvino {versions['openvino']}. Every number on this page is "
        "measured here unless it is marked “reported in the paper” or “predicted here”."
    )
    for warning in store.warnings:
        st.warning(shown_value(warning, 400), icon="⚠️")


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
