"""Channel shuffle: Fig. 1 live (toy), the shuffle step by step, and mixing measured on the model."""

import numpy as np
import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from explorer import ShuffleNetConfig
from explorer.mixing import (
    MAX_LAYERS,
    MIN_LAYERS,
    SCOPE_TITLES,
    WIRING_TITLES,
    WIRINGS,
    StageMixing,
    ToyMixing,
    cross_equals_shuffle,
    default_toy_channels,
    shuffle_steps,
    toy_mixing,
)
from ui.cache import cached_svg
from ui.controls import shared_controls
from ui.mixing import (
    cached_stage_mixing,
    dependency_heatmap,
    fraction_figure,
    measured_takeaway,
    percent,
    shortcut_note,
    shuffle_mapping_figure,
    toy_takeaway,
    two_layer_note,
    unit_word,
)
from ui.page import config_slug, page_setup
from ui.style import group_color
from ui.toy_diagram import toy_diagram_detail, toy_dot

MAX_TOY_GROUPS = 16
AUTO_MEASURE_MAX_GROUPS = 16
AUTO_MEASURE_MAX_CHANNELS = 2048
MAX_GRID_CHANNELS = 96  # the reshape / transpose grids are drawn up to this many channels
LIGHT_FILLS = ("#E69F00", "#56B4E9", "#F0E442")  # palette colours that want black text


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
        groups = int(st.number_input("Groups g (toy)", min_value=1, max_value=MAX_TOY_GROUPS, step=1,
                                     key="mix_groups", help="Starts at the sidebar's g."))  # fmt: skip
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
        st.caption(note)


def fig1_section(channels: int, groups: int, layers: int) -> None:
    st.header("Fig. 1, live: who can talk to whom")
    if toy_diagram_detail(channels, groups) == "groups":
        st.info(
            f"C = {channels} is too many channels to draw one by one: the diagrams draw one node per group (a bundle "
            f"of {channels // groups} channels) and label each edge with the number of channels it carries; after a "
            "shuffle, each node shows how many channels it holds from each group. The heatmaps below still show "
            "every channel."
        )
    st.caption(
        "Top to bottom: input channels, then each 1×1 group convolution. A node's colour is the group it comes from; "
        "an edge means a real connection. (b) connects the second convolution's groups to channels of every group; "
        "(c) keeps plain group convolutions and permutes the channels in between."
    )
    slug = f"fig1_C{channels}_g{groups}_L{layers}"
    for column, wiring in zip(st.columns(3), WIRINGS):
        with column:
            st.subheader(WIRING_TITLES[wiring])
            dot = toy_dot(channels, groups, layers, wiring)
            st.graphviz_chart(dot, width="stretch")
            buttons = st.columns(2)
            buttons[0].download_button("Diagram (DOT)", dot, f"{slug}_{wiring}.dot", "text/vnd.graphviz",
                                       key=f"mix_dot_{wiring}")  # fmt: skip
            svg = cached_svg(dot)
            if svg is not None:
                buttons[1].download_button("Diagram (SVG)", svg, f"{slug}_{wiring}.svg", "image/svg+xml",
                                           key=f"mix_svg_{wiring}")  # fmt: skip


def toy_matrices_section(toys: dict[str, ToyMixing]) -> None:
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
                dependency_heatmap(toy.matrix, toy.groups, toy.groups,
                                   f"{WIRING_TITLES[wiring]}: {percent(toy.fraction)}", height=400),
                key=f"mix_heatmap_{wiring}",
            )  # fmt: skip
            by_layer = ", ".join(percent(f) for f in toy.fraction_by_layer)
            st.caption(f"Input channels reaching an output channel after 1…{toy.layers} layers: {by_layer}.")


