"""Predicted latency where the app shows a model: the sidebar's line, Table 8's and Compare's "predicted here".

Every number comes from this machine's kept calibration (``explorer.latency.predictor.kept``)
and is worded by ``explorer.latency.predictor.labels``: "predicted here", the backend and
threads, the predictor's expected error, "extrapolated" when the config lies outside the
sampled shapes, and, where a measurement of the same config is stored, this config's own
error against it. Nothing here measures, and a fault of the predictor (an unreadable store,
a calibration without some kernel kind) costs the prediction, never the page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from explorer.latency import Measurement, default_threads
from explorer.latency.predictor import Prediction, kept_predictor, predictor_for
from explorer.latency.predictor.labels import (
    PREDICTED,
    backend_label,
    compared_text,
    drift_text,
    error_text,
    ms_text,
    short_error_text,
    sidebar_line,
    threads_text,
)
from explorer.shufflenet import ModelConfig
from ui.shell import presentation

log = logging.getLogger(__name__)

PREDICTED_MS = "Predicted here (ms)"
PREDICTED_VS = "Predicted vs measured"
COMPARE_ROW = "Latency, predicted here"


def prediction(config: ModelConfig, backend: str | None = None, threads: int | None = None) -> Prediction | None:
    """This machine's prediction of ``config`` (``backend`` None: the fastest calibrated), or None."""
    try:
        predictor = (
            kept_predictor(backend, threads)
            if backend is None
            else predictor_for(backend, default_threads() if threads is None else threads)
        )
        return None if predictor is None else predictor.predict(config)
    except Exception:  # the page stands without a prediction; the log says why
        log.exception("no latency prediction for %s", getattr(config, "label", config))
        return None


def sidebar_prediction(config: ModelConfig) -> None:
    """The sidebar's one line (call it inside ``st.sidebar``), "predicted 3.1 ms here, ONNX Runtime FP32, 2 threads,
    ...", when this machine has a calibration; nothing otherwise (the Latency page says how to make one)."""
    found = prediction(config)
    if found is not None:
        presentation.caption(f"Latency: {sidebar_line(found)}.")


# --------------------------------------------------------------------------- Table 8


def table8_found(measurements: Sequence[Measurement]) -> list[Prediction | None]:
    """Per measurement, the prediction of its config on its backend and threads (batch 1 only), or None."""
    return [prediction(m.config, m.backend, m.threads) if m.batch == 1 else None for m in measurements]


def table8_predictions(
    frame: pd.DataFrame, measurements: Sequence[Measurement], found: Sequence[Prediction | None]
) -> pd.DataFrame:
    """Table 8's frame (one row per measurement, in order) with the prediction for each row's backend and
    threads (``found``: ``table8_found``) beside its measured median, and this config's own error; "—" where that
    backend is not calibrated (and no such columns when none of the table's backends is)."""
    if len(frame) != len(measurements):  # not one row per measurement: leave the table as it is
        return frame
    predicted, compared = [], []
    for m, one in zip(measurements, found):
        if one is None:
            predicted.append(None)
            compared.append("—")
            continue
        predicted.append(one.predicted_ms)
        note = ", extrapolated" if one.extrapolated else ""
        compared.append(f"{compared_text(one.predicted_ms, m.median_ms)}{note}")
    if all(ms is None for ms in predicted):  # no backend of this table is calibrated here: no empty columns
        return frame
    frame = frame.copy()
    position = list(frame.columns).index("Median (ms)") + 1 if "Median (ms)" in frame.columns else len(frame.columns)
    frame.insert(position, PREDICTED_MS, predicted)
    frame.insert(position + 1, PREDICTED_VS, compared)
    return frame


def table8_drift_notes(measurements: Sequence[Measurement], found: Sequence[Prediction | None]) -> list[str]:
    """Per calibrated backend whose predictions (``found``: ``table8_found``) run above or below its Table 8
    measurements alike, why (``labels.drift_text``); empty when they agree."""
    ratios: dict[str, list[float]] = {}
    for m, one in zip(measurements, found):
        if one is not None and m.median_ms > 0:
            ratios.setdefault(m.backend, []).append(one.predicted_ms / m.median_ms)
    return [text for backend, values in ratios.items() if (text := drift_text(backend, values))]


def table8_columns(threads: int) -> dict:
    """Column configs of the two prediction columns: their help says what they are and how sure."""
    errors = {b: error_text(p.expected_error) for b in ("ort", "openvino") if (p := _predictor(b, threads)) is not None}
    how_sure = "; ".join(f"{backend_label(b)}: {text}" for b, text in errors.items()) or "no calibration here"
    return {
        PREDICTED_MS: st.column_config.NumberColumn(
            format="%.2f",
            help=f"Predicted here by the latency predictor from its calibration on this machine, "
            f"not measured ({how_sure}). Batch 1 only.",
        ),
        PREDICTED_VS: st.column_config.TextColumn(help="This config's own error: predicted / measured - 1"),
    }


def _predictor(backend: str, threads: int):
    try:
        return predictor_for(backend, threads)
    except Exception:  # as in ``prediction``
        log.exception("no latency predictor for %s at %d threads", backend, threads)
        return None


# --------------------------------------------------------------------------- Compare


def compare_cell(found: Prediction | None, stored: Measurement | None) -> str:
    """Compare's "Latency, predicted here" cell: the prediction, its error, extrapolation, and this config's own
    error against ``stored`` (a measurement of the same config on the same backend and threads) when there is one."""
    if found is None:
        return "no calibration here (Latency page)"
    error = short_error_text(found.expected_error)
    about = ", ".join(part for part in (backend_label(found.backend), threads_text(found.threads), error) if part)
    parts = [f"{ms_text(found.predicted_ms)} ms {PREDICTED} ({about})"]
    if stored is not None:
        parts.append(f"{compared_text(found.predicted_ms, stored.median_ms)} ({stored.median_ms:.2f} ms)")
    if found.extrapolated:
        parts.append("extrapolated")
    return "; ".join(parts)


def compare_predictions(configs: Sequence[ModelConfig], store) -> list[str]:
    """One cell per config for the Compare page (``store``: the result store, read for the same config)."""
    cells = []
    for config in configs:
        found = prediction(config)
        stored = store.get(config, found.backend, found.threads, 1) if found is not None else None
        cells.append(compare_cell(found, stored))
    return cells
