"""The Latency page's "On your device" section: the sidebar's model and Table 8 measured in the visitor's browser.

``device_section(config)`` draws it as a fragment (the browser's reports rerun only this
section): the buttons "Measure on this device" (the sidebar's model at its input size) and
"Table 8 on this device" (the paper's two ShuffleNets at its three inputs; AlexNet only
after a confirmation naming its download), progress and Cancel, the component
(``ui.latency.device_component``), the results "measured on your device" beside "measured on the
server" and "reported in the paper", and the class view ("reported by visitors'
browsers"). The session's run lives in ``st.session_state`` (``ui.latency.device_state``); the
class view's rows in a process-wide store, bounded, switched off with
``EXPLORER_CLASS_VIEW=off``.
"""

from __future__ import annotations

import logging
import time

import pandas as pd
import streamlit as st

from explorer import paper
from explorer.counting import footprint
from explorer.devices import class_view_enabled, summarize
from explorer.devices.reports import RateLimit
from explorer.devices.served import device_model
from explorer.latency import BACKENDS, model_key
from explorer.shufflenet import AlexNetConfig, ModelConfig
from explorer.store import SqliteClassView, age_text, open_class_view
from ui.latency.device_component import HOW_TO_ENABLE, KEY, device_component, installed_version, missing_files
from ui.latency.device_state import DeviceOutcome, DeviceRun, component_args, handle_report, size_text
from ui.latency.jobs import result_store
from ui.shell.controls import current_class_key
from ui.shell.presentation import caption
from ui.shell.text import shown_value

log = logging.getLogger("explorer.device")

RUN_KEY = "dev_run"
PAPER_COLUMN = "Reported in the paper: Snapdragon 820, 1 core (ms)"
DEVICE_COLUMN = "Measured on your device (ms)"
SERVER_COLUMN = "Measured on the server (ms)"
TABLE8_CONFIGS = tuple(row.at(size) for row in paper.TABLE8 for size in paper.TABLE8_INPUTS)
RATE_LIMITS = {"per_session": 40, "per_session_minute": 12, "per_minute": 120}
INPUT_NAMES = {f"{h}×{w}": f"{h}x{w}" for h, w in paper.TABLE8_INPUTS}


@st.cache_resource(show_spinner=False)
def class_view_store() -> SqliteClassView:
    """The class view's rows: a table of the store's database (EXPLORER_DATABASE_URL or the data directory's file)."""
    return open_class_view()


@st.cache_resource(show_spinner=False)
def rate_limit() -> RateLimit:
    """How many browser results the class view takes: per session, per session and minute, per minute."""
    return RateLimit(**RATE_LIMITS)


def class_view() -> tuple[SqliteClassView | None, str | None]:
    """This session's class's view (``?class=`` in the link), or None when it is off; and the refusal of a bad
    EXPLORER_CLASS_VIEW."""
    try:
        return (class_view_store().for_class(current_class_key()) if class_view_enabled() else None), None
    except ValueError as error:
        return None, str(error)


def paper_ms(config: ModelConfig) -> float | None:
    """Table 8's time for this model and input, reported in the paper; None when the paper has none."""
    for row in paper.TABLE8:
        if row.config == model_key(config) and tuple(config.input_size) in paper.TABLE8_INPUTS:
            return row.ms_at(config.input_size)
    return None


def server_latency(config: ModelConfig) -> tuple[float, str] | None:
    """This server's stored measurement of ``config`` (batch 1): ONNX Runtime FP32 at the fewest threads if any."""
    measured = result_store().for_config(config, 1)
    if not measured:
        return None
    best = min(measured, key=lambda m: (m.backend != "ort", m.threads, m.median_ms))
    return best.median_ms, f"{BACKENDS[best.backend].label}, {best.threads} thread{'s' if best.threads > 1 else ''}"


def alexnet_megabytes() -> float:
    return footprint(AlexNetConfig()).weight_bytes / 1e6


