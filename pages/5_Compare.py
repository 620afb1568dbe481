"""Compare: several models side by side (ShuffleNets, MobileNet v1, AlexNet): layout, counts, latency measured
from the page, and where the paper puts them in error vs complexity."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from explorer import VARIANTS, AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from explorer import latency as lat
from explorer.paper import point_for, reported_for
from explorer.shufflenet import ALEXNET_MIN_SIDE, MAX_GROUPS, MOBILENET_WIDTHS, WIDTH_RANGE, ModelConfig
from explorer.sizing import DEFAULT_BACKEND
from ui.figures.shared import compare_figure, stage_channels_figure, tradeoff_figure
from ui.latency.chart import model_color
from ui.latency.job_view import current_job, job_view
from ui.latency.jobs import job_registry, result_store
from ui.latency.predicted import COMPARE_ROW, compare_predictions
from ui.latency.tables import compare_latency_column, failures_markdown, refused
from ui.shell.cache import counting_refusal, counts_or_ask
from ui.shell.controls import shared_controls
from ui.shell.page import page_setup
from ui.shell.presentation import caption, download_button
from ui.shell.text import input_size_text

CURRENT = "Current model (sidebar)"
PRESETS: dict[str, ModelConfig] = {
    "ShuffleNet 2x (g = 3)": ShuffleNetConfig(groups=3, width=2.0),
    "ShuffleNet 1.5x (g = 3)": ShuffleNetConfig(groups=3, width=1.5),
    "ShuffleNet 1x (g = 3)": ShuffleNetConfig(groups=3, width=1.0),
    "ShuffleNet 1x (g = 8)": ShuffleNetConfig(groups=8, width=1.0),
    "ShuffleNet 0.5x (g = 3)": ShuffleNetConfig(groups=3, width=0.5),
    "ShuffleNet 0.5x (arch2, g = 8)": ShuffleNetConfig(groups=8, width=0.5, variant="arch2"),
    "ShuffleNet 0.5x (shallow, g = 3)": ShuffleNetConfig(groups=3, width=0.5, variant="shallow"),
    **{MobileNetConfig(width=w).label: MobileNetConfig(width=w) for w in MOBILENET_WIDTHS},
    "AlexNet": AlexNetConfig(),
}
DEFAULT_CHOICE = [CURRENT, "0.5 MobileNet v1"]
CUSTOMS_KEY = "compare_customs"  # {label: ShuffleNetConfig}: custom ShuffleNets added in this session
LATENCY_POSITION = 9  # the measured column goes right after the computed ones
JOB_KEY = "compare_job"
MIN_TIMES = (0.02, 0.1, 0.25, 0.5, 1.0, 2.0)


def add_custom() -> None:
    """on_click of "Add": the custom inputs become a model of the multiselect, selected."""
    state = st.session_state
    config = ShuffleNetConfig(
        groups=int(state["compare_custom_g"]),
        width=round(float(state["compare_custom_w"]), 2),
        variant=state["compare_custom_v"],
        shuffle=bool(state["compare_custom_shuffle"]),
    )
    label = f"{config.label} (custom)"
    state[CUSTOMS_KEY] = {**state.get(CUSTOMS_KEY, {}), label: config}
    chosen = list(state.get("compare_models", DEFAULT_CHOICE))
    state["compare_models"] = chosen if label in chosen else [*chosen, label]


def model_controls() -> tuple[list[str], dict[str, ShuffleNetConfig]]:
    """The chosen models' names, and the custom ShuffleNets added in this session (at 224 × 224)."""
    customs = st.session_state.get(CUSTOMS_KEY, {})
    st.session_state.setdefault("compare_models", list(DEFAULT_CHOICE))
    choice = st.multiselect(
        "Models to compare",
        [CURRENT, *PRESETS, *customs],
        key="compare_models",
        help="The paper's Table 5 pairs: 2x g3 vs 1.0 MobileNet, 1.5x vs 0.75, 1x vs 0.5, 0.5x arch2 g8 vs 0.25.",
    )
    with st.expander("Add a custom ShuffleNet (any g and width the sidebar allows)"):
        cols = st.columns([1, 1, 1, 1, 1], vertical_alignment="bottom")
        cols[0].number_input(f"Groups g (1–{MAX_GROUPS})", 1, MAX_GROUPS, 8, step=1, key="compare_custom_g")
        cols[1].number_input(
            f"Width ({WIDTH_RANGE[0]:g}–{WIDTH_RANGE[1]:g}×)",
            WIDTH_RANGE[0],
            WIDTH_RANGE[1],
            0.5,
            step=0.05,
            format="%.2f",
            key="compare_custom_w",
        )
        cols[2].selectbox("Variant", VARIANTS, key="compare_custom_v")
        cols[3].toggle("Channel shuffle", value=True, key="compare_custom_shuffle")
        cols[4].button("Add to the comparison", on_click=add_custom, key="compare_custom_add")
    return choice, customs


