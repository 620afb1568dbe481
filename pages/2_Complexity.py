"""Complexity: counts of the current model (computed), the paper's numbers (reported), sweeps, a budget decision,
and error vs complexity as the paper reports it."""

import pandas as pd
import streamlit as st

from explorer import CONVENTIONS, PAPER_GROUPS, VARIANTS, ShuffleNetConfig
from explorer import latency as lat
from explorer.counting import Complexity
from explorer.counting.tables import complexity_records, si
from explorer.paper import SOURCE, Reported, point_for, reported_for, reported_mflops, residual_note
from explorer.shufflenet import REFERENCE_INPUT, WIDTH_RANGE
from explorer.sizing import DEFAULT_BACKEND, SEARCH_MIN_TIME, Decision
from explorer.sizing.predicted import missing_text
from ui.figures.shared import stage_figure, sweep_figures, tradeoff_figure
from ui.latency.job_view import current_job, job_view
from ui.latency.jobs import job_registry, result_store
from ui.shell.cache import cached_decision, counts_or_ask, with_stored_latency
from ui.shell.controls import shared_controls
from ui.shell.page import config_slug, page_setup
from ui.shell.presentation import caption, download_button
from ui.shell.text import input_size_text, shown_value
from ui.sizing.decision import DECISION_COLUMNS, decision_frame, latency_budget_task, over_frame, recommendation_links
from ui.sizing.predicted_view import latency_sweep, page_predictor, predicted_decision, time_section

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
        st.dataframe(
            pd.DataFrame(records),
            hide_index=True,
            width="stretch",
            column_config={"Value": st.column_config.NumberColumn("Value", format="localized")},
        )
        download_button(
            "Download the counts (CSV)",
            pd.DataFrame(records).to_csv(index=False),
            f"{config_slug(config)}_complexity.csv",
            "text/csv",
        )


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
        sweep_chart, groups_chart = sweep_figures(
            groups,
            widths,
            config.variant,
            tuple(config.input_size),
            config.groups,
            config.width,
            ("Multiply-adds vs width", f"Multiply-adds vs g at width {config.width:g}×"),
            present,
        )
    caption(
        "Computed here with the closed-form count (the paper's own arithmetic, `explorer.shufflenet.plan`), which the tests "
        "verify equals fvcore's count of the built models; paper convention (convolutions only, FC excluded), "
        f"{config.variant} variant, input {input_size_text(config.input_size)}. The diamond is the current model."
    )
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(sweep_chart, key="sweep_chart")
    with right:
        st.plotly_chart(groups_chart, key="groups_chart")
    latency_sweep(config, groups, widths, result_store(), present)


def stages_section(config: ShuffleNetConfig, counts: Complexity, present: bool) -> None:
    st.header("Where the multiply-adds go")
    caption(
        "Computed here by fvcore on the built model, per top-level block; the FC layer is shown apart because the "
        "paper's count leaves it out."
    )
    st.plotly_chart(
        stage_figure(counts.per_stage_macs, config.groups, "Multiply-adds per stage", present), key="stage_chart"
    )


BUDGET_KINDS = {"mflops": "Multiply-adds (M)", "params": "Parameters (M)", "ms": "Latency (ms, on this server)"}
BUDGET_INPUTS = {  # kind: (widget key, min, max, default, step)
    "mflops": ("complexity_budget", 1.0, 20000.0, 140.0, 10.0),
    "params": ("complexity_budget_params", 0.05, 100.0, 1.5, 0.1),
    "ms": ("complexity_budget_ms", 0.1, 10000.0, 5.0, 0.5),
}
JOB_KEY = "complexity_budget_job"


def budget_controls() -> tuple[str, float, str]:
    """The budget's kind and value, and the backend a latency budget is measured with."""
    left, middle, right = st.columns([2, 1, 1])
    kind = left.radio(
        "Budget in", list(BUDGET_KINDS), format_func=BUDGET_KINDS.get, horizontal=True, key="complexity_budget_kind"
    )
    key, low, high, default, step = BUDGET_INPUTS[kind]
    value = middle.number_input(
        f"Budget ({BUDGET_KINDS[kind]})", min_value=low, max_value=high, value=default, step=step, format="%g", key=key
    )
    backend = DEFAULT_BACKEND
    if kind == "ms":
        backend = right.selectbox(
            "Backend",
            list(lat.BACKENDS),
            index=list(lat.BACKENDS).index(DEFAULT_BACKEND),
            format_func=lambda b: lat.BACKENDS[b].label,
            key="complexity_budget_backend",
        )
    return kind, float(value), backend


def show_decision(decision: Decision, backend: str = DEFAULT_BACKEND) -> None:
    st.info(decision.recommendation, icon=":material/flag:")
    if decision.candidates:
        st.markdown(recommendation_links(decision))
        st.dataframe(
            decision_frame(decision),
            hide_index=True,
            width="stretch",
            column_config=DECISION_COLUMNS,
            key="budget_table",
        )
        caption(
            f"Sorted: {decision.rule} Multiply-adds, parameters, activations and peak activation memory are "
            "computed here (closed form, batch of one image); the error only where the paper reports that "
            "exact model; “open” loads the model into the sidebar (a new tab, the shareable link)."
        )
        if decision.predicted_note:
            caption(
                f"Latency, measured here: from the result store where this model was measured; latency, "
                f"{decision.predicted_note}, for every model, without running it."
            )
        else:
            caption(
                "Latency, measured here: only where the result store has this model. "
                + missing_text(backend, lat.default_threads())
            )
    if decision.over:
        st.warning(
            "Some g and variants do not fit at any width (0.1x and up): the smallest budget each needs is below.",
            icon="⚠️",
        )
        st.dataframe(over_frame(decision), hide_index=True, key="budget_over")