def device_section(config: ModelConfig) -> None:
    st.header("On your device")
    caption(
        "The paper's Table 8 was timed on a phone. Here your own browser runs the model with ONNX Runtime Web "
        "(WebAssembly, SIMD; one thread unless the page is cross-origin isolated): the server sends the ONNX file, "
        "your browser times it and sends back only the timings, the first outputs for a fixed input (checked against "
        "PyTorch), its core count and a short browser summary."
    )
    st.fragment(_device_fragment)(config)


def _device_fragment(config: ModelConfig) -> None:
    run: DeviceRun = st.session_state.setdefault(RUN_KEY, DeviceRun())
    store, class_view_error = class_view()
    missing = missing_files()
    if not missing:
        try:
            handle_report(run, st.session_state.get(KEY), store, rate_limit())
        except Exception:  # a value Streamlit itself could not decode: the page goes on
            log.exception("the component's value could not be read")
            run.notice = "A report from your browser could not be read and was not used."
    columns = st.columns([1, 1, 1])
    columns[0].button(
        "Measure on this device",
        type="primary",
        disabled=bool(missing),
        key="dev_measure",
        on_click=run.start,
        args=("Your model", [config]),
        help="The sidebar's model at its input size, timed in this browser.",
    )
    columns[1].button(
        "Table 8 on this device",
        disabled=bool(missing),
        key="dev_table8",
        on_click=_start_table8,
        args=(run,),
        help="ShuffleNet 0.5x (arch2, g = 3) and 1x (g = 3) at the inputs chosen below; AlexNet if included.",
    )
    columns[2].button("Cancel", disabled=not run.active, key="dev_cancel", on_click=run.cancel)
    left, right = st.columns([2, 1])
    left.checkbox(
        f"Include AlexNet in Table 8: downloads its {alexnet_megabytes():.0f} MB FP32 ONNX file to this "
        "browser (once for all inputs)",
        key="dev_alexnet",
    )
    right.multiselect("Inputs on this device", list(INPUT_NAMES), default=list(INPUT_NAMES), key="dev_inputs")
    if missing:
        st.info(HOW_TO_ENABLE, icon="ℹ️")
        log.info("onnxruntime-web files missing: %s", ", ".join(missing))
    else:
        _measure_step(run)
    if run.notice:
        st.warning(shown_value(run.notice, 300), icon="⚠️")
        run.notice = ""
    if class_view_error:
        st.error(f"The class view is off: {shown_value(class_view_error, 120)}")
    outcomes_table(run.outcomes)
    class_view_table(store)


def _start_table8(run: DeviceRun) -> None:
    """Button callback (runs before the section redraws, so Cancel is live at once)."""
    alexnet = bool(st.session_state.get("dev_alexnet"))
    sizes = [INPUT_NAMES[name] for name in st.session_state.get("dev_inputs", INPUT_NAMES) if name in INPUT_NAMES]
    run.start(
        "Table 8",
        [c for c in TABLE8_CONFIGS if (alexnet or not isinstance(c, AlexNetConfig)) and size_text(c) in sizes],
    )


def _measure_step(run: DeviceRun) -> None:
    """Export the next model if needed, show progress, render the component with the job (or idle)."""
    if run.active and run.job is None:
        label = f"{run.queue[0].label} at {size_text(run.queue[0])}"
        with st.spinner(f"Exporting {label} to ONNX for your browser (once per model, then cached)…"):
            run.next_job(device_model)
    if run.job is not None:
        job = run.job
        st.progress(
            run.done / max(run.total, 1),
            text=f"{run.name} on your device: {run.done} of {run.total} done · "
            f"now {job.config.label} at {size_text(job.config)} ({job.model.megabytes:.1f} MB)",
        )
    elif run.cancelled:
        st.info(f"{run.name} on your device cancelled after {run.done} of {run.total}.", icon="🛑")
    elif run.total:
        st.success(f"{run.name} on your device: {run.done} of {run.total} done.", icon="✅")
    job_args, index, piece = component_args(run.job)
    try:  # its value is read above; Streamlit decodes a browser's Arrow or bytes value here, and may fail
        device_component(job_args, index, piece, installed_version() or "")
    except Exception:
        log.exception("the component's value could not be decoded")
        st.warning("A report from your browser could not be read and was not used.", icon="⚠️")


