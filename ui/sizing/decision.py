"""The budget decision as the app shows it: the ranked table with "open" links, and the latency-budget job.

* ``decision_frame(decision)``: one row per candidate (``explorer.sizing.decision``),
  computed columns apart from the paper's error and the measured latency, with an
  "open" link (``ui.shell.controls.open_link``: the shareable URL that loads it into the
  sidebar) and ``DECISION_COLUMNS`` to show it.
* ``recommendation_links(decision)``: markdown links opening the recommendation's two models.
* ``over_frame(decision)``: g and variants that do not fit, with the smallest budget that does.
* ``latency_budget_task(...)``: a ``JobRegistry`` task running the latency-budget search against
  the shared result store: from the prediction (``explorer.sizing.predicted_search``) when a
  calibration is kept for the backend and threads, else by measuring (``search_latency_budget``).

With a prediction (``Decision.predicted_note``) the table adds the predicted latency of every
candidate, its own column ("predicted here"), and where a measurement is stored too, this
model's own error (predicted vs measured).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from explorer.counting import CONVENTIONS, LATENCY, PEAK_ACTIVATIONS
from explorer.latency.predictor import kept_predictor
from explorer.sizing import Decision, search_latency_budget
from explorer.sizing.predicted_search import predicted_latency_budget
from ui.shell.controls import open_link

ERROR_COLUMN = "Top-1 error (%), reported in the paper"
LATENCY_COLUMN = "Latency (ms), measured here"
PREDICTED_COLUMN = "Latency (ms), predicted here"
OWN_ERROR_COLUMN = "Predicted vs measured (%)"
EXTRAPOLATED_COLUMN = "Extrapolated"
DECISION_COLUMNS = {
    "Open": st.column_config.LinkColumn(
        "Open",
        display_text="open",
        width="small",
        help="Opens this model in the app, in the sidebar (the shareable link).",
    ),
    "Multiply-adds (M)": st.column_config.NumberColumn(format="%.2f", help=CONVENTIONS["conv_macs"].definition),
    "Params (M)": st.column_config.NumberColumn(format="%.3f", help=CONVENTIONS["params"].definition),
    "Activations (M values)": st.column_config.NumberColumn(format="%.2f", help=CONVENTIONS["activations"].definition),
    "Peak activation memory (MB)": st.column_config.NumberColumn(format="%.2f", help=PEAK_ACTIVATIONS.definition),
    ERROR_COLUMN: st.column_config.NumberColumn(
        format="%.1f",
        help="ImageNet top-1 error, reported in the paper for exactly this model; blank where the paper reports none.",
    ),
    LATENCY_COLUMN: st.column_config.NumberColumn(format="%.2f", help=LATENCY.definition),
    PREDICTED_COLUMN: st.column_config.NumberColumn(
        format="%.2f",
        help="Predicted on this machine by its kept calibration, without running the model: not a measurement.",
    ),
    OWN_ERROR_COLUMN: st.column_config.NumberColumn(
        format="%+.0f", help="(predicted − measured) / measured, for this model; blank where it was not measured."
    ),
    EXTRAPOLATED_COLUMN: st.column_config.CheckboxColumn(
        help="The model lies outside the shapes the calibration sampled: the prediction is an extrapolation."
    ),
}


def why_listed(c) -> str:
    if c.origin == "paper":
        return "reported in the paper"
    return "widest within the budget" + (" (reported in the paper)" if c.reported else "")


def _predicted(c) -> dict:
    own = None if c.latency_ms is None else 100 * (c.predicted_ms / c.latency_ms - 1)
    return {PREDICTED_COLUMN: c.predicted_ms, OWN_ERROR_COLUMN: own, EXTRAPOLATED_COLUMN: c.extrapolated}


def decision_frame(decision: Decision) -> pd.DataFrame:
    predicted = bool(decision.predicted_note)
    return pd.DataFrame(
        [
            {
                "Open": open_link(c.config),
                "#": n,
                "Model": c.config.label,
                "Why listed": why_listed(c),
                "Multiply-adds (M)": c.conv_macs / 1e6,
                "Params (M)": c.params / 1e6,
                "Activations (M values)": c.activations / 1e6,
                "Peak activation memory (MB)": c.peak_activation_bytes / 1e6,
                ERROR_COLUMN: None if c.reported is None else c.reported.error,
                "Reported in": "" if c.reported is None else c.reported.source,
                LATENCY_COLUMN: c.latency_ms,
            }
            | (_predicted(c) if predicted else {})
            for n, c in enumerate(decision.candidates, 1)
        ]
    )


def recommendation_links(decision: Decision) -> str:
    """Markdown links that open the recommendation's two models in the app: the paper's best and the widest here."""
    links = [(f"the paper's best, {c.config.label}", c) for c in (decision.paper_best,) if c is not None]
    links += [(f"the widest here, {c.config.label}", c) for c in (decision.widest,) if c is not None]
    return " · ".join(f"[Open {text}]({open_link(c.config)})" for text, c in links)


def over_frame(decision: Decision) -> pd.DataFrame:
    unit = {"mflops": "M multiply-adds", "params": "M parameters", "ms": "ms, measured here"}[decision.kind]
    return pd.DataFrame(
        [
            {"Groups g": o.groups, "Variant": o.variant, f"Smallest budget that fits ({unit})": o.smallest}
            for o in decision.over
        ]
    )


def latency_budget_task(
    budget_ms: float,
    groups: tuple[int, ...],
    variants: tuple[str, ...],
    backend: str,
    threads: int,
    input_size: tuple[int, int],
):
    """A ``JobRegistry`` task: the search, reporting progress into the job; returns whether it was cancelled."""

    def task(job, store) -> bool:
        def progress(done: int, total: int, message: str) -> None:
            job.done, job.estimated, job.current = done, max(total, done), message

        options = {
            "groups": groups,
            "variants": variants,
            "input_size": input_size,
            "progress": progress,
            "cancel": job.cancel,
        }
        predictor = kept_predictor(backend, threads)
        if predictor is not None:
            job.outcome = predicted_latency_budget(budget_ms, store, predictor, **options)
        else:
            job.outcome = search_latency_budget(budget_ms, store, backend=backend, threads=threads, **options)
        job.done = job.estimated = job.outcome.measured + job.outcome.reused
        return job.outcome.stopped == "cancelled"

    return task