def latency_budget(config: ShuffleNetConfig, groups: tuple[int, ...], budget_ms: float, backend: str) -> None:
    """Start (or show) the measured search: the widest width of each g within ``budget_ms`` on this server."""
    registry, store, threads = job_registry(), result_store(), lat.default_threads()
    request = (budget_ms, backend, threads, config.variant, tuple(config.input_size), groups)
    job = current_job(registry, JOB_KEY)
    busy = job is not None and job.active
    if page_predictor(backend) is not None:
        caption(
            f"On this server with {lat.BACKENDS[backend].label}, {threads} threads, batch 1, for the sidebar's "
            f"variant ({config.variant}) and input: each g's widest width picked by the prediction (this machine's "
            "calibration), then confirmed by measuring it (one or two measurements per g, none for what the "
            "result store has)."
        )
    else:
        caption(
            f"Measured on this server with {lat.BACKENDS[backend].label}, {threads} threads, batch 1, for the "
            f"sidebar's variant ({config.variant}) and input: a search over width per g that measures only the "
            "models the result store lacks (usually under two minutes, then instant). With a calibration kept for "
            "this backend (the Latency page, or `python -m explorer calibrate`), the prediction picks the widths "
            "and one or two measurements per g confirm them."
        )
    if st.button("Find what fits", type="primary", key="complexity_budget_search", disabled=busy):
        task = latency_budget_task(budget_ms, groups, (config.variant,), backend, threads, tuple(config.input_size))
        st.session_state[JOB_KEY] = registry.start(
            "Latency budget", [], threads, 1, SEARCH_MIN_TIME, store, task=task
        ).id
        st.session_state["complexity_budget_request"] = request
        st.rerun()
    job = job_view(registry, JOB_KEY, "complexity_budget")
    search = None if job is None or job.active else job.outcome
    if search is None or st.session_state.get("complexity_budget_request") != request:
        if not busy:
            st.info("Press “Find what fits” to measure (or read from the result store) what fits this budget.")
        return
    picked = (
        f"Widths picked by the prediction ({search.decision.predicted_note}), then confirmed by measuring: "
        if search.decision and search.decision.predicted_note
        else ""
    )
    caption(
        f"{picked}{search.measured} new measurement(s), {search.reused} from the result store, "
        f"{search.seconds:.1f} s; the answer holds for {search.holds_for}."
    )
    if search.stopped:
        st.warning(f"The search stopped early ({search.stopped}): below is what it found so far.", icon="⚠️")
    for group in search.searches:
        if group.status in ("stopped", "failed", "predicted only") and group.reason and group.reason != search.stopped:
            st.warning(f"g = {group.groups}: {shown_value(group.reason, 300)}", icon="⚠️")
    if search.busy:
        st.warning(
            f"{search.busy} measurement(s) were taken while other processes used the CPUs (busy): those "
            "latencies are probably too slow.",
            icon="⚠️",
        )
    show_decision(search.decision, backend)


def budget_section(config: ShuffleNetConfig, groups: tuple[int, ...], kind: str, budget: float, backend: str) -> None:
    st.header("What fits a budget?")
    caption(
        "For a budget in multiply-adds (the paper's “MFLOPs”, paper convention), parameters, or milliseconds on this "
        f"server: for each g and variant the widest width (steps of 0.01, up to {WIDTH_RANGE[1]:g}×) that fits, and "
        "the widest model the paper reports an error for that fits, at the sidebar's input size."
    )
    if kind == "ms":
        latency_budget(config, groups, budget, backend)
        return
    with st.spinner("Solving widths…"):
        decision = cached_decision(kind, budget, groups, VARIANTS, tuple(config.input_size))
    stored = with_stored_latency(decision, result_store(), DEFAULT_BACKEND, lat.default_threads())
    show_decision(predicted_decision(stored, DEFAULT_BACKEND))


def tradeoff_section(config: ShuffleNetConfig, budget_mflops: float | None, present: bool) -> None:
    st.header("Error vs complexity, as the paper reports it")
    mine = point_for(config)
    at_224 = tuple(config.input_size) == REFERENCE_INPUT
    figure = tradeoff_figure(budget_mflops if at_224 else None, (("Sidebar model", mine),) if mine else (), present)
    st.plotly_chart(figure, key="tradeoff_chart")
    caption(
        f"Every model the paper reports with both a top-1 error and a complexity (Tables 2, 3, 5, 6; {SOURCE}), "
        "all numbers reported in the paper, at 224 × 224; hover for the source table. Table 3's rows without "
        "channel shuffle have no complexity of their own: they sit at the complexity the paper reports for the same "
        "architecture with shuffle (a shuffle adds no multiply-adds). "
        + ("The star is the sidebar's model. " if mine else "The sidebar's model is not one the paper reports. ")
        + ("The vertical line is the multiply-add budget above." if budget_mflops and at_224 else "")
    )


def main() -> None:
    present = page_setup("Complexity")
    config = shared_controls()
    st.title("Complexity")
    caption(f"{config.label}, input {input_size_text(config.input_size)} pixels, one image.")
    counts = counts_or_ask(config).complexity
    groups = tuple(sorted(set(PAPER_GROUPS) | {config.groups}))  # the paper's g and the sidebar's
    computed_section(config, counts)
    reported_section(config, counts)
    sweep_section(config, groups, present)
    stages_section(config, counts, present)
    time_section(config, groups, present)
    kind, budget, backend = budget_controls()
    budget_section(config, groups, kind, budget, backend)
    tradeoff_section(config, budget if kind == "mflops" else None, present)


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
