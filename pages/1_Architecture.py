"""Architecture: Table 1 of the current model (computed) beside the paper's, units and diagrams."""

import logging

import pandas as pd
import streamlit as st

from explorer import ShuffleNetConfig
from explorer.counting import ModelCounts
from explorer.counting.tables import LAYOUT_COLUMNS, layout_records, unit_records
from explorer.paper import has_paper_table1, layout_differences, paper_table1_records
from ui.figures.diagram_view import show_diagram
from ui.figures.diagrams import network_dot, unit_dot, unit_input_size
from ui.shell.cache import cached_onnx, counts_or_ask
from ui.shell.controls import shared_controls
from ui.shell.page import config_slug, page_setup
from ui.shell.presentation import caption, diagram_downloads, download_button
from ui.shell.style import HIGHLIGHT
from ui.shell.text import input_size_text, shown_value

log = logging.getLogger("ui.pages.architecture")  # pages run as __main__; name the logger after the page

# Pixel widths that fit Table 1's seven columns in half of a wide page.
COLUMN_WIDTHS = {
    "Layer": 82,
    "Output size": 82,
    "KSize": 50,
    "Stride": 50,
    "Repeat": 54,
    "Output channels": 104,
    "Paper": 48,
}
NARROW = {name: st.column_config.TextColumn(name, width=px) for name, px in COLUMN_WIDTHS.items()}
ONNX_KEY = "architecture.onnx_for"


def layout_frame(records: list[dict]) -> pd.DataFrame:
    """Table 1 rows as text, empty cells blank rather than "None"."""
    rows = [{c: "" if r[c] is None else str(r[c]) for c in LAYOUT_COLUMNS} for r in records]
    return pd.DataFrame(rows, columns=list(LAYOUT_COLUMNS))


def difference_styles(frame: pd.DataFrame, differences: list[dict]) -> pd.DataFrame:
    """CSS per cell: highlight every cell that differs from the paper's Table 1."""
    styles = pd.DataFrame("", index=frame.index, columns=frame.columns)
    for i, row in enumerate(differences[: len(frame)]):
        for column, differs in row.items():
            if differs:
                styles.loc[i, column] = f"background-color: {HIGHLIGHT}33; font-weight: bold"
    return styles


def paper_comparison(config: ShuffleNetConfig, computed: list[dict], computed_frame: pd.DataFrame) -> None:
    paper = paper_table1_records(config.groups)
    differences = layout_differences(computed, paper)
    computed_frame["Paper"] = ["✗" if any(row.values()) else "✓" for row in differences]
    mismatches = sum(any(row.values()) for row in differences)
    left, right = st.columns([8, 7], gap="medium")
    with left:
        st.subheader("Computed here")
        caption("Read off the built PyTorch model (forward hooks). Column *Paper*: ✓ where the row matches.")
        st.dataframe(
            computed_frame.style.apply(difference_styles, differences=differences, axis=None),
            hide_index=True,
            width="stretch",
            height="content",
            column_config=NARROW,
        )
    with right:
        st.subheader("Reported in the paper")
        caption(f"Zhang et al., Table 1, the g = {config.groups} column (width 1×, 224 × 224).")
        st.dataframe(layout_frame(paper), hide_index=True, width="stretch", height="content", column_config=NARROW)
    if mismatches:
        st.warning(f"{mismatches} row(s) differ from the paper's Table 1 (highlighted).")
    else:
        st.success("Every row matches the paper's Table 1.")


def computed_only(computed_frame: pd.DataFrame) -> None:
    st.subheader("Computed here")
    caption("Read off the built PyTorch model (forward hooks).")
    st.dataframe(computed_frame, hide_index=True, width="stretch", height="content", column_config=NARROW)
    st.info(
        "The paper's Table 1 covers g = 1, 2, 3, 4, 8 at width 1×, 224 × 224, standard variant; this model has "
        "no reported layout to compare with. Pick one of those in the sidebar to see the paper's column beside it."
    )


def table1_section(config: ShuffleNetConfig, prof: ModelCounts, slug: str) -> None:
    computed = layout_records(prof.layout)
    computed_frame = layout_frame(computed)
    st.header("Table 1: overall architecture")
    if has_paper_table1(config):
        paper_comparison(config, computed, computed_frame)
    else:
        computed_only(computed_frame)
    plan = prof.plan
    if plan is not None and plan.widen != 1.0:
        caption(
            f"The {config.variant} variant has fewer units, so its stages are widened by a factor of {plan.widen:.3f} "
            "(solved so that its multiply-adds match the standard model at the same g and width)."
        )
    download_button("Download the layout (CSV)", computed_frame.to_csv(index=False), f"{slug}_layout.csv", "text/csv")


