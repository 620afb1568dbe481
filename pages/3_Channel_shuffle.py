"""Channel shuffle: Fig. 1 live (toy), the shuffle step by step, and mixing measured on the model."""

import numpy as np
import pandas as pd
import streamlit as st

from explorer.mixing import (
    MAX_LAYERS,
    MIN_LAYERS,
    WIRING_TITLES,
    WIRINGS,
    cross_equals_shuffle,
    default_toy_channels,
    shuffle_steps,
    toy_diagram_detail,
    toy_dot,
    toy_mixing,
)
from explorer.mixing_network import SCOPE_TITLES
from explorer.style import group_color
from ui.cache import cached_svg
from ui.controls import shared_controls
from ui.mixing import cached_stage_mixing, dependency_heatmap, fraction_figure, percent, shuffle_mapping_figure
from ui.page import config_slug, page_setup

page_setup("Channel shuffle")
config = shared_controls()

MAX_TOY_GROUPS = 16
AUTO_MEASURE_MAX_GROUPS = 16
AUTO_MEASURE_MAX_CHANNELS = 2048
st.title("Channel shuffle")
st.caption(
    "Fig. 1 of the paper, live: what stacked 1×1 group convolutions can and cannot see, what the shuffle does to "
    "the channel order, and the same question measured on the model in the sidebar."
)

# --------------------------------------------------------------------------- toy controls
# The toy's g follows the sidebar's g until the user picks another one here; C resets to a
# default (g * max(g, 4)) whenever g changes; every C offered is a multiple of g.
if st.session_state.get("mix_sidebar_groups") != config.groups:
    st.session_state["mix_sidebar_groups"] = config.groups
    st.session_state["mix_groups"] = min(config.groups, MAX_TOY_GROUPS)
st.session_state.setdefault("mix_groups", min(config.groups, MAX_TOY_GROUPS))
st.session_state.setdefault("mix_layers", 2)

left, middle, right = st.columns(3)
with left:
    groups = int(st.number_input("Groups g (toy)", min_value=1, max_value=MAX_TOY_GROUPS, step=1, key="mix_groups",
                                 help="Starts at the sidebar's g."))  # fmt: skip
