"""Figures of the Channel shuffle page: dependency heatmaps, the shuffle's index mapping, the spread unit by unit.

* ``dependency_heatmap``: an output-by-input dependency matrix (the toy's or the measured
  stage's), in group-aligned blocks past ``MAX_HEATMAP_CELLS`` per axis.
* ``shuffle_mapping_figure``: where each input channel goes (arrows up to ``MAX_ARROWS``).
* ``fraction_figure``: the fraction of input channels an output channel reaches vs units stacked.

The shuffle's animation lives with the toy's other figures (``ui.figures.toy_figures``), the
sentences beside these figures in ``ui.mixing.text`` and the cached measurement in
``ui.mixing.measured``.

Figures are functions of library results, cached with ``st.cache_resource`` (at most
``FIGURE_ENTRIES`` each) as shared, read-only ``go.Figure`` objects (building a plotly figure
costs tens of milliseconds, and a page shows a dozen; ``st.plotly_chart`` re-validates a dict
but takes a Figure as it is).
Colours: ``ui.shell.style.group_color(i)`` is channel group ``i`` everywhere (nodes of
the diagrams, heatmap cells, shuffle arrows); ``groups_color(g)`` is the model's g. Colour is
never the only cue: heatmaps draw the group boundaries and name the groups (up to
``MAX_GROUP_LABELS``), markers have a shape per group. Every figure takes ``present``
(presentation mode's larger fonts, ``ui.shell.style``).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from explorer.mixing import ShuffleSteps
from ui.figures.charts import base_layout, build_figure
from ui.shell.style import NEUTRAL, chart_font, group_color, group_symbol, groups_color

MAX_HEATMAP_CELLS = 96  # per axis (a cell is then >= 4 px); larger matrices are shown in group-aligned blocks
MAX_ARROWS = 48  # the shuffle mapping draws arrow heads up to this many channels
MAX_GROUP_LABELS = 16  # heatmaps name their groups (g0, g1, ...) up to this many
FIGURE_ENTRIES = 64


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
