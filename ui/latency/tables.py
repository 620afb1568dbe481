"""What the Latency lab shows in common: formatting, the measurement table, failure notes, summaries.

* ``shown`` / ``MISSING`` / ``BACKEND_LABEL``: numbers that may be missing ("—") and backend
  names, as every Latency table writes them.
* ``measurement_frame`` with ``NUMBER_FORMATS``: one row per measurement; ``show_table``
  draws it with a warning for noisy ones. Table 8's, the profile's and the speedups'
  frames are in ``ui.latency.table8_frames``; the latency chart is ``ui.latency.chart``.
* ``failures_markdown(failures)``: which backend failed, at which step and why, escaped;
  ``show_failures`` / ``refused`` / ``method_markdown`` / ``stored_frame``: what the
  Latency page draws with them.
* ``latency_summary(config)`` / ``compare_latency_column(configs)``: what other pages show
  for a config that was already measured; they never measure.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from explorer.counting import MemoryRefused, check_memory
from explorer.latency import (
    BACKENDS,
    FAILURE_STAGES,
    FP32_PARITY_TOLERANCE,
    BackendFailure,
    Measurement,
    default_threads,
)
from explorer.latency.stored import ResultStore
from explorer.latency.timing import NOISY_IQR_FRACTION, flags_text
from explorer.store import age_text
from ui.latency.jobs import result_store
from ui.shell.text import shown_value

REASON_SHOWN = 300  # characters of a failure's reason on the page (the log has the traceback)


# --------------------------------------------------------------------------- tables

MISSING = "—"  # a value that was not measured or does not apply: never a literal "None"


def shown(value: float | None, digits: int = 2, scale: float = 1.0, suffix: str = "") -> str:
    """A number that may be missing, as text: ``MISSING`` for None or NaN."""
    if value is None or value != value:
        return MISSING
    return f"{value * scale:.{digits}f}{suffix}"


def measurement_frame(measurements: Sequence[Measurement]) -> pd.DataFrame:
    """One row per measurement: timing, flags, multiply-adds, roofline, parity and compile time."""
    return pd.DataFrame(
        [
            {
                "Model": m.model,
                "Input": f"{m.input_size[0]}×{m.input_size[1]}",
                "Backend": m.backend_label,
                "Median (ms)": m.median_ms,
                "IQR (ms)": m.timing.iqr_ms,
                "Min (ms)": m.timing.min_ms,
                "Runs": m.timing.runs,
                "Threads": m.threads,
                "Batch": m.batch,
                "Noisy": flags_text(m.timing.noisy, False),
                "Other processes' CPU (%)": shown(m.timing.others_share, 0, 100),
                "Multiply-adds (M, incl. FC)": m.macs / 1e6,
                "G multiply-adds/s": m.achieved_gmacs,
                "Roofline floor (ms)": shown(m.floor_ms),
                "% of GEMM peak": shown(m.roofline_fraction, 0, 100),
                "Max |Δ| vs PyTorch": MISSING if m.max_abs_diff is None else f"{m.max_abs_diff:.1e}",
                "Compile (s)": shown(m.compile_s),
                "Measured": age_text(time.time() - m.measured_at) if m.measured_at else MISSING,
            }
            for m in measurements
        ]
    )


NUMBER_FORMATS = {
    name: st.column_config.NumberColumn(format="%.2f")
    for name in ("Median (ms)", "IQR (ms)", "Min (ms)", "Multiply-adds (M, incl. FC)", "G multiply-adds/s")
}
NUMBER_FORMATS["Model"] = st.column_config.TextColumn(width=230, pinned=True)
NUMBER_FORMATS["Backend"] = st.column_config.TextColumn(width=200)
NUMBER_FORMATS["Compile (s)"] = st.column_config.TextColumn(
    help="Creating the ONNX Runtime session, or reading, reshaping and compiling the model in OpenVINO: once per "
    "model and input, not part of the latency"
)
BACKEND_LABEL = {key: b.label for key, b in BACKENDS.items()}


# --------------------------------------------------------------------------- drawing helpers of the Latency page


def show_table(measurements: Sequence[Measurement], key: str) -> None:
    """The measurements' table, and a warning when any is noisy or was taken on a busy machine."""
    st.dataframe(
        measurement_frame(measurements), hide_index=True, width="stretch", column_config=NUMBER_FORMATS, key=key
    )
    noisy = [m for m in measurements if m.timing.noisy or m.timing.contended]
    if noisy:
        st.warning(
            f"{len(noisy)} measurement(s) are noisy (IQR above {NOISY_IQR_FRACTION:.0%} of the median) or "
            "were taken while other processes used more than 10% of the CPUs: re-measure when the machine "
            "is quiet.",
            icon="⚠️",
        )