def grid_frame(grid: np.ndarray, row_name: str, col_name: str, per_group: int) -> Styler:
    """A grid of channel indices, each cell in the colour of the group the channel comes from."""
    frame = pd.DataFrame(grid, index=[f"{row_name} {r}" for r in range(grid.shape[0])],
                         columns=[str(c) for c in range(grid.shape[1])])  # fmt: skip

    def colour(value: int) -> str:
        fill = group_color(int(value) // per_group)
        text = "black" if fill in LIGHT_FILLS else "white"
        return f"background-color: {fill}; color: {text}; text-align: center"

    return frame.style.map(colour)


def steps_section(channels: int, groups: int) -> None:
    st.header("The shuffle, step by step")
    steps = shuffle_steps(channels, groups)
    per_group = channels // groups
    st.markdown(
        f"`channel_shuffle` reshapes the {channels} channels to a ({groups}, {per_group}) grid (one row per group), "
        f"transposes it to ({per_group}, {groups}) and reads it row by row. Output position *p* therefore holds input "
        f"channel (*p* mod {groups})·{per_group} + ⌊*p*/{groups}⌋, and the next group convolution's group *j* reads "
        f"positions {per_group}·*j* … {per_group}·*j* + {per_group - 1}."
    )
    if channels <= MAX_GRID_CHANNELS:
        one, two, three = st.columns([2, 2, 3])
        with one:
            st.markdown(f"**1 · reshape to ({groups}, {per_group})**: row = group, column = index in the group")
            st.dataframe(grid_frame(steps.grid, "group", "index", per_group), width="stretch")
        with two:
            st.markdown(f"**2 · transpose to ({per_group}, {groups})**: column = group")
            st.dataframe(grid_frame(steps.transposed, "row", "group", per_group), width="stretch")
        with three:
            st.markdown("**3 · flatten**: the new channel order")
            st.code(" ".join(str(int(s)) for s in steps.source), language=None, wrap_lines=True)
    st.plotly_chart(shuffle_mapping_figure(steps, height=320 if channels <= 48 else 260), key="mix_mapping")
    with st.expander("The index mapping as a table (which input index goes where)"):
        st.dataframe(pd.DataFrame(steps.records()), hide_index=True, width="stretch")
        st.caption("Checked against the library's `channel_shuffle` on tensors by the tests.")


def measured_controls() -> tuple[int, str]:
    """The stage and the scope (stride-1 units only, or the whole stage) to measure."""
    stage_column, scope_column = st.columns(2)
    with stage_column:
        stage = st.radio("Stage", (2, 3, 4), index=0, format_func=lambda s: f"Stage{s}", horizontal=True,
                         key="mix_stage")  # fmt: skip
    with scope_column:
        scope = st.radio(
            "Input channels of the stage are…", ("stride1", "stage"), horizontal=True, key="mix_scope",
            format_func={"stride1": "the output of its first (stride-2) unit", "stage": "the stage's own input"}.get,
            help="Stride-1 units: C channels in and out, an identity shortcut each. The whole stage adds the stride-2 "
            "unit, whose first C_in output channels are the average-pooled input channels, passed straight through.",
        )  # fmt: skip
    return stage, scope


def measure_with_and_without_shuffle(config: ShuffleNetConfig, stage: int) -> tuple[StageMixing, StageMixing]:
    """The stage measured with the shuffle on and off; a heavy model stops the page until a click."""
    # The paper's models (g <= 8, up to 2x) take well under a second per stage; very many groups
    # or very wide stages take up to a minute on a small CPU, so those wait for a click.
    widest = max(config.plan().stage_channels)
    heavy = config.groups > AUTO_MEASURE_MAX_GROUPS or widest > AUTO_MEASURE_MAX_CHANNELS
    measured_key = f"{config.with_(shuffle=True)!r}/stage{stage}"
    done = st.session_state.setdefault("mix_measured_done", [])
    if heavy and measured_key not in done:
        st.info(
            f"With g = {config.groups} and up to {widest} channels a stage takes up to a minute to measure on this "
            "machine (the paper's models take under a second)."
        )
        if not st.button(f"Measure Stage{stage}", key="mix_measure_button"):
            st.stop()
    with st.spinner(f"Measuring Stage{stage} with and without shuffle (forward-mode autograd)…"):
        on, off = (cached_stage_mixing(config.with_(shuffle=shuffle), stage) for shuffle in (True, False))
    if measured_key not in done:
        done.append(measured_key)
    return on, off


def measured_matrices(config: ShuffleNetConfig, stage: int, scope: str, on: StageMixing, off: StageMixing) -> None:
    """Both dependency matrices after a chosen number of stacked units, with CSV downloads."""
    steps = len(on.matrices(scope))
    units = steps
    if steps > 1:
        units = st.select_slider(f"Show the matrices after this many stacked {unit_word(scope)}s",
                                 list(range(1, steps + 1)), value=1, key=f"mix_units_{scope}_{steps}")  # fmt: skip
    in_channels = on.channels if scope == "stride1" else on.stage_in_channels
    in_label = f"Input channel of the {'units' if scope == 'stride1' else 'stage'} (index, {in_channels} in all)"
    for column, result, shuffle in zip(st.columns(2), (on, off), (True, False)):
        matrix = result.matrix(scope, units)
        current = " (the sidebar's model)" if shuffle == config.shuffle else ""
        title = f"{'With' if shuffle else 'Without'} shuffle{current}: {percent(float(matrix.mean()))} connected"
        with column:
            st.plotly_chart(
                dependency_heatmap(matrix, result.groups, result.groups, title, height=460, in_label=in_label,
                                   out_label=f"Output channel (index, {result.channels} in all)"),
                key=f"mix_measured_{shuffle}",
            )  # fmt: skip
            csv = pd.DataFrame(matrix).to_csv(index=False, header=[f"in{i}" for i in range(matrix.shape[1])])
            st.download_button(f"Matrix {'with' if shuffle else 'without'} shuffle (CSV, rows = outputs)", csv,
                               f"{config_slug(config.with_(shuffle=shuffle))}_stage{stage}_{scope}_{units}units.csv",
                               "text/csv", key=f"mix_csv_{shuffle}")  # fmt: skip


def spread_section(stage: int, scope: str, on: StageMixing, off: StageMixing) -> None:
    """How the fraction of input channels reached grows unit by unit: chart and numbers."""
    word = unit_word(scope)
    fractions_on, fractions_off = on.fractions(scope), off.fractions(scope)
    st.plotly_chart(
        fraction_figure(
            [{"name": f"with shuffle (g = {on.groups})", "fractions": fractions_on,
              "ranges": on.fraction_ranges(scope), "groups": on.groups},
             {"name": f"without shuffle (g = {on.groups})", "fractions": fractions_off,
              "ranges": off.fraction_ranges(scope), "groups": on.groups, "dash": "dash"}],
            f"{word.capitalize()}s stacked (count)",
            f"Stage{stage}: how far information spreads, unit by unit",
        ),
        key="mix_fraction_chart",
    )  # fmt: skip
    table = pd.DataFrame({
        f"{word}s stacked": list(range(1, len(fractions_on) + 1)),
        "with shuffle: mean %": [round(100 * f, 2) for f in fractions_on],
        "with shuffle: min %": [round(100 * lo, 2) for lo, _ in on.fraction_ranges(scope)],
        "without shuffle: mean %": [round(100 * f, 2) for f in fractions_off],
        "without shuffle: min %": [round(100 * lo, 2) for lo, _ in off.fraction_ranges(scope)],
    })  # fmt: skip
    with st.expander("The numbers behind the chart"):
        st.dataframe(table, hide_index=True, width="stretch")


def method_text(stage: int, scope: str, stage_in_channels: int) -> str:
    text = f"**What is measured.** Scope: {SCOPE_TITLES[scope]}. "
    if scope == "stage":
        text += (f"With “the stage's own input”, the first unit's output channels 0…{stage_in_channels - 1} are the "
                 "3×3 average pool of the input, concatenated in front of the residual branch: each depends on its "
                 "own input channel only. ")  # fmt: skip
        if stage == 2:
            text += "Stage2's first 1×1 convolution is not grouped, so its branch channels read every input channel. "
    return text + (
        "**How.** Forward-mode autograd (`torch.func.jvp`) through a copy of the stage of the model `build_model` "
        "returns, with BatchNorm in eval mode and the ReLUs replaced by the identity: a ReLU acts on one value at a "
        "time, so it can silence a path for some inputs but never creates one; without it the stage is affine and "
        "its Jacobian, hence the pattern, is the same for every input. One random probe per input channel (two "
        "rounds), 1×1 pixels: every op that moves information between channels acts on each pixel alike, so the "
        "pattern is the same at 224×224. The tests check the measurement against the unit's structure (Fig. 2) for "
        "g = 1, 2, 3, 4, 8."
    )


def reading_section(stage: int, scope: str, on: StageMixing) -> None:
    st.subheader("Reading it")
    st.markdown(shortcut_note(on))
    st.markdown(method_text(stage, scope, on.stage_in_channels))


def measured_section(config: ShuffleNetConfig) -> None:
    st.header("Measured on the real network")
    st.caption(
        f"{config.label}: the model the sidebar builds (random weights: connectivity does not depend on training). "
        "The model is measured twice, with and without the shuffle."
    )
    stage, scope = measured_controls()
    on, off = measure_with_and_without_shuffle(config, stage)
    if not on.matrices(scope):
        st.warning(f"Stage{stage} of this variant has no stride-1 units: choose “the stage's own input”.")
        return
    st.markdown(f"#### Takeaway: {measured_takeaway(on, off, scope, config.width, config.variant)}")
    measured_matrices(config, stage, scope, on, off)
    spread_section(stage, scope, on, off)
    reading_section(stage, scope, on)


def main() -> None:
    page_setup("Channel shuffle")
    config = shared_controls()
    st.title("Channel shuffle")
    st.caption(
        "Fig. 1 of the paper, live: what stacked 1×1 group convolutions can and cannot see, what the shuffle does to "
        "the channel order, and the same question measured on the model in the sidebar."
    )
    channels, groups, layers = toy_controls(config.groups)
    toys = {wiring: toy_mixing(channels, groups, layers, wiring) for wiring in WIRINGS}
    toy_takeaway_section(toys)
    fig1_section(channels, groups, layers)
    toy_matrices_section(toys)
    steps_section(channels, groups)
    measured_section(config)  # last: it may stop the page until a heavy model's measurement is confirmed


# Streamlit execs this file as a script on every rerun (also under AppTest), so main runs unconditionally.
main()
