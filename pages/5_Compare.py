"""Compare: several models side by side (ShuffleNets, MobileNet v1, AlexNet): layout and counts."""

from dataclasses import replace

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from explorer import AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from explorer.config import MOBILENET_WIDTHS
from explorer.paper import reported_for
from explorer.style import NEUTRAL, groups_color
from ui.cache import profile_or_ask
from ui.charts import compare_figure, style_figure
from ui.controls import shared_controls
from ui.page import page_setup

page_setup("Compare")
config = shared_controls()

st.title("Compare")
size = tuple(config.input_size)
size_text = f"{size[0]} × {size[1]}"

CURRENT = "Current model (sidebar)"
PRESETS: dict[str, object] = {
    "ShuffleNet 2x (g = 3)": ShuffleNetConfig(groups=3, width=2.0),
    "ShuffleNet 1.5x (g = 3)": ShuffleNetConfig(groups=3, width=1.5),
    "ShuffleNet 1x (g = 3)": ShuffleNetConfig(groups=3, width=1.0),
    "ShuffleNet 1x (g = 8)": ShuffleNetConfig(groups=8, width=1.0),
    "ShuffleNet 0.5x (g = 3)": ShuffleNetConfig(groups=3, width=0.5),
    "ShuffleNet 0.5x (arch2, g = 8)": ShuffleNetConfig(groups=8, width=0.5, variant="arch2"),
    "ShuffleNet 0.5x (shallow, g = 3)": ShuffleNetConfig(groups=3, width=0.5, variant="shallow"),
    **{f"{w:g} MobileNet v1": MobileNetConfig(width=w) for w in MOBILENET_WIDTHS},
    "AlexNet": AlexNetConfig(),
}
DEFAULT_CHOICE = [CURRENT, "0.5 MobileNet v1"]

st.caption(
    f"Every model is built and counted here at the sidebar's input size ({size_text}); the paper's numbers, where "
    "it reports the model, are in separate columns marked “reported in the paper” (at 224 × 224)."
)
choice = st.multiselect(
    "Models to compare", [CURRENT, *PRESETS], default=DEFAULT_CHOICE, key="compare_models",
    help="The paper's Table 5 pairs: 2x g3 vs 1.0 MobileNet, 1.5x vs 0.75, 1x vs 0.5, 0.5x arch2 g8 vs 0.25.",
)  # fmt: skip
with st.expander("Add a custom ShuffleNet"):
    cols = st.columns(4)
    custom_on = cols[0].toggle("Include it", key="compare_custom_on")
    custom_g = cols[1].selectbox("Groups g", (1, 2, 3, 4, 8), index=4, key="compare_custom_g")
    custom_w = cols[2].selectbox("Width (×)", (0.25, 0.5, 1.0, 1.5, 2.0), index=1, key="compare_custom_w",
                                 format_func=lambda w: f"{w:g}x")  # fmt: skip
    custom_v = cols[3].selectbox("Variant", ("standard", "arch2", "shallow"), key="compare_custom_v")


def with_input(model_config):
    """The model at the sidebar's input size (AlexNet needs at least 64 × 64)."""
    if isinstance(model_config, AlexNetConfig) and min(size) < 64:
        return None
    return replace(model_config, input_size=size)


models: list[tuple[str, object]] = []
for name in choice:
    model_config = config if name == CURRENT else with_input(PRESETS[name])
    if model_config is None:
        st.warning(f"{name} needs an input of at least 64 × 64 pixels; it is left out.")
        continue
    label = f"{config.label} (sidebar)" if name == CURRENT else name
    models.append((label, model_config))
if custom_on:
    custom = ShuffleNetConfig(groups=custom_g, width=custom_w, variant=custom_v, input_size=size)
    models.append((f"{custom.label} (custom)", custom))
unique: dict[object, str] = {}
for label, model_config in models:
    unique.setdefault(model_config, label)  # the same model twice is shown once
models = [(label, model_config) for model_config, label in unique.items()]

if len(models) < 1:
    st.info("Pick at least one model above (two or more to compare).")
    st.stop()


def latency_column(model_configs: list) -> list[str] | None:
    """Where measured latency joins the table: ``ui.latency.compare_latency_column`` when it exists.

    Contract for the latency page's owner: ``compare_latency_column(configs) -> list[str]``, one
    cell per config (e.g. "12.3 ms (measured here, 1 thread)"). Until it exists: no column.
    """
    try:
        from ui import latency  # owned by the latency page
    except ImportError:
        return None
    provider = getattr(latency, "compare_latency_column", None)
    return None if provider is None else list(provider(model_configs))