def refused(configs_and_backends, batch: int) -> str | None:
    """The memory guard's message for the first request that would not fit, or None."""
    for model_config, backends in configs_and_backends:
        try:
            check_memory(model_config, batch, backends)
        except MemoryRefused as error:
            return str(error)
        except Exception:  # noqa: BLE001, S112 - the model does not even count: its measurement records why
            continue
    return None


def show_failures(failures: Sequence[BackendFailure], anything_measured: bool) -> None:
    """Which backends failed, at which step and why; a warning when other results are shown, else an error."""
    show = st.warning if anything_measured else st.error
    others = "the backends that worked are shown below" if anything_measured else "nothing could be measured"
    show(
        f"{len(failures)} measurement(s) failed ({others}; details in the server log):\n\n"
        + failures_markdown(failures),
        icon="⚠️",
    )


def method_markdown() -> str:
    """How the Latency page's numbers are measured (the "How the numbers are measured" expander)."""
    return f"""
* **Backends.** {"; ".join(f"**{b.label}**: {b.description}" for b in BACKENDS.values())}. ONNX models are
  exported from the same `nn.Module` (TorchScript exporter, opset 17), checked with `onnx.checker`, and their
  outputs compared with PyTorch's on the same random input (max |Δ| column); OpenVINO runs the same files. INT8
  is calibrated on random inputs and BF16 computes with an 8-bit mantissa: their |Δ| is the drift from FP32, not
  an accuracy, and "fastest" in Table 8's headline means the fastest FP32 backend.
* **Compile time.** Creating the ONNX Runtime session, or reading, reshaping (static input shape) and compiling
  the model in OpenVINO, is timed once per model and input and shown apart ("Compile (s)"): it is not latency.
* **Timing.** One thread count for every backend; warm-up, then time-based repetition (at least the seconds
  chosen above and 5 runs); median, IQR, min and run count reported. A measurement whose IQR exceeds
  {NOISY_IQR_FRACTION:.0%} of its median is flagged noisy.
* **Roofline.** The FP32 GEMM throughput of this machine: the best median of `torch.mm`, ONNX Runtime `MatMul`
  and OpenVINO `MatMul` on 1024² and 1536² matrices at the same thread count, measured once per machine
  (CPU, cores, library versions) and thread count; floor = multiply-adds / that throughput; “% of GEMM peak” =
  floor / measured latency (INT8 can exceed 100%).
* **Fairness.** One process-wide lock serialises all measurements (yours and other users'); a queued request
  says so. Requests that would need more than half of the available memory are refused.
* **Faults.** If a backend cannot be measured for a model (the ONNX export or `onnx.checker` fails, an FP32
  output differs from PyTorch's by more than {FP32_PARITY_TOLERANCE:g} of the largest output, ONNX Runtime
  cannot open or run it, or OpenVINO cannot compile or run it), it is listed with the step and the reason and the
  other backends are still measured; the traceback goes to the server log. Cancel stops a job at its next timed
  run or step.
* **Random weights.** Models are freshly initialised (nothing is downloaded): timings do not depend on weight
  values, but the INT8 and BF16 drift does.
"""


# --------------------------------------------------------------------------- failures, summaries


def stored_frame(store: ResultStore) -> pd.DataFrame:
    """Every row of the result store (any machine), for the CSV download."""
    return pd.DataFrame(store.rows())


def failures_markdown(failures: Sequence[BackendFailure]) -> str:
    """One bullet per failed (config, backend): the backend, the step and the reason, all escaped."""
    return "\n".join(
        f"- **{shown_value(f.backend_label)}** for {shown_value(f.where, 80)}: failed at step "
        f"**{f.stage}** ({shown_value(FAILURE_STAGES[f.stage], 120)}): {shown_value(f.reason, REASON_SHOWN)}"
        for f in failures
    )


def _summary_text(m: Measurement) -> str:
    flags = flags_text(m.timing.noisy, False)
    return (
        f"{m.median_ms:.1f} ms ({m.backend_label}, {m.threads} thread{'s' if m.threads > 1 else ''}, "
        f"batch {m.batch}, measured here{f', {flags}' if flags else ''})"
    )


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
