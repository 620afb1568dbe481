"""Channel shuffle: Fig. 1 live (toy), channels to click, the shuffle animated, and mixing measured on the model."""

import functools

import pandas as pd
import streamlit as st

from explorer import ShuffleNetConfig
from explorer.mixing import (
    MAX_LAYERS,
    MIN_LAYERS,
    WIRING_TITLES,
    WIRINGS,
    StageMixing,
    ToyMixing,
    cross_equals_shuffle,
    default_toy_channels,
    shuffle_steps,
    toy_mixing,
)
from explorer.paper import table3_row_for
from ui.figures.diagram_view import show_diagram
from ui.figures.mixing import dependency_heatmap, fraction_figure, shuffle_mapping_figure
from ui.figures.toy_diagram import toy_diagram_detail, toy_dot
from ui.figures.toy_figures import grid_frame, layer_names, shuffle_animation_figure, trace_figure
from ui.mixing.measured import (
    matrix_csv,
    measure_with_and_without_shuffle,
    spread_frame,
    spread_series,
    table3_table,
)
from ui.mixing.text import (
    TRACED,
    measured_takeaway,
    method_text,
    percent,
    reading_note,
    toy_takeaway,
    trace_label,
    trace_text,
    two_layer_note,
    unit_word,
)
from ui.shell.controls import shared_controls
from ui.shell.page import config_slug, page_setup
from ui.shell.presentation import caption, diagram_downloads, download_button, method_note

MAX_TOY_GROUPS = 16
MAX_GRID_CHANNELS = 96  # the reshape / transpose grids are drawn up to this many channels
FIG1_TAB_KEY = "mix_fig1_tab"  # which wiring of Fig. 1 is shown
TRACE_KEY = "mix_trace"  # the selected (layer, channel) of the toy, set by a click or the selectbox


