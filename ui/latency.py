"""What the Latency lab shows: result tables, failure notes, the latency chart, and summaries for other pages.

* ``measurement_frame`` / ``table8_frame`` / ``profile_frame``: the Latency page's tables
  (with ``NUMBER_FORMATS``, their column formats).
* ``failures_markdown(failures)``: which backend failed, at which step and why, escaped.
* ``latency_summary(config)`` / ``compare_latency_column(configs)``: what other pages show
  for a config that was already measured; they never measure.
* ``latency_figure(measurements, peak)``: latency vs multiply-adds (log-log) with the
  GEMM roofline line.
"""

from __future__ import annotations

from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from explorer import MobileNetConfig, ShuffleNetConfig
from explorer.latency import BACKENDS, STAGES, BackendFailure, Measurement, default_threads

from .charts import style_figure
from .jobs import result_store
from .style import NEUTRAL, groups_color
from .text import shown_value

REASON_SHOWN = 300  # characters of a failure's reason on the page (the log has the traceback)


# --------------------------------------------------------------------------- tables


def measurement_frame(measurements: Sequence[Measurement]) -> pd.DataFrame:
    """One row per measurement: timing, flags, multiply-adds, roofline and parity."""
    return pd.DataFrame([{
        "Model": m.model,
        "Input": f"{m.input_size[0]}×{m.input_size[1]}",
        "Backend": m.backend_label,
        "Median (ms)": m.median_ms,
        "IQR (ms)": m.timing.iqr_ms,
        "Min (ms)": m.timing.min_ms,
        "Runs": m.timing.runs,
        "Threads": m.threads,
        "Batch": m.batch,
        "Noisy": "noisy" if m.timing.noisy else "",
        "Other processes' CPU (%)": None if m.timing.others_share is None else 100 * m.timing.others_share,
        "Multiply-adds (M, incl. FC)": m.macs / 1e6,
        "G multiply-adds/s": m.achieved_gmacs,
        "Roofline floor (ms)": m.floor_ms,
        "% of GEMM peak": None if m.roofline_fraction is None else 100 * m.roofline_fraction,
        "Max |Δ| vs PyTorch": None if m.max_abs_diff is None else f"{m.max_abs_diff:.1e}",
    } for m in measurements])  # fmt: skip


NUMBER_FORMATS = {
    name: st.column_config.NumberColumn(format="%.2f")
    for name in ("Median (ms)", "IQR (ms)", "Min (ms)", "Multiply-adds (M, incl. FC)", "G multiply-adds/s",
                 "Roofline floor (ms)", "% of GEMM peak", "Other processes' CPU (%)")
}


def table8_frame(records: Sequence[dict]) -> pd.DataFrame:
    """``explorer.latency.table8_records`` as the page shows them; the paper's columns last."""
    return pd.DataFrame([{
        "Model": r["model"],
        "Input": "×".join(map(str, r["input"])),
        "Backend": r["backend_label"],
        "Median (ms)": r["median_ms"],
        "IQR (ms)": r["iqr_ms"],
        "Noisy": ", ".join(flag for flag, on in (("noisy", r["noisy"]), ("busy", r["contended"])) if on),
        "Busy because": r["busy_reason"],
        "Measured speedup over AlexNet": r["measured_speedup"],
        "Theoretical speedup (multiply-adds incl. FC)": r["theoretical_speedup"],
        "Measured / theoretical": r["speedup_efficiency"],
        "% of GEMM peak": None if r["roofline_fraction"] is None else 100 * r["roofline_fraction"],
        "Paper ms (reported in the paper)": r["paper_ms"],
        "Paper speedup (reported in the paper)": r["paper_speedup"],
    } for r in records])  # fmt: skip


TABLE8_TEXT_COLUMNS = ("Model", "Input", "Backend", "Noisy", "Busy because")


def profile_frame(rows: Sequence, peak_macs_per_s: float) -> pd.DataFrame:
    """ONNX Runtime's per-node profile, grouped (``explorer.latency.kernel_profile.ProfileRow``)."""
    return pd.DataFrame([{
        "Where": r.category, "ms per run": r.ms, "Share (%)": 100 * r.share, "Nodes": r.nodes,
        "Multiply-adds (M)": r.macs / 1e6, "G multiply-adds/s": r.gmacs,
        "% of GEMM peak": None if r.gmacs is None else 100 * r.gmacs * 1e9 / peak_macs_per_s,
    } for r in rows])  # fmt: skip


PROFILE_NUMBER_COLUMNS = ("ms per run", "Share (%)", "Multiply-adds (M)", "G multiply-adds/s", "% of GEMM peak")


# --------------------------------------------------------------------------- failures, summaries, chart


def failures_markdown(failures: Sequence[BackendFailure]) -> str:
    """One bullet per failed (config, backend): the backend, the step and the reason, all escaped."""
    return "\n".join(
        f"- **{shown_value(f.backend_label)}** for {shown_value(f.where, 80)}: failed at step "
        f"**{f.stage}** ({shown_value(STAGES[f.stage], 120)}): {shown_value(f.reason, REASON_SHOWN)}"
        for f in failures
    )


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
                   title: str = "Latency vs multiply-adds (measured here)", present: bool = False) -> go.Figure:
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
                 "Median latency (ms, log scale)", height=480, present=present)
    figure.update_xaxes(type="log")
    figure.update_yaxes(type="log", rangemode="normal")
    return figure
