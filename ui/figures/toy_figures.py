"""Plotly figures of Fig. 1's toy that a class can touch: the layered channels to click, the shuffle animated.

* ``trace_figure``: the toy's channels layer by layer (input on top), one marker per
  channel (colour and marker shape = group, hover = channel and group) and the 1x1 group
  convolutions' connections as lines. One channel can be selected (a click, or the page's
  selectbox): the channels it depends on (layers above) and the ones it reaches (below)
  light up, with the connections between them. What lights up comes from
  ``explorer.mixing.trace_channel``, never from the drawing.
* ``shuffle_animation_figure``: ``channel_shuffle`` as a plotly animation, from
  ``explorer.mixing.shuffle_steps``: the GConv output in a row, reshaped to (g, C/g),
  transposed to (C/g, g), flattened. Play / Pause buttons and a step slider.
* ``grid_frame``: a reshape / transpose grid as a coloured table.

Every marker keeps its group's colour and shape through every frame; the channel number
is written on it while there is room (``MAX_LABELLED``), so colour is never the only cue.
Figures are cached as shared, read-only ``go.Figure`` objects (``st.cache_resource``), which
``st.plotly_chart`` takes without re-validating them (see ``ui.figures.mixing``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from pandas.io.formats.style import Styler

from explorer.mixing import WIRING_TITLES, layer_masks, shuffle_steps, trace_channel
from ui.figures.charts import base_layout, build_figure
from ui.shell.presentation import presenting
from ui.shell.style import HIGHLIGHT, NEUTRAL, chart_font, group_color, group_symbol, text_color

FIGURE_ENTRIES = 64
MAX_LABELLED = 32  # the animation writes channel numbers on its markers up to this many channels
MAX_LABELLED_TRACE = 12  # the trace drawings (half a page wide each) up to this many
TRACE_PLOT_PX = 360  # about the width of a trace drawing's plot area (half the page, minus the row names)
MAX_EDGES = 3000  # per figure: above this only the lit connections are drawn
FRAME_MS = 900


def _marker_size(channels: int, present: bool) -> int:
    return max(7, min(30 if present else 24, 900 // max(channels, 1)))


def layer_names(layers: int) -> list[str]:
    return ["input", *[f"GConv{k}" + (" (output)" if k == layers else "") for k in range(1, layers + 1)]]


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def trace_figure(
    channels: int, groups: int, layers: int, wiring: str, selected: tuple[int, int] | None, present: bool = False
) -> go.Figure:
    """The toy's channels per layer; ``selected`` = (layer, channel) lights up what it depends on and reaches."""
    per_group = channels // groups
    masks = layer_masks(channels, groups, layers, wiring)
    linked = None if selected is None else trace_channel(channels, groups, layers, wiring, *selected)
    data = []
    edges = sum(int(m.sum()) for m in masks)
    for lit in (False, True):
        if lit and linked is None:
            continue
        xs, ys = [], []
        for k, mask in enumerate(masks):  # mask: layer k (y = k) -> layer k + 1
            out, inp = np.nonzero(mask)
            if lit:
                keep = (linked[k + 1][out] == 1) & (linked[k][inp] == 1)
                out, inp = out[keep], inp[keep]
            elif edges > MAX_EDGES:
                continue
            for o, i in zip(out.tolist(), inp.tolist()):
                xs += [i, o, None]
                ys += [k, k + 1, None]
        data.append(
            {
                "type": "scatter",
                "x": xs,
                "y": ys,
                "mode": "lines",
                "hoverinfo": "skip",
                "showlegend": False,
                "name": "lit" if lit else "connections",
                "opacity": 1.0 if lit else 0.35,
                "line": {"color": "#222222" if lit else NEUTRAL, "width": 2.2 if lit else 0.6},
            }
        )
    nodes = [(k, c) for k in range(layers + 1) for c in range(channels)]
    group = [c // per_group for _, c in nodes]
    on = [linked is None or bool(linked[k, c]) for k, c in nodes]
    marked = linked is not None
    size = max(6, min(22, int(0.7 * TRACE_PLOT_PX / channels)))  # markers never touch their neighbours
    names = layer_names(layers)
    data.append(
        {
            "type": "scatter",
            "x": [c for _, c in nodes],
            "y": [k for k, _ in nodes],
            "name": "channels",
            "mode": "markers+text" if channels <= MAX_LABELLED_TRACE else "markers",
            "showlegend": False,
            "marker": {
                "size": size,
                "color": [group_color(g) for g in group],
                "symbol": [group_symbol(g) for g in group],
                "opacity": [1.0 if lit else 0.2 for lit in on],
                "line": {"color": ["#000000" if lit and marked else "#ffffff" for lit in on], "width": 1.5},
            },
            "text": [str(c) for _, c in nodes],
            "textposition": "middle center",
            "textfont": {"size": chart_font(present) - 3, "color": [text_color(group_color(g)) for g in group]},
            "customdata": [[k, c, g] for (k, c), g in zip(nodes, group)],
            "hovertext": [f"{names[k]}: channel {c} (group {g})" for (k, c), g in zip(nodes, group)],
            "hovertemplate": "%{hovertext}<extra></extra>",
            "selected": {"marker": {"opacity": 1}},
            "unselected": {"marker": {"opacity": 1}},
        }
    )
    if selected is not None:
        k, c = selected
        data.append(
            {
                "type": "scatter",
                "x": [c],
                "y": [k],
                "mode": "markers",
                "name": "selected",
                "showlegend": False,
                "hoverinfo": "skip",
                "marker": {
                    "size": size * 1.9,
                    "color": "rgba(0,0,0,0)",
                    "symbol": "circle-open",
                    "line": {"color": HIGHLIGHT, "width": 4},
                },
            }
        )
    layout = base_layout(
        WIRING_TITLES[wiring],
        "Channel (index)",
        "",
        150 + 90 * layers,
        present,
        xaxis={"range": [-0.8, channels - 0.2], "showgrid": False, "zeroline": False},
        yaxis={
            "autorange": "reversed",
            "tickvals": list(range(layers + 1)),
            "ticktext": names,
            "showgrid": False,
            "zeroline": False,
            "rangemode": "normal",
        },
        clickmode="event+select",
        dragmode=False,
    )
    layout["margin"] = {"l": 150 if present else 120, "r": 10, "t": 50, "b": 50}
    return build_figure(data, layout)  # shared by every session: read-only


def lit_nodes(figure: go.Figure | dict) -> set[tuple[int, int]]:
    """(layer, channel) of every lit marker of a ``trace_figure`` (all of them when nothing is selected)."""
    figure = figure if isinstance(figure, dict) else figure.to_dict()
    trace = next(t for t in figure["data"] if t.get("name") == "channels")
    opacity = trace["marker"]["opacity"]
    return {(int(k), int(c)) for (k, c, _), o in zip(trace["customdata"], opacity) if o == 1.0}


# --------------------------------------------------------------------------- the shuffle animated


def _positions(steps, frame: int) -> tuple[list[float], list[float]]:
    """Where each input channel sits in frame 0 (row), 1 (reshape), 2 (transpose), 3 (flatten)."""
    channels, groups = steps.channels, steps.groups
    per_group = channels // groups
    index = np.arange(channels)
    if frame == 0:
        x, y = index * 1.0, np.zeros(channels)
    elif frame == 1:  # (g, C/g): row = group, column = index in the group
        x, y = (index % per_group) * (channels / per_group), -(index // per_group) - 1.0
    elif frame == 2:  # (C/g, g): column = group, row = index in the group
        x, y = (index // per_group) * (channels / groups), -(index % per_group) - 1.0
    else:
        x, y = steps.destination * 1.0, np.zeros(channels)
    return x.tolist(), y.tolist()


FRAME_TITLES = (
    "GConv output: C = {C} channels in g = {g} groups",
    "1 · reshape to ({g}, {n}): one row per group",
    "2 · transpose to ({n}, {g}): one column per group",
    "3 · flatten: the shuffled order, read row by row",
)


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def _shuffle_animation(channels: int, groups: int, present: bool) -> go.Figure:
    steps = shuffle_steps(channels, groups)
    per_group = channels // groups
    group = [i // per_group for i in range(channels)]
    size = _marker_size(channels, present)
    labelled = channels <= MAX_LABELLED

    text_colours = [text_color(group_color(g)) for g in group]
    colours, symbols = [group_color(g) for g in group], [group_symbol(g) for g in group]

    def scatter(frame: int) -> dict:
        x, y = _positions(steps, frame)
        return {
            "type": "scatter",
            "x": x,
            "y": y,
            "mode": "markers+text" if labelled else "markers",
            "text": [str(i) for i in range(channels)],
            "textposition": "middle center",
            "showlegend": False,
            "textfont": {"size": chart_font(present) - (3 if channels > 16 else 0), "color": text_colours},
            "marker": {"size": size, "color": colours, "symbol": symbols},
            "customdata": [[g, int(steps.destination[i])] for i, g in enumerate(group)],
            "hovertemplate": "channel %{text} (group %{customdata[0]}) → position %{customdata[1]}<extra></extra>",
        }

    names = [title.format(C=channels, g=groups, n=per_group) for title in FRAME_TITLES]
    rows = max(groups, per_group)
    move = {
        "frame": {"duration": FRAME_MS, "redraw": True},
        "transition": {"duration": FRAME_MS // 2},
        "mode": "immediate",
        "fromcurrent": True,
    }
    font = {"size": chart_font(present)}
    layout = base_layout(
        names[0],
        "",
        "",
        min(620, 190 + (size + 10) * rows),
        present,
        xaxis={"visible": False, "range": [-1, channels], "showgrid": False},
        yaxis={"visible": False, "range": [-rows - 0.7, 0.7], "showgrid": False, "rangemode": "normal"},
        updatemenus=[
            {
                "type": "buttons",
                "direction": "left",
                "x": 0,
                "y": -0.02,
                "xanchor": "left",
                "yanchor": "top",
                "showactive": False,
                "font": font,
                "pad": {"r": 10, "t": 10},
                "buttons": [
                    {"label": "▶ Play", "method": "animate", "args": [None, move]},
                    {
                        "label": "❚❚ Pause",
                        "method": "animate",
                        "args": [[None], {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}],
                    },
                ],
            }
        ],
        sliders=[
            {
                "active": 0,
                "x": 0.25,
                "len": 0.75,
                "y": -0.02,
                "yanchor": "top",
                "font": font,
                "pad": {"t": 10},
                "currentvalue": {"prefix": "Step: ", "font": font},
                "steps": [
                    {
                        "label": label,
                        "method": "animate",
                        "args": [[str(f)], {**move, "frame": {"duration": 0, "redraw": True}}],
                    }
                    for f, label in enumerate(("output", "reshape", "transpose", "flatten"))
                ],
            }
        ],
    )
    layout["margin"] = {"l": 20, "r": 20, "t": 60, "b": 110}
    frames = [{"data": [scatter(f)], "name": str(f), "layout": {"title": {"text": names[f]}}} for f in range(4)]
    return build_figure([scatter(0)], layout, frames)  # shared by every session: read-only


def shuffle_animation_figure(channels: int, groups: int, present: bool | None = None) -> go.Figure:
    """``channel_shuffle`` of C channels in g groups, animated: output row, reshape, transpose, flatten.

    Play / Pause and a step slider; one marker per channel, coloured and shaped by group,
    numbered up to 32 channels. ``present`` defaults to this session's presentation mode.
    Returns a shared, read-only ``go.Figure`` for ``st.plotly_chart``. ``ValueError`` names a bad C or g.
    """
    return _shuffle_animation(channels, groups, presenting() if present is None else bool(present))


# --------------------------------------------------------------------------- grids


def grid_frame(grid: np.ndarray, row_name: str, per_group: int) -> Styler:
    """A grid of channel indices, each cell in the colour of the group the channel comes from."""
    frame = pd.DataFrame(
        grid, index=[f"{row_name} {r}" for r in range(grid.shape[0])], columns=[str(c) for c in range(grid.shape[1])]
    )

    def colour(value: int) -> str:
        fill = group_color(int(value) // per_group)
        return f"background-color: {fill}; color: {text_color(fill)}; text-align: center"

    return frame.style.map(colour)