def units_section(prof: ModelCounts, slug: str) -> None:
    st.header("Units")
    units_frame = pd.DataFrame(unit_records(prof.units))
    caption(
        "One row per ShuffleNet unit, computed here from the built model. Multiply-adds: paper convention "
        "(convolutions only), counted by fvcore; parameters include BN."
    )
    st.dataframe(
        units_frame,
        hide_index=True,
        width="stretch",
        height="content",
        column_config={
            "Multiply-adds": st.column_config.NumberColumn("Multiply-adds", format="localized"),
            "Params": st.column_config.NumberColumn("Params", format="localized"),
        },
    )
    download_button("Download the units (CSV)", units_frame.to_csv(index=False), f"{slug}_units.csv", "text/csv")


def onnx_section(config: ShuffleNetConfig, slug: str) -> None:
    """Exports only on a click: the button's config is remembered, so later reruns keep the download."""
    st.subheader("The model as ONNX")
    caption(
        "The PyTorch model of this page exported with `explorer.latency.export` (opset 17, dynamic batch, height and "
        "width; checked with `onnx.checker`). Its weights are random: it has the architecture, not a trained network."
    )
    if st.button("Export to ONNX", key="onnx_export"):
        st.session_state[ONNX_KEY] = config
    if st.session_state.get(ONNX_KEY) != config:
        return
    with st.spinner("Exporting to ONNX (a few seconds)…"):
        try:
            onnx_bytes = cached_onnx(config)
        except Exception as error:  # noqa: BLE001 - exporter failures become a message, not a traceback
            log.exception("ONNX export failed for %s", config.label)
            st.error(
                f"The ONNX export failed ({type(error).__name__}: {shown_value(error, 200)}); "
                "the details are in the server log."
            )
            return
    download_button(
        f"Download {slug}.onnx ({len(onnx_bytes) / 1e6:.1f} MB)",
        onnx_bytes,
        f"{slug}.onnx",
        "application/octet-stream",
        key="onnx_download",
    )


def network_section(config: ShuffleNetConfig, prof: ModelCounts, slug: str, present: bool) -> None:
    st.header("Block diagrams")
    st.subheader("The network")
    network = network_dot(config, prof.layout, prof.units, present=present)
    show_diagram(network, f"Block diagram of {config.label}: stem, Stage2-4 and classifier", "network")
    diagram_downloads(network, f"{slug}_network", "Network", "network")


def unit_diagram(prof: ModelCounts, index: int, name: str, slug: str, present: bool) -> None:
    stem_size = next(row.output_size for row in prof.layout if row.layer == "MaxPool")
    dot = unit_dot(prof.units[index], unit_input_size(prof.units, index, stem_size), present=present)
    unit = prof.units[index]
    show_diagram(dot, f"Unit diagram: Stage{unit.stage}, unit {unit.unit} (stride {unit.stride})", name)
    diagram_downloads(dot, f"{slug}_{name}", "Unit", name)


def unit_section(config: ShuffleNetConfig, prof: ModelCounts, slug: str, present: bool) -> None:
    st.subheader("One unit (Fig. 2b and 2c, with this model's numbers)")
    stage = st.radio("Stage", (2, 3, 4), index=1, format_func=lambda s: f"Stage{s}", horizontal=True, key="arch_stage")
    indices = [i for i, u in enumerate(prof.units) if u.stage == stage]
    stride1 = [i for i in indices if prof.units[i].stride == 1]
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("**Stride 1** (Fig. 2b): identity shortcut, add.")
        if stride1:
            unit_diagram(prof, stride1[0], f"stage{stage}_stride1_unit", slug, present)
        else:
            st.info(f"Stage{stage} of the {config.variant} variant has no stride-1 unit.")
    with right:
        st.markdown("**Stride 2** (Fig. 2c): average-pooled shortcut, concat.")
        unit_diagram(prof, indices[0], f"stage{stage}_stride2_unit", slug, present)
    if not config.shuffle:
        caption("Channel shuffle is off (the Table 3 ablation): the units have no shuffle step.")
    elif config.groups == 1:
        caption("With g = 1 there is nothing to shuffle: the units have no shuffle step.")
    caption("Coloured cells: channel groups, one colour per group (the same colours on every page).")


def main() -> None:
    present = page_setup("Architecture")
    config = shared_controls()
    st.title("Architecture")
    caption(f"{config.label}, input {input_size_text(config.input_size)} pixels.")
    prof = counts_or_ask(config)
    slug = config_slug(config)
    table1_section(config, prof, slug)
    units_section(prof, slug)
    if not present:  # an export to download: nothing to show a class
        onnx_section(config, slug)
    network_section(config, prof, slug, present)
    unit_section(config, prof, slug, present)


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