rows, colors = [], []
for label, model_config in models:
    prof = profile_or_ask(model_config, f"{label}")
    c = prof.complexity
    plan = model_config.plan() if isinstance(model_config, ShuffleNetConfig) else None
    paper = [r for r in reported_for(model_config) if r.mflops is not None or r.error is not None]
    mflops = next((r.mflops for r in paper if r.mflops is not None), None)
    error = next((r.error for r in paper if r.error is not None), None)
    rows.append({
        "Model": label,
        "Conv1 ch": str(plan.conv1_channels) if plan else "—",
        "Stage2 / 3 / 4 ch": " / ".join(map(str, plan.stage_channels)) if plan else "—",
        "Units": " + ".join(map(str, plan.stage_repeats)) if plan else "—",
        "Multiply-adds (M, paper convention)": c.conv_macs.value / 1e6,
        "Multiply-adds incl. FC (M)": c.macs_with_fc.value / 1e6,
        "PyTorch FLOPs (M)": c.torch_flops.value / 1e6,
        "Params (M)": c.params.value / 1e6,
        "Activations (M values)": c.activations.value / 1e6,
        "Reported: MFLOPs": "—" if mflops is None else f"{mflops:g}",
        "Reported: top-1 error (%)": "—" if error is None else f"{error:.1f}",
        "Reported in": ", ".join(sorted({r.table for r in paper})) or "—",
    })  # fmt: skip
    colors.append(groups_color(model_config.groups) if plan else (NEUTRAL if "MobileNet" in label else "#000000"))

frame = pd.DataFrame(rows)
latency = latency_column([m for _, m in models])
if latency is not None:
    frame.insert(9, "Latency", latency)

st.header("Side by side")
st.caption(
    "Columns up to “Activations”: computed here (conventions: paper = convolution multiply-adds only; incl. FC adds "
    "the classifier; PyTorch FLOPs = 2 per multiply-add). “Reported” columns: copied from the paper, at 224 × 224. "
    "AlexNet is built fully convolutionally, so its FC layers count as convolutions."
)


def source_of(column: str) -> str:
    if column.startswith("Reported"):
        return "reported in the paper"
    return "measured here" if column == "Latency" else "computed here"


def cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


# Models as columns, figures as rows: stays readable for two to six models.
side_by_side = pd.DataFrame(
    [
        {"Figure": column, "Source": source_of(column), **{m: cell(v) for m, v in zip(frame["Model"], frame[column])}}
        for column in frame.columns
        if column != "Model"
    ]
)
st.dataframe(side_by_side, hide_index=True, width="stretch", height="content",
             column_config={"Figure": st.column_config.TextColumn(pinned=True)})  # fmt: skip
st.download_button("Download the comparison (CSV)", frame.to_csv(index=False), "comparison.csv", "text/csv")

left, right = st.columns(2, gap="large")
with left:
    st.plotly_chart(
        compare_figure(rows, colors, "Multiply-adds (M, paper convention)",
                       "Multiply-adds (millions, paper convention)", "Multiply-adds, computed here"),
        key="compare_macs",
    )  # fmt: skip
with right:
    st.plotly_chart(
        compare_figure(rows, colors, "Params (M)", "Parameters (millions)", "Parameters, computed here"),
        key="compare_params",
    )

shufflenets = [(label, m) for label, m in models if isinstance(m, ShuffleNetConfig)]
if shufflenets:
    st.header("Layout: output channels per stage")
    figure = go.Figure()
    for label, m in shufflenets:
        plan = m.plan()
        figure.add_trace(go.Bar(
            name=label, x=["Conv1", "Stage2", "Stage3", "Stage4"], y=[plan.conv1_channels, *plan.stage_channels],
            marker={"color": groups_color(m.groups)}, text=[plan.conv1_channels, *plan.stage_channels],
            textposition="outside",
        ))  # fmt: skip
    figure.update_layout(barmode="group")
    st.plotly_chart(style_figure(figure, "Output channels, computed here", "Stage", "Output channels (count)"),
                    key="compare_channels")  # fmt: skip
    if len({m.groups for _, m in shufflenets}) < len(shufflenets):
        st.caption("Bars are coloured by g, so two models with the same g share a colour; hover for the names.")
