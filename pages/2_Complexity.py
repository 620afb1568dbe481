"""Complexity: counts of the current model (computed), the paper's numbers (reported), sweeps, budget."""

import pandas as pd
import streamlit as st

from explorer import CONVENTIONS, PAPER_GROUPS, ShuffleNetConfig
from explorer.counting import Complexity
from explorer.counting.tables import complexity_records, si
from explorer.paper import SOURCE, Reported, reported_for, reported_mflops, residual_note
from explorer.shufflenet import REFERENCE_INPUT, WIDTH_RANGE
from ui.cache import cached_budget, cached_sweep, profile_or_ask
from ui.charts import budget_figure, groups_bar_figure, stage_figure, sweep_figure
from ui.controls import shared_controls
from ui.page import config_slug, page_setup
from ui.presentation import caption, download_button
from ui.text import input_size_text

SHOWN = ("conv_macs", "torch_flops", "params", "activations")
SWEEP_WIDTHS = [0.25 + 0.125 * i for i in range(15)]  # 0.25 ... 2.0, includes the paper's widths


def computed_section(config: ShuffleNetConfig, counts: Complexity) -> None:
    st.header("Computed here")
    caption("Counted on the model built in this app (fvcore and forward hooks), batch of one image.")
    for column, key in zip(st.columns(len(SHOWN)), SHOWN):
        figure = getattr(counts, key)
        with column:
            st.metric(figure.label, si(figure.value), help=figure.convention, border=True)
            caption(f"**In {figure.unit}.** {figure.convention}")
    with st.expander("Every count and its convention"):
        records = complexity_records(counts)
        st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch",
                     column_config={"Value": st.column_config.NumberColumn("Value", format="localized")})  # fmt: skip
        download_button(
            "Download the counts (CSV)", pd.DataFrame(records).to_csv(index=False),
            f"{config_slug(config)}_complexity.csv", "text/csv",
        )  # fmt: skip


def reported_frame(reported: tuple[Reported, ...]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Table": r.table,
                "Paper's row": r.model,
                "Complexity (MFLOPs = M multiply-adds)": "—" if r.mflops is None else f"{r.mflops:g}",
                "Top-1 error (%)": "—" if r.error is None else f"{r.error:.1f}",
            }
            for r in reported
        ]
    )


def residual(config: ShuffleNetConfig, counts: Complexity, paper_mflops: float) -> None:
    """The computed count against the paper's, only at the paper's own 224 × 224 input."""
    computed_m = counts.conv_macs.value / 1e6
    if tuple(config.input_size) != REFERENCE_INPUT:
        st.info(
            f"The paper reports {paper_mflops:g} M multiply-adds at 224 × 224; this model's input is "
            f"{input_size_text(config.input_size)}, so the two are not compared (set the input to 224 × 224 to see "
            "the residual)."
        )
        return
    difference = (computed_m - paper_mflops) / paper_mflops * 100
    cols = st.columns(3)
    cols[0].metric(f"Reported in the paper ({CONVENTIONS['conv_macs'].unit})", f"{paper_mflops:g} M")
    cols[1].metric(f"Computed here ({CONVENTIONS['conv_macs'].label})", f"{computed_m:.2f} M")
    cols[2].metric("Computed vs reported", f"{difference:+.1f} %", help="(computed − reported) / reported")
    note = residual_note(config)
    if note:
        st.info(note)
    elif abs(difference) > 5:
        st.warning("The computed count is more than 5% away from the paper's, with no known reason.")


def reported_section(config: ShuffleNetConfig, counts: Complexity) -> None:
    st.header("Reported in the paper")
    reported = reported_for(config)
    if not reported:
        st.info(
            "The paper reports no numbers for this configuration. Its tables cover g = 1, 2, 3, 4, 8 at widths 0.25×, "
            "0.5×, 1×, 1.5× and 2× (standard), arch2 at 0.25× and 0.5×, shallow at 0.5× (g = 3), and the shuffle "
            "ablation of Table 3."
        )
        return
    caption(
        f"{SOURCE}. Complexity is the paper's “MFLOPs”, i.e. millions of multiply-adds (paper convention); "
        "errors are ImageNet top-1, which this app cannot reproduce on a CPU."
    )
    st.dataframe(reported_frame(reported), hide_index=True, width="stretch")
    paper_mflops = reported_mflops(config)
    if paper_mflops is not None:
        residual(config, counts, paper_mflops)