def toy_controls(sidebar_groups: int) -> tuple[int, int, int]:
    """The toy's (C, g, L) widgets.

    The toy's g follows the sidebar's g until the user picks another one here; C resets to a
    default (g * max(g, 4)) whenever g changes; every C offered is a multiple of g.
    """
    if st.session_state.get("mix_sidebar_groups") != sidebar_groups:
        st.session_state["mix_sidebar_groups"] = sidebar_groups
        st.session_state["mix_groups"] = min(sidebar_groups, MAX_TOY_GROUPS)
    st.session_state.setdefault("mix_groups", min(sidebar_groups, MAX_TOY_GROUPS))
    st.session_state.setdefault("mix_layers", 2)

    left, middle, right = st.columns(3)
    with left:
        groups = int(
            st.number_input(
                "Groups g (toy)",
                min_value=1,
                max_value=MAX_TOY_GROUPS,
                step=1,
                key="mix_groups",
                help="Starts at the sidebar's g.",
            )
        )
    channel_options = [groups * k for k in range(1, max(96, default_toy_channels(groups)) // groups + 1)]
    offered = st.session_state.get("mix_channels") in channel_options
    if st.session_state.get("mix_channels_groups") != groups or not offered:
        st.session_state["mix_channels_groups"] = groups
        st.session_state["mix_channels"] = default_toy_channels(groups)
    with middle:
        channels = int(st.select_slider("Channels C (multiples of g)", options=channel_options, key="mix_channels"))
    with right:
        layers = int(st.slider("Stacked 1×1 group convolutions L", MIN_LAYERS, MAX_LAYERS, key="mix_layers"))
    return channels, groups, layers


def toy_takeaway_section(toys: dict[str, ToyMixing]) -> None:
    st.markdown(f"#### Takeaway: {toy_takeaway(toys['none'], toys['shuffle'])}")
    note = two_layer_note(toys["shuffle"])
    if note:
        caption(note)


def fig1_section(channels: int, groups: int, layers: int, present: bool) -> None:
    """One wiring at a time at full width (tabs), each drawn at its natural size: readable on a projector."""
    st.header("Fig. 1, live: who can talk to whom")
    if toy_diagram_detail(channels, groups, present) == "groups":
        st.info(
            f"C = {channels} is too many channels to draw one by one: the diagrams draw one node per group (a bundle "
            f"of {channels // groups} channels) and give the number of channels each edge carries (on the edge, or once "
            "in the layer's title when every edge carries as many); after a shuffle, each node says how many channels "
            "it holds from which groups. The drawings to click and the heatmaps below still show every channel."
        )
    caption(
        "Top to bottom: input channels, then each 1×1 group convolution. A node's colour is the group it comes from "
        "(its label says which: g0, g1, ...); an edge means a real connection. (b) connects the second convolution's "
        "groups to channels of every group; (c) keeps plain group convolutions and permutes the channels in between."
    )
    slug = f"fig1_C{channels}_g{groups}_L{layers}"
    # Lazy tabs (on_change="rerun"): only the open wiring is drawn, so the browser lays out one diagram, not three.
    tabs = st.tabs(
        [WIRING_TITLES[w] for w in WIRINGS], default=WIRING_TITLES["shuffle"], key=FIG1_TAB_KEY, on_change="rerun"
    )
    for tab, wiring in zip(tabs, WIRINGS):
        with tab:
            if not tab.open:
                continue
            dot = toy_dot(channels, groups, layers, wiring, present=present)
            show_diagram(
                dot, f"Fig. 1 {WIRING_TITLES[wiring]}: C = {channels}, g = {groups}, L = {layers}", f"mix_{wiring}"
            )
            diagram_downloads(dot, f"{slug}_{wiring}", "Diagram", f"mix_{wiring}")


def _picked(chart_key: str) -> None:
    """on_select of a trace figure: the clicked marker becomes the selected channel."""
    state = st.session_state.get(chart_key)
    points = [p for p in (state["selection"]["points"] if state else []) if "customdata" in p]
    if points:
        st.session_state[TRACE_KEY] = (int(points[0]["customdata"][0]), int(points[0]["customdata"][1]))


def trace_section(channels: int, groups: int, layers: int, present: bool) -> None:
    """Click a channel (or pick it below): what it depends on and what it reaches light up, (a) beside (c)."""
    st.subheader("Click a channel: what it depends on, what it reaches")
    nodes = [(layers, c) for c in range(channels)] + [(k, c) for k in range(layers) for c in range(channels)]
    if st.session_state.get(TRACE_KEY, "unset") not in [None, *nodes]:
        st.session_state[TRACE_KEY] = (layers, 0)
    selected = st.selectbox(
        "Channel to trace (or click one in a drawing)",
        [None, *nodes],
        key=TRACE_KEY,
        format_func=lambda node: trace_label(node, layers),
    )
    for column, wiring in zip(st.columns(2), TRACED):
        with column:
            key = f"mix_trace_{wiring}"
            st.plotly_chart(
                trace_figure(channels, groups, layers, wiring, selected, present),
                key=key,
                on_select=functools.partial(_picked, key),
                selection_mode="points",
            )
    if selected is not None:
        st.markdown(trace_text(channels, groups, layers, selected))
    caption(
        f"Rows: {', '.join(layer_names(layers))}. Colour and marker shape: the channel's group. The shuffle of (c) "
        "is folded into its connections: each later convolution reads the shuffled positions of its group."
    )


def toy_matrices_section(toys: dict[str, ToyMixing], present: bool) -> None:
    st.subheader("Dependency matrices: output channel (row) × input channel (column)")
    toy = toys["shuffle"]
    if cross_equals_shuffle(toy.channels, toy.groups, toy.layers):
        st.success(
            "(b) and (c) are the same connectivity: identical matrices after every layer (and identical wiring of "
            "each layer). A channel shuffle is a cheap way to build (b) out of ordinary group convolutions."
        )
    else:  # never happens (tested for every C, g, L); shown rather than hidden if it ever did
        st.error("(b) and (c) differ for these settings.")
    for column, wiring in zip(st.columns(3), WIRINGS):
        toy = toys[wiring]
        with column:
            st.plotly_chart(
                dependency_heatmap(
                    toy.matrix,
                    toy.groups,
                    toy.groups,
                    f"{WIRING_TITLES[wiring]}<br>{percent(toy.fraction)} connected",
                    height=420,
                    present=present,
                ),
                key=f"mix_heatmap_{wiring}",
            )
            by_layer = ", ".join(percent(f) for f in toy.fraction_by_layer)
            caption(f"Input channels reaching an output channel after 1…{toy.layers} layers: {by_layer}.")


def steps_section(channels: int, groups: int, present: bool) -> None:
    st.header("The shuffle, step by step")
    steps = shuffle_steps(channels, groups)
    per_group = channels // groups
    st.markdown(
        f"`channel_shuffle` reshapes the {channels} channels to a ({groups}, {per_group}) grid (one row per group), "
        f"transposes it to ({per_group}, {groups}) and reads it row by row. Output position *p* therefore holds input "
        f"channel (*p* mod {groups})·{per_group} + ⌊*p*/{groups}⌋, and the next group convolution's group *j* reads "
        f"positions {per_group}·*j* … {per_group}·*j* + {per_group - 1}."
    )
    st.plotly_chart(shuffle_animation_figure(channels, groups, present), key="mix_animation")
    st.plotly_chart(
        shuffle_mapping_figure(steps, height=320 if channels <= 48 else 260, present=present), key="mix_mapping"
    )
    # Lazy (on_change="rerun"): the five tables are built and drawn only while the expander is open.
    tables = st.expander(
        "The grids and the index mapping as tables (which input index goes where)", key="mix_tables", on_change="rerun"
    )
    with tables:
        if not tables.open:
            return
        if channels <= MAX_GRID_CHANNELS:
            one, two, three = st.columns([2, 2, 3])
            with one:
                st.markdown(f"**1 · reshape to ({groups}, {per_group})**: row = group, column = index in the group")
                st.dataframe(grid_frame(steps.grid, "group", per_group), width="stretch")
            with two:
                st.markdown(f"**2 · transpose to ({per_group}, {groups})**: column = group")
                st.dataframe(grid_frame(steps.transposed, "row", per_group), width="stretch")
            with three:
                st.markdown("**3 · flatten**: the new channel order")
                st.code(" ".join(str(int(s)) for s in steps.source), language=None, wrap_lines=True)
        st.dataframe(pd.DataFrame(steps.records()), hide_index=True, width="stretch")
        caption("Checked against the library's `channel_shuffle` on tensors by the tests.")


def measured_controls() -> tuple[int, str]:
    """The stage and the scope (stride-1 units only, or the whole stage) to measure."""
    stage_column, scope_column = st.columns(2)
    with stage_column:
        stage = st.radio(
            "Stage", (2, 3, 4), index=0, format_func=lambda s: f"Stage{s}", horizontal=True, key="mix_stage"
        )
    with scope_column:
        scope = st.radio(
            "Input channels of the stage are…",
            ("stride1", "stage"),
            horizontal=True,
            key="mix_scope",
            format_func={"stride1": "the output of its first (stride-2) unit", "stage": "the stage's own input"}.get,
            help="Stride-1 units: C channels in and out, an identity shortcut each. The whole stage adds the stride-2 "
            "unit, whose first C_in output channels are the average-pooled input channels, passed straight through.",
        )
    return stage, scope


def measured_matrices(
    config: ShuffleNetConfig, stage: int, scope: str, on: StageMixing, off: StageMixing, present: bool
) -> None:
    """Both dependency matrices after a chosen number of stacked units, with CSV downloads."""
    steps = len(on.matrices(scope))
    units = steps
    if steps > 1:
        units = st.select_slider(
            f"Show the matrices after this many stacked {unit_word(scope)}s",
            list(range(1, steps + 1)),
            value=1,
            key=f"mix_units_{scope}_{steps}",
        )
    in_channels = on.channels if scope == "stride1" else on.stage_in_channels
    in_label = f"Input channel of the {'units' if scope == 'stride1' else 'stage'} (index, {in_channels} in all)"
    for column, result, shuffle in zip(st.columns(2), (on, off), (True, False)):
        matrix = result.matrix(scope, units)
        current = " (the sidebar's model)" if shuffle == config.shuffle else ""
        title = f"{'With' if shuffle else 'Without'} shuffle{current}: {percent(float(matrix.mean()))} connected"
        with column:
            st.plotly_chart(
                dependency_heatmap(
                    matrix,
                    result.groups,
                    result.groups,
                    title,
                    height=460,
                    in_label=in_label,
                    out_label=f"Output channel (index, {result.channels} in all)",
                    present=present,
                ),
                key=f"mix_measured_{shuffle}",
            )
            csv = functools.partial(matrix_csv, matrix)  # written only when the button is clicked
            download_button(
                f"Matrix {'with' if shuffle else 'without'} shuffle (CSV, rows = outputs)",
                csv,
                f"{config_slug(config.with_(shuffle=shuffle))}_stage{stage}_{scope}_{units}units.csv",
                "text/csv",
                key=f"mix_csv_{shuffle}",
            )


def spread_section(stage: int, scope: str, on: StageMixing, off: StageMixing, present: bool) -> None:
    """How the fraction of input channels reached grows unit by unit: chart and numbers."""
    word = unit_word(scope)
    st.plotly_chart(
        fraction_figure(
            spread_series(scope, on, off),
            f"{word.capitalize()}s stacked (count)",
            f"Stage{stage}: how far information spreads, unit by unit",
            present=present,
        ),
        key="mix_fraction_chart",
    )
    table = spread_frame(word, scope, on, off)
    numbers = st.expander("The numbers behind the chart", key="mix_numbers", on_change="rerun")  # lazy, as above
    with numbers:
        if numbers.open:
            st.dataframe(table, hide_index=True, width="stretch")


def reading_section(stage: int, scope: str, on: StageMixing, off: StageMixing) -> None:
    st.subheader("Reading it")
    st.markdown(reading_note(on, off, scope))
    method_note("How it is measured", method_text(stage, scope, on.stage_in_channels))


def table3_section(config: ShuffleNetConfig) -> None:
    """The paper's Table 3 (reported), the sidebar's model marked (colour and a word) when the paper has it."""
    mine = table3_row_for(config)
    st.markdown("**Table 3, reported in the paper**: ImageNet top-1 error (%) without / with channel shuffle")
    st.table(table3_table(mine))  # a static table: every column visible in half the page, and cheap to draw
    if mine is None:
        caption(
            f"The paper's Table 3 has no row for {config.label}: it ablates the shuffle for g = 3 and g = 8 models."
        )


def measured_section(config: ShuffleNetConfig, present: bool) -> None:
    st.header("Measured on the real network")
    caption(
        f"{config.label}: the model the sidebar builds (random weights: connectivity does not depend on training). "
        "The model is measured twice, with and without the shuffle."
    )
    stage, scope = measured_controls()
    on, off = measure_with_and_without_shuffle(config, stage)
    if not on.matrices(scope):
        st.warning(f"Stage{stage} of this variant has no stride-1 units: choose “the stage's own input”.")
        return
    takeaway, table = st.columns([1, 1], gap="large")
    with takeaway:
        st.markdown(f"#### Takeaway: {measured_takeaway(on, off, scope, config.width, config.variant)}")
    with table:
        table3_section(config)
    measured_matrices(config, stage, scope, on, off, present)
    spread_section(stage, scope, on, off, present)
    reading_section(stage, scope, on, off)


@st.fragment
def toy_part(sidebar_groups: int, present: bool) -> None:
    """Fig. 1's toy, its own widgets included: a fragment, so changing C, g, L or the traced channel reruns
    only this part of the page (the measured section below keeps what it drew)."""
    channels, groups, layers = toy_controls(sidebar_groups)
    toys = {wiring: toy_mixing(channels, groups, layers, wiring) for wiring in WIRINGS}
    toy_takeaway_section(toys)
    fig1_section(channels, groups, layers, present)
    trace_section(channels, groups, layers, present)
    toy_matrices_section(toys, present)
    steps_section(channels, groups, present)


def main() -> None:
    present = page_setup("Channel shuffle")
    config = shared_controls()
    st.title("Channel shuffle")
    caption(
        "Fig. 1 of the paper, live: what stacked 1×1 group convolutions can and cannot see, what the shuffle does to "
        "the channel order, and the same question measured on the model in the sidebar."
    )
    toy_part(config.groups, present)  # cheap (numpy): drawn first, while the measurement below computes
    measured_section(config, present)  # last: it may stop the page until a heavy model's measurement is confirmed


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
