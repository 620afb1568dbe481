"""Compare: several models side by side (ShuffleNets, MobileNet v1, AlexNet): layout and counts."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from explorer import AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from explorer.paper import reported_for
from explorer.shufflenet import ALEXNET_MIN_SIDE, MOBILENET_WIDTHS, ModelConfig
from ui.cache import counting_refusal, profile_or_ask
from ui.charts import compare_figure, stage_channels_figure
from ui.controls import shared_controls
from ui.latency import compare_latency_column, model_color
from ui.page import page_setup
from ui.presentation import caption, download_button
from ui.text import input_size_text

CURRENT = "Current model (sidebar)"
PRESETS: dict[str, ModelConfig] = {
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
LATENCY_POSITION = 9  # the measured column goes right after the computed ones


def model_controls(size: tuple[int, int]) -> tuple[list[str], ShuffleNetConfig | None]:
    """The chosen presets, and the custom ShuffleNet at ``size`` when it is included."""
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
    if not custom_on:
        return choice, None
    return choice, ShuffleNetConfig(groups=custom_g, width=custom_w, variant=custom_v, input_size=size)


def chosen_models(config: ShuffleNetConfig, choice: list[str], custom: ShuffleNetConfig | None
                  ) -> list[tuple[str, ModelConfig]]:
    """(label, config) of every chosen model at the sidebar's input size, each model once."""
    size = tuple(config.input_size)
    models: list[tuple[str, ModelConfig]] = []
    for name in choice:
        if name == CURRENT:
            models.append((f"{config.label} (sidebar)", config))
        elif isinstance(PRESETS[name], AlexNetConfig) and min(size) < ALEXNET_MIN_SIDE:
            st.warning(f"{name} needs an input of at least {ALEXNET_MIN_SIDE} × {ALEXNET_MIN_SIDE} pixels; it is left out.")
        else:
            models.append((name, replace(PRESETS[name], input_size=size)))
    if custom is not None:
        models.append((f"{custom.label} (custom)", custom))
    unique: dict[ModelConfig, str] = {}
    for label, model_config in models:
        unique.setdefault(model_config, label)  # the same model twice is shown once
    return [(label, model_config) for model_config, label in unique.items() if fits_or_warn(label, model_config)]


def fits_or_warn(label: str, model_config: ModelConfig) -> bool:
    """A model over the resource limits is left out of the comparison (with why), not the whole page."""
    refusal = counting_refusal(model_config)
    if refusal is not None:
        st.warning(f"{label} is left out. {refusal}")
    return refusal is None


def comparison_row(label: str, model_config: ModelConfig) -> dict:
    """One model's figures: computed here (built and counted), then what the paper reports."""
    c = profile_or_ask(model_config).complexity
    plan = model_config.plan() if isinstance(model_config, ShuffleNetConfig) else None
    paper = [r for r in reported_for(model_config) if r.mflops is not None or r.error is not None]
    mflops = next((r.mflops for r in paper if r.mflops is not None), None)
    error = next((r.error for r in paper if r.error is not None), None)
    return {
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
    }  # fmt: skip


def source_of(column: str) -> str:
    if column.startswith("Reported"):
        return "reported in the paper"
    return "measured here" if column == "Latency" else "computed here"


def cell(value: object) -> str:
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def side_by_side_section(frame: pd.DataFrame) -> None:
    st.header("Side by side")
    caption(
        "Columns up to “Activations”: computed here (conventions: paper = convolution multiply-adds only; incl. FC "
        "adds the classifier; PyTorch FLOPs = 2 per multiply-add). “Reported” columns: copied from the paper, at "
        "224 × 224. AlexNet is built fully convolutionally, so its FC layers count as convolutions."
    )
    # Models as columns, figures as rows: stays readable for two to six models.
    side_by_side = pd.DataFrame(
        [
            {"Figure": column, "Source": source_of(column),
             **{m: cell(v) for m, v in zip(frame["Model"], frame[column])}}
            for column in frame.columns
            if column != "Model"
        ]
    )  # fmt: skip
    st.dataframe(side_by_side, hide_index=True, width="stretch", height="content",
                 column_config={"Figure": st.column_config.TextColumn(pinned=True)})  # fmt: skip
    download_button("Download the comparison (CSV)", frame.to_csv(index=False), "comparison.csv", "text/csv")


def charts_section(rows: list[dict], colors: list[str], present: bool) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(
            compare_figure(rows, colors, "Multiply-adds (M, paper convention)",
                           "Multiply-adds (millions, paper convention)", "Multiply-adds, computed here", present),
            key="compare_macs",
        )  # fmt: skip
    with right:
        st.plotly_chart(
            compare_figure(rows, colors, "Params (M)", "Parameters (millions)", "Parameters, computed here", present),
            key="compare_params",
        )


def layout_section(models: list[tuple[str, ModelConfig]], present: bool) -> None:
    shufflenets = [(label, m) for label, m in models if isinstance(m, ShuffleNetConfig)]
    if not shufflenets:
        return
    st.header("Layout: output channels per stage")
    st.plotly_chart(stage_channels_figure(shufflenets, "Output channels, computed here", present), key="compare_channels")
    if len({m.groups for _, m in shufflenets}) < len(shufflenets):
        caption("Bars are coloured by g, so two models with the same g share a colour; hover for the names.")


def main() -> None:
    present = page_setup("Compare")
    config = shared_controls()
    st.title("Compare")
    caption(
        f"Every model is built and counted here at the sidebar's input size ({input_size_text(config.input_size)}); "
        "the paper's numbers, where it reports the model, are in separate columns marked “reported in the paper” "
        "(at 224 × 224)."
    )
    choice, custom = model_controls(tuple(config.input_size))
    models = chosen_models(config, choice, custom)
    if not models:
        st.info("Pick at least one model above (two or more to compare).")
        return
    rows = [comparison_row(label, model_config) for label, model_config in models]
    frame = pd.DataFrame(rows)
    frame.insert(LATENCY_POSITION, "Latency", compare_latency_column([m for _, m in models]))
    side_by_side_section(frame)
    charts_section(rows, [model_color(m) for _, m in models], present)
    layout_section(models, present)


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