def outcomes_table(outcomes: list[DeviceOutcome]) -> None:
    if not outcomes:
        st.info("Nothing measured on your device yet in this session: press a button above.", icon="ℹ️")
        return
    rows = []
    for outcome in outcomes:
        config, result, parity = outcome.config, outcome.result, outcome.parity
        server, reported = server_latency(config), paper_ms(config)
        device_ms = result.median_ms if outcome.usable else None
        if outcome.error:
            check = f"failed {outcome.error}"
        elif parity is not None and not parity.ok:
            check = f"MISMATCH, timing not used: max |Δ| {parity.max_abs_diff:.1e}"
        else:
            check = f"matches (max |Δ| {parity.max_abs_diff:.1e})" if parity else ""
        rows.append(
            {
                "Model": config.label,
                "Input": size_text(config).replace("x", "×"),
                DEVICE_COLUMN: device_ms,
                "Outputs vs PyTorch": check,
                PAPER_COLUMN: reported,
                "Speedup vs the paper (×)": reported / device_ms if reported and device_ms else None,
                SERVER_COLUMN: server[0] if server else None,
                "Server backend": server[1] if server else "not measured",
                "IQR (ms)": result.iqr_ms if outcome.usable else None,
                "Runs": result.runs if result else None,
                "Runtime in your browser": result.runtime if result else "",
                "Device": result.device if result else "",
                "Class view": outcome.stored,
            }
        )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        key="dev_table",
        column_config={
            name: st.column_config.NumberColumn(format="%.2f")
            for name in (DEVICE_COLUMN, "IQR (ms)", SERVER_COLUMN, PAPER_COLUMN, "Speedup vs the paper (×)")
        },
    )
    caption(
        f"“{DEVICE_COLUMN}”: median of at least 5 timed runs after warm-up in this browser (performance.now()). "
        f"“{SERVER_COLUMN}”: this server's stored result for the same model and input, if one was measured "
        "above (ONNX Runtime FP32 at the fewest threads preferred). Speedup = the paper's time / yours: above 1, "
        "your device beats one Snapdragon 820 core running the authors' runtime. A result whose outputs do not "
        "match PyTorch's is shown as a mismatch and its time is not used."
    )


def class_view_table(store: SqliteClassView | None) -> None:
    st.subheader("Class view: reported by visitors' browsers")
    if store is None:
        caption("The class view is off on this server (EXPLORER_CLASS_VIEW=off).")
        return
    if store.class_key:
        caption(
            f"Class **{shown_value(store.class_key, 60)}** (the link's `class` value): only this class's results "
            "are shown and kept here."
        )
    for warning in store.database.warnings:
        caption(shown_value(warning, 300))
    summary = summarize(store.rows())
    if not summary:
        caption("No visitor's browser has reported a result to this server yet.")
        return
    configs, now = {(c.label, size_text(c)): c for c in TABLE8_CONFIGS}, time.time()
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "Device (reported by the browser)": s.device,
                    "Model": s.model,
                    "Input": s.input.replace("x", "×"),
                    "Results": s.count,
                    "Median of medians (ms)": s.median_ms,
                    PAPER_COLUMN: paper_ms(configs[(s.model, s.input)]) if (s.model, s.input) in configs else None,
                    "Latest": age_text(now - s.latest),
                }
                for s in summary
            ]
        ),
        hide_index=True,
        width="stretch",
        key="dev_class_table",
        column_config={
            n: st.column_config.NumberColumn(format="%.2f") for n in ("Median of medians (ms)", PAPER_COLUMN)
        },
    )
    caption(
        "Reported by visitors' browsers to this server: results whose outputs matched PyTorch, grouped by the "
        "browser's own summary of itself; a browser can report any time, so read this as a class's show of "
        "hands, not as a benchmark."
    )