channel_options = [groups * k for k in range(1, max(96, default_toy_channels(groups)) // groups + 1)]
if st.session_state.get("mix_channels_groups") != groups or st.session_state.get("mix_channels") not in channel_options:
    st.session_state["mix_channels_groups"] = groups
    st.session_state["mix_channels"] = default_toy_channels(groups)
with middle:
    channels = int(st.select_slider("Channels C (multiples of g)", options=channel_options, key="mix_channels"))
with right:
    layers = int(st.slider("Stacked 1×1 group convolutions L", MIN_LAYERS, MAX_LAYERS, key="mix_layers"))

toys = {wiring: toy_mixing(channels, groups, layers, wiring) for wiring in WIRINGS}
same_bc = cross_equals_shuffle(channels, groups, layers)
per_group = channels // groups


def reach_text(toy) -> str:
    counts = toy.matrix.sum(axis=1)
    if counts.min() == counts.max():
        return f"{int(counts[0])} of {channels} input channels ({percent(toy.fraction)})"
    return f"on average {counts.mean():.1f} of {channels} input channels ({percent(toy.fraction)})"


none_toy, shuffle_toy = toys["none"], toys["shuffle"]
if groups == 1:
    verdict = "with a single group every 1×1 convolution is dense already, so there is nothing to shuffle: raise g"
elif shuffle_toy.fraction > none_toy.fraction:
    verdict = "the shuffle lets information cross groups"
elif layers == 1:
    verdict = "with one layer nothing can cross groups yet: raise L"
else:
    verdict = "here the shuffle cannot help: each group has a single channel, so the shuffle keeps the order"
st.markdown(
    f"#### Takeaway: with C = {channels}, g = {groups} and L = {layers}, each output channel sees "
    f"{reach_text(none_toy)} without a shuffle, but {reach_text(shuffle_toy)} with one: {verdict}."
)
if groups > 1 and layers >= 2:
    full_two = per_group >= groups
    first_full = next((k for k, m in enumerate(shuffle_toy.matrices, start=1) if m.all()), None)
    note = (f"Two layers with a shuffle are fully connected exactly when C/g ≥ g: here C/g = {per_group} "
            f"{'≥' if full_two else '<'} g = {groups}, so they {'are' if full_two else 'are not'}.")  # fmt: skip
    if not full_two:
        note += (f" With the shuffle, every output reaches every input after {first_full} layers." if first_full
                 else f" With the shuffle, {layers} layers are not enough to reach every input.")  # fmt: skip
    st.caption(note)

# --------------------------------------------------------------------------- Fig. 1
st.header("Fig. 1, live: who can talk to whom")
detail = toy_diagram_detail(channels, groups)
if detail == "groups":
    st.info(
        f"C = {channels} is too many channels to draw one by one: the diagrams draw one node per group (a bundle of "
        f"{per_group} channels) and label each edge with the number of channels it carries; after a shuffle, each "
        "node shows how many channels it holds from each group. The heatmaps below still show every channel."
    )
st.caption(
    "Top to bottom: input channels, then each 1×1 group convolution. A node's colour is the group it comes from; an "
    "edge means a real connection. (b) connects the second convolution's groups to channels of every group; (c) "
    "keeps plain group convolutions and permutes the channels in between."
)
slug = f"fig1_C{channels}_g{groups}_L{layers}"
columns = st.columns(3)
for column, wiring in zip(columns, WIRINGS):
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

st.subheader("Dependency matrices: output channel (row) × input channel (column)")
if same_bc:
    st.success(
        f"(b) and (c) are the same connectivity: identical matrices after every layer (and identical wiring of each "
        f"layer). A channel shuffle is a cheap way to build (b) out of ordinary group convolutions."
    )
else:  # never happens (tested for every C, g, L); shown rather than hidden if it ever did
    st.error("(b) and (c) differ for these settings.")
columns = st.columns(3)
for column, wiring in zip(columns, WIRINGS):
    toy = toys[wiring]
    with column:
        st.plotly_chart(
            dependency_heatmap(toy.matrix, groups, groups, f"{WIRING_TITLES[wiring]}: {percent(toy.fraction)}",
                               height=400),
            key=f"mix_heatmap_{wiring}",
        )  # fmt: skip
        by_layer = ", ".join(percent(f) for f in toy.fraction_by_layer)
        st.caption(f"Input channels reaching an output channel after 1…{layers} layers: {by_layer}.")

# --------------------------------------------------------------------------- step by step
st.header("The shuffle, step by step")
steps = shuffle_steps(channels, groups)
st.markdown(
    f"`channel_shuffle` reshapes the {channels} channels to a ({groups}, {per_group}) grid (one row per group), "
    f"transposes it to ({per_group}, {groups}) and reads it row by row. Output position *p* therefore holds input "
    f"channel (*p* mod {groups})·{per_group} + ⌊*p*/{groups}⌋, and the next group convolution's group *j* reads "
    f"positions {per_group}·*j* … {per_group}·*j* + {per_group - 1}."
)


def grid_frame(grid: np.ndarray, row_name: str, col_name: str):
    frame = pd.DataFrame(grid, index=[f"{row_name} {r}" for r in range(grid.shape[0])],
                         columns=[str(c) for c in range(grid.shape[1])])  # fmt: skip

    def colour(value: int) -> str:
        fill = group_color(int(value) // per_group)
        text = "black" if fill in ("#E69F00", "#56B4E9", "#F0E442") else "white"
        return f"background-color: {fill}; color: {text}; text-align: center"

    return frame.style.map(colour)


if channels <= 96:
    one, two, three = st.columns([2, 2, 3])
    with one:
        st.markdown(f"**1 · reshape to ({groups}, {per_group})**: row = group, column = index in the group")
        st.dataframe(grid_frame(steps.grid, "group", "index"), width="stretch")
    with two:
        st.markdown(f"**2 · transpose to ({per_group}, {groups})**: column = group")
        st.dataframe(grid_frame(steps.transposed, "row", "group"), width="stretch")
    with three:
        st.markdown("**3 · flatten**: the new channel order")
        st.code(" ".join(str(int(s)) for s in steps.source), language=None, wrap_lines=True)
st.plotly_chart(shuffle_mapping_figure(steps, height=320 if channels <= 48 else 260), key="mix_mapping")
with st.expander("The index mapping as a table (which input index goes where)"):
    st.dataframe(pd.DataFrame(steps.records()), hide_index=True, width="stretch")
    st.caption("Checked against the library's `channel_shuffle` on tensors by the tests.")

# --------------------------------------------------------------------------- measured
st.header("Measured on the real network")
st.caption(
    f"{config.label}: the model the sidebar builds (random weights: connectivity does not depend on training). "
    "The model is measured twice, with and without the shuffle."
)
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

# The paper's models (g <= 8, up to 2x) take well under a second per stage; very many groups
# or very wide stages take up to a minute on a small CPU, so those wait for a click.
heavy = config.groups > AUTO_MEASURE_MAX_GROUPS or max(config.plan().stage_channels) > AUTO_MEASURE_MAX_CHANNELS
measured_key = f"{config.with_(shuffle=True)!r}/stage{stage}"
done = st.session_state.setdefault("mix_measured_done", [])
if heavy and measured_key not in done:
    st.info(
        f"With g = {config.groups} and up to {max(config.plan().stage_channels)} channels a stage takes up to a "
        "minute to measure on this machine (the paper's models take under a second)."
    )
    if not st.button(f"Measure Stage{stage}", key="mix_measure_button"):
        st.stop()
with st.spinner(f"Measuring Stage{stage} with and without shuffle (forward-mode autograd)…"):
    results = {shuffle: cached_stage_mixing(config.with_(shuffle=shuffle), stage) for shuffle in (True, False)}
if measured_key not in done:
    done.append(measured_key)
on, off = results[True], results[False]
m_per_group = on.bottleneck // on.groups
matrices_on, matrices_off = on.matrices(scope), off.matrices(scope)
steps_count = len(matrices_on)
unit_word = "stride-1 unit" if scope == "stride1" else "unit"

if not steps_count:
    st.warning(f"Stage{stage} of this variant has no stride-1 units: choose “the stage's own input”.")
    st.stop()

full_on = on.units_to_full(scope)
fractions_on, fractions_off = on.fractions(scope), off.fractions(scope)
stacked = f"{steps_count} {unit_word}{'s' if steps_count > 1 else ''}"
variant_text = "" if config.variant == "standard" else f" {config.variant}"
if len(set(fractions_off)) == 1:
    off_text = (f"{percent(fractions_off[0])} of the input channels without shuffle, however many {unit_word}s are "
                "stacked")  # fmt: skip
else:
    off_text = (f"{percent(fractions_off[0])} of the input channels without shuffle after one {unit_word} "
                f"({percent(fractions_off[-1])} after {stacked})")  # fmt: skip
if full_on == 1:
    on_text = f"100% with shuffle, already after one {unit_word}"
elif full_on:
    on_text = f"{percent(fractions_on[0])} with shuffle after one {unit_word} and 100% after {full_on}"
else:
    on_text = (f"{percent(fractions_on[0])} with shuffle after one {unit_word} and {percent(fractions_on[-1])} "
               f"after {stacked}")  # fmt: skip
st.markdown(
    f"#### Takeaway: in Stage{stage} of ShuffleNet {config.width:g}×{variant_text} (g = {on.groups}, {stacked}), "
    f"an output channel depends on {off_text}; on {on_text}."
)

units = steps_count
if steps_count > 1:
    units = st.select_slider(f"Show the matrices after this many stacked {unit_word}s", list(range(1, steps_count + 1)),
                             value=1, key=f"mix_units_{scope}_{steps_count}")  # fmt: skip
in_channels = on.channels if scope == "stride1" else on.stage_in_channels
columns = st.columns(2)
for column, result, shuffle in zip(columns, (on, off), (True, False)):
    matrix = result.matrix(scope, units)
    current = " (the sidebar's model)" if shuffle == config.shuffle else ""
    title = f"{'With' if shuffle else 'Without'} shuffle{current}: {percent(float(matrix.mean()))} connected"
    in_label = f"Input channel of the {'units' if scope == 'stride1' else 'stage'} (index, {in_channels} in all)"
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

st.plotly_chart(
    fraction_figure(
        [{"name": f"with shuffle (g = {on.groups})", "fractions": fractions_on, "ranges": on.fraction_ranges(scope),
          "groups": on.groups},
         {"name": f"without shuffle (g = {on.groups})", "fractions": fractions_off,
          "ranges": off.fraction_ranges(scope), "groups": on.groups, "dash": "dash"}],
        f"{unit_word.capitalize()}s stacked (count)",
        f"Stage{stage}: how far information spreads, unit by unit",
    ),
    key="mix_fraction_chart",
)  # fmt: skip

table = pd.DataFrame({
    f"{unit_word}s stacked": list(range(1, steps_count + 1)),
    "with shuffle: mean %": [round(100 * f, 2) for f in fractions_on],
    "with shuffle: min %": [round(100 * lo, 2) for lo, _ in on.fraction_ranges(scope)],
    "without shuffle: mean %": [round(100 * f, 2) for f in fractions_off],
    "without shuffle: min %": [round(100 * lo, 2) for lo, _ in off.fraction_ranges(scope)],
})  # fmt: skip
with st.expander("The numbers behind the chart"):
    st.dataframe(table, hide_index=True, width="stretch")

st.subheader("Reading it")
g = on.groups
shortcut_note = (
    f"Each stride-1 unit adds its input back (identity shortcut), so output channel *i* always depends on input "
    f"channel *i* — the diagonal of every matrix. Without shuffle the residual branch of output group *j* reads "
    f"input "
    f"group *j* only, which already contains *i*: exactly 1/g = {percent(1 / g)} of the channels, however many units "
    f"are stacked. With shuffle, the last 1×1 group convolution's group *j* reads {m_per_group} bottleneck channels "
    f"(bottleneck {on.bottleneck} = C/4, split into g = {g} groups) coming from min({m_per_group}, {g}) = "
    f"{min(m_per_group, g)} different groups. "
)
if m_per_group >= g:
    shortcut_note += f"Since {m_per_group} ≥ g, one unit already reaches every input channel."
else:
    shortcut_note += (
        f"Since {m_per_group} < g, one unit reaches {m_per_group} of the {g} groups (plus its own channel through the "
        f"shortcut: the lone cells on the diagonal, pale blocks when drawn in blocks), and the fraction grows with "
        "each stacked unit."
    )
st.markdown(shortcut_note)
st.markdown(
    f"**What is measured.** Scope: {SCOPE_TITLES[scope]}. "
    + ("With “the stage's own input”, the first unit's output channels 0…"
       f"{on.stage_in_channels - 1} are the 3×3 average pool of the input, concatenated in front of the residual "
       "branch: each depends on its own input channel only. "
       + ("Stage2's first 1×1 convolution is not grouped, so its branch channels read every input channel. "
          if stage == 2 else "")
       if scope == "stage" else "")
    + "**How.** Forward-mode autograd (`torch.func.jvp`) through a copy of the stage of the model `build_model` "
    "returns, with BatchNorm in eval mode and the ReLUs replaced by the identity: a ReLU acts on one value at a "
    "time, so it can silence a path for some inputs but never creates one; without it the stage is affine and its "
    "Jacobian, hence the pattern, is the same for every input. One random probe per input channel (two rounds), "
    "1×1 pixels: every op that moves information between channels acts on each pixel alike, so the pattern is the "
    "same at 224×224. The tests check the measurement against the unit's structure (Fig. 2) for g = 1, 2, 3, 4, 8."
)  # fmt: skip
