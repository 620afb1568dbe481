"""Predicted latency on the Complexity page: a twin of the charts across g and width, where the time goes, G2.

Everything here is predicted by this machine's kept calibration (``kept_predictor``: the
fastest calibrated backend at the runner's threads) without building or running anything,
labelled "predicted here" with the predictor's error; measurements of the same models
from the result store are overlaid and labelled "measured here". Without a kept
calibration each section says so and where to make one, instead of a chart.

* ``page_predictor()``: the predictor (or None) and the text that says which.
* ``latency_sweep(...)``: predicted latency vs width per g and vs g at the sidebar's width.
* ``time_section(...)``: where the time goes per layer type beside where the multiply-adds go,
  and time vs g at equal multiply-adds (ShuffleNet V2's guideline G2).
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from explorer import latency as lat
from explorer.latency.predictor import Prediction, Predictor, kept_predictor
from explorer.latency.predictor.labels import error_text
from explorer.shufflenet import ShuffleNetConfig
from explorer.sizing import Decision, figure, widest_within
from explorer.sizing.decision import with_predictions
from explorer.sizing.predicted import by_text, missing_text, note_text, predicted_ms_text
from ui.figures.latency_charts import (
    equal_macs_figure,
    layer_shares_figure,
    predicted_groups_figure,
    predicted_sweep_figure,
)
from ui.shell.presentation import caption

OVERHEAD_LAYER = "per-run overhead"


def page_predictor(backend: str | None = None) -> Predictor | None:
    """This machine's predictor for ``backend`` (None: the fastest calibrated) at the runner's threads."""
    return kept_predictor(backend, lat.default_threads())


def no_calibration(backend: str | None = None) -> None:
    st.info(missing_text(backend, lat.default_threads()), icon=":material/timer_off:")


def stored_points(store, predictor: Predictor, config: ShuffleNetConfig, groups: tuple[int, ...]) -> list[dict]:
    """Measurements in the result store of the sidebar's variant, shuffle and input, for these g, with the
    predictor's backend and threads at batch 1: {groups, width, ms}."""
    points = []
    for m in store.all():
        c = m.config
        if (
            isinstance(c, ShuffleNetConfig)
            and c.groups in groups
            and c.variant == config.variant
            and c.shuffle == config.shuffle
            and tuple(c.input_size) == tuple(config.input_size)
            and (m.backend, m.threads, m.batch) == (predictor.backend, predictor.threads, 1)
        ):
            points.append({"groups": c.groups, "width": c.width, "ms": m.per_image_ms})
    return points


def _row(config: ShuffleNetConfig, prediction: Prediction) -> dict:
    return {
        "groups": config.groups,
        "width": config.width,
        "ms": prediction.predicted_ms,
        "extrapolated": prediction.extrapolated,
        "macs": prediction.macs,
    }


def latency_sweep(
    config: ShuffleNetConfig, groups: tuple[int, ...], widths: tuple[float, ...], store, present: bool
) -> None:
    """The latency twin of the multiply-add charts across g and width."""
    st.subheader("… and in milliseconds, predicted here")
    predictor = page_predictor()
    if predictor is None:
        no_calibration()
        return
    models = [replace(config, groups=g, width=w) for g in groups for w in widths]
    curves = [_row(model, predictor.predict(model)) for model in models]
    measured = stored_points(store, predictor, config, groups)
    current = predictor.predict(config)
    caption(
        f"Lines and bars: {note_text(predictor)}; nothing was built or run for them. Circles outlined in black: "
        f"{len(measured)} measurement(s) of these models in the result store (measured here, same backend and "
        f"threads). {config.label}: {predicted_ms_text(current)}."
        + (
            " An × marks a prediction outside the shapes the calibration sampled (extrapolated)."
            if any(c["extrapolated"] for c in curves)
            else ""
        )
    )
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(
            predicted_sweep_figure(curves, measured, config.groups, "Latency vs width (predicted here)", present),
            key="latency_sweep_chart",
        )
    with right:
        at_width = [r for r in curves if r["width"] == config.width]
        here = [p for p in measured if p["width"] == config.width]
        st.plotly_chart(
            predicted_groups_figure(
                at_width, here, config.groups, f"Latency vs g at width {config.width:g}× (predicted here)", present
            ),
            key="latency_groups_chart",
        )