def chosen_models(
    config: ShuffleNetConfig, choice: list[str], customs: dict[str, ShuffleNetConfig]
) -> list[tuple[str, ModelConfig]]:
    """(label, config) of every chosen model at the sidebar's input size, each model once."""
    size = tuple(config.input_size)
    models: list[tuple[str, ModelConfig]] = []
    for name in choice:
        if name == CURRENT:
            models.append((f"{config.label} (sidebar)", config))
        elif name in customs:
            models.append((name, replace(customs[name], input_size=size)))
        elif name not in PRESETS:
            continue
        elif isinstance(PRESETS[name], AlexNetConfig) and min(size) < ALEXNET_MIN_SIDE:
            st.warning(
                f"{name} needs an input of at least {ALEXNET_MIN_SIDE} × {ALEXNET_MIN_SIDE} pixels; it is left out."
            )
        else:
            models.append((name, replace(PRESETS[name], input_size=size)))
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
    c = counts_or_ask(model_config).complexity
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
    }


def source_of(column: str) -> str:
    if column.startswith("Reported"):
        return "reported in the paper"
    if column == COMPARE_ROW:
        return "predicted here (not measured)"
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
            {
                "Figure": column,
                "Source": source_of(column),
                **{m: cell(v) for m, v in zip(frame["Model"], frame[column])},
            }
            for column in frame.columns
            if column != "Model"
        ]
    )
    st.dataframe(
        side_by_side,
        hide_index=True,
        width="stretch",
        height="content",
        column_config={"Figure": st.column_config.TextColumn(pinned=True)},
    )
    download_button("Download the comparison (CSV)", frame.to_csv(index=False), "comparison.csv", "text/csv")


def charts_section(rows: list[dict], colors: list[str], present: bool) -> None:
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(
            compare_figure(
                rows,
                colors,
                "Multiply-adds (M, paper convention)",
                "Multiply-adds (millions, paper convention)",
                "Multiply-adds, computed here",
                present,
            ),
            key="compare_macs",
        )
    with right:
        st.plotly_chart(
            compare_figure(rows, colors, "Params (M)", "Parameters (millions)", "Parameters, computed here", present),
            key="compare_params",
        )


def latency_section(models: list[tuple[str, ModelConfig]]) -> None:
    """Measure the compared models here, with the Latency page's job machinery; results go to the shared store."""
    st.header("Latency, measured here")
    registry, store, threads = job_registry(), result_store(), lat.default_threads()
    job = current_job(registry, JOB_KEY)
    busy = job is not None and job.active
    left, right = st.columns(2)
    backend = left.selectbox(
        "Backend",
        list(lat.BACKENDS),
        index=list(lat.BACKENDS).index(DEFAULT_BACKEND),
        format_func=lambda b: lat.BACKENDS[b].label,
        key="compare_backend",
    )
    min_time = right.select_slider("Seconds of timed runs per model", MIN_TIMES, value=1.0, key="compare_min_time")
    items = [(model_config, backend) for _, model_config in models]
    caption(
        f"{threads} threads, batch 1, one model after the other behind the server's measurement lock (the "
        "Latency page's settings and result store); the “Latency” row above shows the fastest measured."
    )
    if st.button(f"Measure these {len(items)} models", key="compare_measure", disabled=busy):
        refusal = refused([(m, [backend]) for m, _ in items], 1)
        if refusal:
            st.error(refusal)
        else:
            st.session_state[JOB_KEY] = registry.start("Compare", items, threads, 1, float(min_time), store).id
            st.rerun()
    job = job_view(registry, JOB_KEY, "compare_latency")
    if job is not None and not job.active and job.failures:
        st.warning("Not measured:\n\n" + failures_markdown(job.failures), icon="⚠️")


def tradeoff_section(models: list[tuple[str, ModelConfig]], present: bool) -> None:
    st.header("Error vs complexity, as the paper reports it")
    marked = tuple((label, point) for label, m in models if (point := point_for(m)) is not None)
    st.plotly_chart(tradeoff_figure(None, marked, present), key="compare_tradeoff")
    caption(
        "Every model the paper reports with a top-1 error and a complexity (Tables 2, 3, 5, 6), at 224 × 224, "
        "all reported in the paper; the stars are the compared models the paper reports. Table 3's rows "
        "without shuffle sit at the complexity reported for the same architecture with shuffle."
    )


def layout_section(models: list[tuple[str, ModelConfig]], present: bool) -> None:
    shufflenets = [(label, m) for label, m in models if isinstance(m, ShuffleNetConfig)]
    if not shufflenets:
        return
    st.header("Layout: output channels per stage")
    st.plotly_chart(
        stage_channels_figure(shufflenets, "Output channels, computed here", present), key="compare_channels"
    )
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
    choice, customs = model_controls()
    models = chosen_models(config, choice, customs)
    if not models:
        st.info("Pick at least one model above (two or more to compare).")
        return
    rows = [comparison_row(label, model_config) for label, model_config in models]
    frame = pd.DataFrame(rows)
    frame.insert(LATENCY_POSITION, "Latency", compare_latency_column([m for _, m in models]))
    frame.insert(LATENCY_POSITION + 1, COMPARE_ROW, compare_predictions([m for _, m in models], result_store()))
    side_by_side_section(frame)
    latency_section(models)
    charts_section(rows, [model_color(m) for _, m in models], present)
    tradeoff_section(models, present)
    layout_section(models, present)


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
