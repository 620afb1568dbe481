"""Figures, cached helpers and sentences of the Channel shuffle page.

Figures are functions of library results, cached with ``st.cache_resource`` as shared,
read-only ``go.Figure`` objects (building a plotly figure costs tens of milliseconds, and a
page shows a dozen; ``st.plotly_chart`` re-validates a dict but takes a
Figure as it is), and the measurement is cached so that a (config, stage) pair is measured
once.
Colours: ``ui.shell.style.group_color(i)`` is channel group ``i`` everywhere (nodes of
the diagrams, heatmap cells, shuffle arrows); ``groups_color(g)`` is the model's g. Colour is
never the only cue: heatmaps draw the group boundaries and name the groups (up to
``MAX_GROUP_LABELS``), markers have a shape per group. Every figure takes ``present``
(presentation mode's larger fonts, ``ui.shell.style``).
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer.concurrency import counting_threads
from explorer.mixing import SCOPE_TITLES, ShuffleSteps, StageMixing, ToyMixing, measure_stage
from ui.figures.charts import base_layout, build_figure
from ui.figures.toy_figures import shuffle_animation_figure  # the animation lives with the toy's other figures
from ui.shell.cache import CONFIG_HASH, cached_model
from ui.shell.style import NEUTRAL, chart_font, group_color, group_symbol, groups_color

MAX_HEATMAP_CELLS = 96  # per axis (a cell is then >= 4 px); larger matrices are shown in group-aligned blocks
MAX_ARROWS = 48  # the shuffle mapping draws arrow heads up to this many channels
MAX_GROUP_LABELS = 16  # heatmaps name their groups (g0, g1, ...) up to this many
MEASURE_ENTRIES = 32
FIGURE_ENTRIES = 64


# --------------------------------------------------------------------------- caching


@st.cache_data(max_entries=MEASURE_ENTRIES, hash_funcs=CONFIG_HASH, show_spinner=False)
def cached_stage_mixing(config, stage: int) -> StageMixing:
    """``measure_stage`` on the app's cached model of ``config`` (keyed by config and stage).

    With 1 intra-op thread, as foreground work a latency measurement yields to (``counting_threads``).
    """
    model = cached_model(config)
    with counting_threads():
        return measure_stage(config, stage, model)


# --------------------------------------------------------------------------- heatmaps


def _bin_size(channels: int, groups: int, limit: int = MAX_HEATMAP_CELLS) -> int:
    """Smallest divisor of the group size that brings the axis to at most ``limit`` cells."""
    per_group = channels // groups
    for size in range(1, per_group + 1):
        if per_group % size == 0 and channels // size <= limit:
            return size
    return per_group


def _tint(color: str, amount: float = 0.35) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))

    def mix(c: int) -> int:
        return round(255 - (255 - c) * amount)

    return f"rgb({mix(red)},{mix(green)},{mix(blue)})"


def boundary_lines(positions, axis: str, line: dict) -> list[dict]:
    """Full-height (x) or full-width (y) lines as layout shapes: one ``update_layout`` instead of one
    ``add_vline`` per line (each of which re-validates the layout)."""
    other = "y" if axis == "x" else "x"
    return [
        {
            "type": "line",
            "xref": "x" if axis == "x" else "paper",
            "yref": "y" if axis == "y" else "paper",
            f"{axis}0": p,
            f"{axis}1": p,
            f"{other}0": 0,
            f"{other}1": 1,
            "line": line,
        }
        for p in positions
    ]


def _group_guides(rows: int, cols: int, out_groups: int, in_groups: int, present: bool) -> dict:
    """Layout entries: lines at the group boundaries of both axes, and the input groups' names along the top."""
    line = {"color": "#333333", "width": 1}
    shapes = boundary_lines([g * cols / in_groups - 0.5 for g in range(1, in_groups)], "x", line) + boundary_lines(
        [g * rows / out_groups - 0.5 for g in range(1, out_groups)], "y", line
    )
    names = (
        []
        if not 1 < in_groups <= MAX_GROUP_LABELS
        else [
            {
                "x": (g + 0.5) * cols / in_groups - 0.5,
                "y": 1.0,
                "yref": "paper",
                "yanchor": "bottom",
                "text": f"g{g}",
                "showarrow": False,
                "font": {"size": chart_font(present), "color": "#333333"},
            }
            for g in range(in_groups)
        ]
    )
    return {"shapes": shapes, "annotations": names}


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def dependency_heatmap(
    matrix: np.ndarray,
    in_groups: int,
    out_groups: int,
    title: str,
    height: int = 420,
    in_label: str = "Input channel (index)",
    out_label: str = "Output channel (index)",
    present: bool = False,
) -> go.Figure:
    """Output-by-input dependency matrix; a connected cell has its input channel's group colour.

    Matrices wider than ``MAX_HEATMAP_CELLS`` are drawn in blocks that never straddle a
    group: full colour = every pair in the block connected, pale = some, white = none.
    Group boundaries are drawn as lines and the input groups named along the top.
    """
    rows, cols = matrix.shape
    row_bin, col_bin = _bin_size(rows, out_groups), _bin_size(cols, in_groups)
    blocks = matrix.reshape(rows // row_bin, row_bin, cols // col_bin, col_bin).astype(np.float64).mean(axis=(1, 3))
    in_group = (np.arange(cols // col_bin) * col_bin) // (cols // in_groups)
    # level 0: none; 2k+1: group k partly; 2k+2: group k fully connected
    levels = np.where(blocks == 0, 0, np.where(blocks == 1, 2 * in_group[None, :] + 2, 2 * in_group[None, :] + 1))
    steps = 2 * in_groups + 1
    colorscale = []
    for level in range(steps):
        color = (
            "#ffffff"
            if level == 0
            else (group_color((level - 1) // 2) if level % 2 == 0 else _tint(group_color((level - 1) // 2)))
        )
        colorscale += [[level / steps, color], [(level + 1) / steps, color]]
    binned = row_bin > 1 or col_bin > 1
    # Hover from two small numbers per cell (sent as compact typed arrays), not one string per cell:
    # a 120x120 matrix of hover strings made the page's message several hundred kB.
    customdata = np.stack([np.broadcast_to(in_group[None, :], blocks.shape), np.round(100 * blocks)], axis=-1)
    cells = "outputs ≈ %{y:.0f}, inputs ≈ %{x:.0f}" if binned else "output %{y} ← input %{x}"
    heatmap = {
        "type": "heatmap",
        "z": levels.astype(np.uint8),
        "x": np.arange(cols // col_bin) * col_bin + (col_bin - 1) / 2,
        "y": np.arange(rows // row_bin) * row_bin + (row_bin - 1) / 2,
        "zmin": -0.5,
        "zmax": steps - 0.5,
        "colorscale": [[min(1.0, p), c] for p, c in colorscale],
        "showscale": False,
        "customdata": customdata.astype(np.uint8),
        "hovertemplate": f"{cells} (group %{{customdata[0]}}): connected %{{customdata[1]}}%<extra></extra>",
        "xgap": 0 if binned or cols > 48 else 1,
        "ygap": 0 if binned or rows > 48 else 1,
    }
    if binned:
        title += f"<br>{rows}×{cols} in {row_bin}×{col_bin} blocks (pale = partly)"
    layout = base_layout(
        title,
        in_label,
        out_label,
        height,
        present,
        xaxis={"rangemode": "normal", "side": "bottom"},
        yaxis={"autorange": "reversed", "rangemode": "normal", "scaleanchor": "x" if rows == cols else None},
        **_group_guides(rows, cols, out_groups, in_groups, present),
    )
    layout["margin"] = {"l": 70, "r": 10, "t": 110 if binned else 90, "b": 60}
    return build_figure([heatmap], layout)  # shared by every session: read-only


# --------------------------------------------------------------------------- shuffle mapping


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def shuffle_mapping_figure(steps: ShuffleSteps, height: int = 300, present: bool = False) -> go.Figure:
    """Input channels (top) and their positions after the shuffle (bottom), joined by arrows."""
    channels, groups = steps.channels, steps.groups
    per_group = channels // groups
    data = []
    size = max(8, min(24, 900 // max(channels, 1)))
    mode = "markers+text" if channels <= MAX_ARROWS else "markers"
    for g in range(groups):  # one trace of lines per group; an arrow head (a marker) at each line's end
        xs, ys = [], []
        for i in range(g * per_group, (g + 1) * per_group):
            xs += [i, int(steps.destination[i]), None]
            ys += [0.92, 0.08, None]
        heads = {"size": [0, 9, 0] * per_group, "symbol": "arrow", "angleref": "previous", "color": group_color(g)}
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "hoverinfo": "skip",
                "showlegend": False,
                "mode": "lines+markers" if mode != "markers" else "lines",
                "marker": heads,
                "line": {"color": group_color(g), "width": 1.5},
            }
        )
    for row, groups_of, text, where in (
        (1, [i // per_group for i in range(channels)], [str(i) for i in range(channels)], "top center"),
        (0, [int(s) // per_group for s in steps.source], [str(int(s)) for s in steps.source], "bottom center"),
    ):
        data.append(
            {
                "type": "scatter",
                "x": list(range(channels)),
                "y": [row] * channels,
                "mode": mode,
                "text": text,
                "textposition": where,
                "showlegend": False,
                "name": "before" if row else "after",
                "marker": {
                    "size": size,
                    "line": {"width": 0},
                    "color": [group_color(g) for g in groups_of],
                    "symbol": [group_symbol(g) for g in groups_of],
                },
                "customdata": (
                    [[i // per_group, int(steps.destination[i])] for i in range(channels)]
                    if row
                    else [[int(s), int(s) // per_group, p // per_group] for p, s in enumerate(steps.source)]
                ),
                "hovertemplate": (
                    "input channel %{x} (group %{customdata[0]}) → position %{customdata[1]}<extra></extra>"
                    if row
                    else "position %{x} holds input channel %{customdata[0]} (group %{customdata[1]});"
                    " read by group %{customdata[2]} of the next GConv<extra></extra>"
                ),
            }
        )
    boundaries = boundary_lines(
        [g * per_group - 0.5 for g in range(1, groups)],
        "x",  # next-layer groups
        {"color": NEUTRAL, "dash": "dot", "width": 1},
    )
    layout = base_layout(
        f"Where each input channel goes (C = {channels}, g = {groups})",
        "Channel position (index)",
        "",
        height,
        present,
        xaxis={"range": [-1, channels], "showgrid": False},
        yaxis={
            "tickvals": [0, 1],
            "ticktext": ["after shuffle", "before (GConv output)"],
            "range": [-0.45, 1.45],
            "rangemode": "normal",
            "showgrid": False,
        },
        shapes=boundaries,
    )
    return build_figure(data, layout)  # shared by every session: read-only


# --------------------------------------------------------------------------- fractions


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def fraction_figure(
    series: list[dict], x_title: str, title: str, height: int = 380, present: bool = False
) -> go.Figure:
    """Mean fraction of input channels reaching an output channel vs units stacked.

    ``series``: dicts with ``name``, ``fractions`` (mean per step), ``ranges`` ((min, max)
    per step), ``groups`` (colour) and ``dash``.
    """
    data = []
    for s in series:
        ranges = s.get("ranges") or [(f, f) for f in s["fractions"]]
        data.append(
            {
                "type": "scatter",
                "x": list(range(1, len(s["fractions"]) + 1)),
                "y": [100 * f for f in s["fractions"]],
                "mode": "lines+markers",
                "name": s["name"],
                "marker": {"size": 9},
                "line": {"color": groups_color(s["groups"]), "width": 3, "dash": s.get("dash", "solid")},
                "customdata": [[100 * lo, 100 * hi] for lo, hi in ranges],
                "hovertemplate": f"{s['name']}<br>%{{x}} stacked: %{{y:.1f}}% of the input channels on average"
                "<br>min %{customdata[0]:.1f}%, max %{customdata[1]:.1f}%<extra></extra>",
            }
        )
    longest = max((len(s["fractions"]) for s in series), default=1)
    layout = base_layout(
        title,
        x_title,
        "Input channels reaching an output channel (%)",
        height,
        present,
        xaxis={"tickmode": "linear", "dtick": 1, "range": [0.7, longest + 0.3]},
        yaxis={"range": [0, 105], "rangemode": "normal"},
    )
    layout["legend"].update(orientation="h", y=-0.25)
    return build_figure(data, layout)  # shared by every session: read-only


# --------------------------------------------------------------------------- sentences


def percent(value: float) -> str:
    return f"{100 * value:.0f}%" if math.isclose(value * 100, round(value * 100)) else f"{100 * value:.1f}%"


def reach_text(toy: ToyMixing) -> str:
    """How many input channels one output channel of the toy reaches, e.g. "4 of 12 input channels (33.3%)"."""
    counts = toy.matrix.sum(axis=1)
    if counts.min() == counts.max():
        return f"{int(counts[0])} of {toy.channels} input channels ({percent(toy.fraction)})"
    return f"on average {counts.mean():.1f} of {toy.channels} input channels ({percent(toy.fraction)})"


def _toy_verdict(none_toy: ToyMixing, shuffle_toy: ToyMixing) -> str:
    if shuffle_toy.groups == 1:
        return "with a single group every 1×1 convolution is dense already, so there is nothing to shuffle: raise g"
    if shuffle_toy.fraction > none_toy.fraction:
        return "the shuffle lets information cross groups"
    if shuffle_toy.layers == 1:
        return "with one layer nothing can cross groups yet: raise L"
    return "here the shuffle cannot help: each group has a single channel, so the shuffle keeps the order"


def toy_takeaway(none_toy: ToyMixing, shuffle_toy: ToyMixing) -> str:
    """What the shuffle changes in the toy, and why (or why not) for these C, g and L."""
    return (
        f"with C = {shuffle_toy.channels}, g = {shuffle_toy.groups} and L = {shuffle_toy.layers}, each output "
        f"channel sees {reach_text(none_toy)} without a shuffle, but {reach_text(shuffle_toy)} with one: "
        f"{_toy_verdict(none_toy, shuffle_toy)}."
    )


def two_layer_note(shuffle_toy: ToyMixing) -> str | None:
    """When stacked shuffled layers connect every input to every output (None where the question is moot)."""
    groups, layers = shuffle_toy.groups, shuffle_toy.layers
    if groups == 1 or layers < 2:
        return None
    per_group = shuffle_toy.channels // groups
    full_two = per_group >= groups
    note = (
        f"Two layers with a shuffle are fully connected exactly when C/g ≥ g: here C/g = {per_group} "
        f"{'≥' if full_two else '<'} g = {groups}, so they {'are' if full_two else 'are not'}."
    )
    if full_two:
        return note
    first_full = next((k for k, m in enumerate(shuffle_toy.matrices, start=1) if m.all()), None)
    if first_full:
        return note + f" With the shuffle, every output reaches every input after {first_full} layers."
    return note + f" With the shuffle, {layers} layers are not enough to reach every input."


def unit_word(scope: str) -> str:
    """What one step of the measured scope is: a stride-1 unit, or any unit of the whole stage."""
    return "stride-1 unit" if scope == "stride1" else "unit"


def measured_takeaway(on: StageMixing, off: StageMixing, scope: str, width: float, variant: str) -> str:
    """How far an output channel of the measured stage reaches, without and with the shuffle."""
    word = unit_word(scope)
    steps = len(on.matrices(scope))
    stacked = f"{steps} {word}{'s' if steps > 1 else ''}"
    fractions_on, fractions_off = on.fractions(scope), off.fractions(scope)
    if len(set(fractions_off)) == 1:
        off_text = (
            f"{percent(fractions_off[0])} of the input channels without shuffle, however many {word}s are stacked"
        )
    else:
        off_text = (
            f"{percent(fractions_off[0])} of the input channels without shuffle after one {word} "
            f"({percent(fractions_off[-1])} after {stacked})"
        )
    full_on = on.units_to_full(scope)
    if full_on == 1:
        on_text = f"100% with shuffle, already after one {word}"
    elif full_on:
        on_text = f"{percent(fractions_on[0])} with shuffle after one {word} and 100% after {full_on}"
    else:
        on_text = (
            f"{percent(fractions_on[0])} with shuffle after one {word} and {percent(fractions_on[-1])} after {stacked}"
        )
    variant_text = "" if variant == "standard" else f" {variant}"
    return (
        f"in Stage{on.stage} of ShuffleNet {width:g}×{variant_text} (g = {on.groups}, {stacked}), an output "
        f"channel depends on {off_text}; on {on_text}."
    )


def shortcut_note(on: StageMixing) -> str:
    """Why the measured matrices look as they do: the identity shortcut, and how many groups one unit reaches."""
    g = on.groups
    m_per_group = on.bottleneck // g
    note = (
        f"Each stride-1 unit adds its input back (identity shortcut), so output channel *i* always depends on input "
        f"channel *i* — the diagonal of every matrix. Without shuffle the residual branch of output group *j* reads "
        f"input group *j* only, which already contains *i*: exactly 1/g = {percent(1 / g)} of the channels, however "
        f"many units are stacked. With shuffle, the last 1×1 group convolution's group *j* reads {m_per_group} "
        f"bottleneck channels (bottleneck {on.bottleneck} = C/4, split into g = {g} groups) coming from "
        f"min({m_per_group}, {g}) = {min(m_per_group, g)} different groups. "
    )
    if m_per_group >= g:
        return note + f"Since {m_per_group} ≥ g, one unit already reaches every input channel."
    return note + (
        f"Since {m_per_group} < g, one unit reaches {m_per_group} of the {g} groups (plus its own channel through the "
        f"shortcut: the lone cells on the diagonal, pale blocks when drawn in blocks), and the fraction grows with "
        "each stacked unit."
    )


def stage_note(on: StageMixing, off: StageMixing) -> str:
    """Why the whole-stage matrices look as they do (scope "the stage's own input"), from the measured fractions."""
    g, c_in, c = on.groups, on.stage_in_channels, on.channels
    first = (
        "not grouped, so each of its channels reads every input channel"
        if on.stage == 2 or g == 1
        else f"grouped (g = {g}), so its group *j* reads input group *j* only"
    )
    note = (
        f"From the stage's own input ({c_in} channels), the first unit (stride 2) concatenates the 3×3 average pool "
        f"of the input (output channels 0…{c_in - 1}, each depending on its own input channel only) with its "
        f"residual branch ({c - c_in} channels), whose first 1×1 convolution is {first}. "
    )
    off_fractions, on_fractions = off.fractions("stage"), on.fractions("stage")
    steps, low, high = len(off_fractions), *off.fraction_ranges("stage")[-1]
    stacked = f"{steps} unit{'s' if steps > 1 else ''}"
    average = "" if math.isclose(low, high) else " on average"
    not_one_over_g = "" if math.isclose(off_fractions[-1], 1 / g) else f", not 1/g = {percent(1 / g)}"
    if steps > 1 and g > 1:
        note += (
            f"The stride-1 units then split these {c} channels into g = {g} contiguous groups, and one such group "
            "can hold channels that come from more than one input group. "
        )
    note += (
        f"Without shuffle an output channel therefore depends{average} on {percent(off_fractions[-1])} of the "
        f"stage's input channels after {stacked}{not_one_over_g}; "
    )
    full = on.units_to_full("stage")
    on_text = f"100% from unit {full} on" if full else f"{percent(on_fractions[-1])} after {stacked}"
    return note + f"with shuffle, {on_text}."


def reading_note(on: StageMixing, off: StageMixing, scope: str) -> str:
    """The "Reading it" text for the scope shown: stride-1 units only, or the whole stage."""
    return shortcut_note(on) if scope == "stride1" else stage_note(on, off)


def method_text(stage: int, scope: str, stage_in_channels: int) -> str:
    """How the measured matrices are measured, and why that is sound (a method note)."""
    text = f"**What is measured.** Scope: {SCOPE_TITLES[scope]}. "
    if scope == "stage":
        text += (
            f"With “the stage's own input”, the first unit's output channels 0…{stage_in_channels - 1} are the "
            "3×3 average pool of the input, concatenated in front of the residual branch: each depends on its "
            "own input channel only. "
        )
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


__all__ = [
    "cached_stage_mixing",
    "dependency_heatmap",
    "fraction_figure",
    "measured_takeaway",
    "method_text",
    "percent",
    "reach_text",
    "reading_note",
    "stage_note",
    "shortcut_note",
    "shuffle_animation_figure",
    "shuffle_mapping_figure",
    "toy_takeaway",
    "two_layer_note",
    "unit_word",
]