def layer_rows(prediction: Prediction) -> list[dict]:
    """Each layer type's share of the predicted time and of the multiply-adds, the per-run overhead last."""
    total_macs = sum(layer.macs for layer in prediction.layers) or 1
    rows = [
        {"layer": layer.layer, "ms": layer.ms, "time_share": layer.share, "macs_share": layer.macs / total_macs}
        for layer in prediction.layers
    ]
    rows.append(
        {
            "layer": OVERHEAD_LAYER,
            "ms": prediction.overhead_ms,
            "time_share": prediction.overhead_ms / prediction.predicted_ms,
            "macs_share": 0.0,
        }
    )
    return rows


def equal_macs_rows(config: ShuffleNetConfig, groups: tuple[int, ...], predictor: Predictor) -> list[dict]:
    """For each g, the widest width whose multiply-adds are within the sidebar model's, and its prediction."""
    rows = []
    for g in groups:
        answer = widest_within(figure(config), g, config.variant, tuple(config.input_size))
        if answer.config is not None:
            model = replace(answer.config, shuffle=config.shuffle)
            rows.append(_row(model, predictor.predict(model)) | {"macs": answer.conv_macs})
    return rows


def time_section(config: ShuffleNetConfig, groups: tuple[int, ...], present: bool) -> None:
    """Where the time goes, per layer type, beside the multiply-adds; and time vs g at equal multiply-adds."""
    st.header("Where the time goes")
    predictor = page_predictor()
    if predictor is None:
        no_calibration()
        return
    prediction = predictor.predict(config)
    caption(
        f"{config.label}: {predicted_ms_text(prediction)} {by_text(predictor)}. Per layer type as the Table 8 verdict "
        "names them; multiply-adds computed here in closed form (FC included). Nothing was built or run."
    )
    if prediction.extrapolated:
        st.warning(
            "Extrapolated: this model lies outside the shapes the calibration sampled ("
            + "; ".join(prediction.extrapolation)
            + ").",
            icon="⚠️",
        )
    st.plotly_chart(
        layer_shares_figure(layer_rows(prediction), "Time vs multiply-adds, per layer type", present),
        key="layer_time_chart",
    )
    left, right = st.columns(2, gap="large")
    with left:
        rows = equal_macs_rows(config, groups, predictor)
        st.plotly_chart(
            equal_macs_figure(rows, config.groups, "Time vs g at equal multiply-adds (predicted here)", present),
            key="equal_macs_chart",
        )
    with right:
        st.markdown("**Time vs g at equal multiply-adds**")
        caption(
            f"For each g the widest width within {figure(config) / 1e6:.1f} M multiply-adds (the sidebar "
            "model's, computed here), and its predicted latency. ShuffleNet V2's guideline G2: at equal "
            "multiply-adds, more groups move more memory and take longer; the bars are what this machine's "
            f"calibration predicts ({error_text(predictor.expected_error)}). *: extrapolated. Hover a bar for "
            "its width and multiply-adds." + _uneven_groups(predictor)
        )


def _uneven_groups(predictor) -> str:
    """ONNX Runtime shares a grouped 1x1's groups out whole over the threads (``layout.imbalance``): say so."""
    if predictor.backend != "ort" or predictor.threads < 2:
        return ""
    return (
        " On ONNX Runtime a grouped 1x1 in plain NCHW runs whole groups per thread, so a g that does not share "
        f"out evenly over {predictor.threads} threads waits for its slowest thread and can take longer than a "
        "larger g."
    )


def predicted_decision(decision: Decision, backend: str) -> Decision:
    """``decision`` with every candidate's latency predicted by the kept ``backend`` calibration (unchanged without)."""
    predictor = page_predictor(backend)
    return decision if predictor is None else with_predictions(decision, predictor)