def sweep_section(config: ShuffleNetConfig, groups: tuple[int, ...], present: bool) -> None:
    st.header("Across g and width")
    widths = tuple(sorted(set(SWEEP_WIDTHS) | {config.width}))
    with st.spinner("Sweeping widths…"):
        sweep = cached_sweep(groups, widths, config.variant, tuple(config.input_size))
    current = next(r for r in sweep if r["groups"] == config.groups and r["width"] == config.width)
    caption(
        "Computed here with the closed-form count (the paper's own arithmetic, `explorer.shufflenet.plan`), which the tests "
        "verify equals fvcore's count of the built models; paper convention (convolutions only, FC excluded), "
        f"{config.variant} variant, input {input_size_text(config.input_size)}. The diamond is the current model."
    )
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(
            sweep_figure(sweep, config.groups, config.width, current["macs"], "Multiply-adds vs width", present),
            key="sweep_chart",
        )
    with right:
        at_width = [r for r in sweep if r["width"] == config.width]
        st.plotly_chart(
            groups_bar_figure(at_width, config.groups, f"Multiply-adds vs g at width {config.width:g}×", present),
            key="groups_chart",
        )


def stages_section(config: ShuffleNetConfig, counts: Complexity, present: bool) -> None:
    st.header("Where the multiply-adds go")
    caption(
        "Computed here by fvcore on the built model, per top-level block; the FC layer is shown apart because the "
        "paper's count leaves it out."
    )
    st.plotly_chart(stage_figure(counts.per_stage_macs, config.groups, "Multiply-adds per stage", present),
                    key="stage_chart")  # fmt: skip


def budget_frame(answers: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "Groups g": a["groups"],
                "Widest width (×)": "over budget" if a["width"] is None else f"{a['width']:.2f}",
                "Multiply-adds (M)": "—" if a["macs"] is None else f"{a['macs'] / 1e6:.2f}",
                "Conv1 / Stage2 / 3 / 4 channels": "—"
                if a["stage_channels"] is None
                else " / ".join(map(str, (a["conv1_channels"], *a["stage_channels"]))),
            }
            for a in answers
        ]
    )


def budget_section(config: ShuffleNetConfig, groups: tuple[int, ...], present: bool) -> None:
    st.header("What fits a budget?")
    caption(
        "For a budget of N million multiply-adds (the paper's “MFLOPs”), the widest width multiplier (in steps of "
        f"0.01, up to {WIDTH_RANGE[1]:g}×) each g can afford, for the sidebar's variant and input size. Computed here "
        "with the closed-form count."
    )
    budget = st.number_input(
        "Budget (millions of multiply-adds, paper convention)", min_value=1.0, max_value=20000.0, value=140.0,
        step=10.0, format="%g", key="complexity_budget",
    )  # fmt: skip
    with st.spinner("Solving widths…"):
        answers = cached_budget(float(budget) * 1e6, config.variant, groups, tuple(config.input_size))
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.dataframe(budget_frame(answers), hide_index=True, width="stretch")
        if all(a["width"] is None for a in answers):
            st.warning(f"Even the narrowest width ({WIDTH_RANGE[0]:g}×) needs more than {budget:g} M multiply-adds.")
    with right:
        st.plotly_chart(budget_figure(answers, float(budget), "Widest width per g", present), key="budget_chart")


def main() -> None:
    present = page_setup("Complexity")
    config = shared_controls()
    st.title("Complexity")
    caption(f"{config.label}, input {input_size_text(config.input_size)} pixels, one image.")
    counts = profile_or_ask(config).complexity
    groups = tuple(sorted(set(PAPER_GROUPS) | {config.groups}))  # the paper's g and the sidebar's
    computed_section(config, counts)
    reported_section(config, counts)
    sweep_section(config, groups, present)
    stages_section(config, counts, present)
    budget_section(config, groups, present)


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
