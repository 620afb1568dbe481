"""Plotly figures of the Lecture page, one per step that is a chart, from plain values.

Cached with ``st.cache_resource`` on plain arguments (ints, floats, strings, tuples): one
shared ``go.Figure`` per argument set, which callers must not change. A class of twenty
stepping through the lecture together asks for the same few figures; ``st.plotly_chart``
re-validates a dict on every call (under the GIL shared by every session),
but sends a figure object as it is. Numbers reported in the paper come from
``explorer.paper`` and say so in the figure's title; computed numbers are passed in by the
caller (``ui/lecture/steps.py``). Colours: ``groups_color(g)`` is the model's g everywhere,
``CURRENT`` outlines the sidebar's model, ``NEUTRAL`` is what is neither. Every function
takes ``present`` (presentation mode): no text is smaller than ``ui.shell.style.chart_font``.
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from explorer import paper
from explorer.shufflenet import PAPER_GROUPS
from ui.figures.charts import GROUPS_AXIS, log_axis, style_figure
from ui.latency.chart import ALEXNET_COLOR
from ui.shell.style import CURRENT, NEUTRAL, chart_font, groups_color

FIGURE_HEIGHT = 410
DRAWN_HEIGHT = 400  # px: what ``ui.lecture.nav`` draws every chart at (one 1280x720 screen with the navigation)
FIGURE_ENTRIES = 64
ERROR_AXIS = "Top-1 error (%, lower is better)"


def readable(figure: go.Figure, present: bool) -> go.Figure:
    """Every axis (subplots too), legend and subplot title at the base size (Streamlit's theme makes ticks smaller)."""
    size = chart_font(present)
    figure.update_xaxes(tickfont={"size": size}, title_font={"size": size})
    figure.update_yaxes(tickfont={"size": size}, title_font={"size": size})
    figure.update_annotations(font={"size": size})
    figure.update_layout(legend={"font": {"size": size}})
    return figure


def legend_below(figure: go.Figure, rows: int, present: bool, top: int = 60) -> go.Figure:
    """The legend under the x-axis title, never on it: the bottom margin holds the tick labels, the axis
    title and ``rows`` legend rows, and the legend starts under the title (paper coordinates of the drawn plot)."""
    size = chart_font(present)
    axis = int(4.2 * size) + 4  # tick labels, the axis title and the gaps around them
    bottom = axis + int(rows * 1.6 * size) + 8
    plot = DRAWN_HEIGHT - top - bottom
    figure.update_layout(
        margin={"t": top, "b": bottom},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": -axis / plot, "yanchor": "top"},
    )
    return figure


def millions(value: float) -> str:
    """Multiply-adds in millions, e.g. ``0.92 M``, ``136.5 M``."""
    return f"{value / 1e6:.2f} M" if value < 1e7 else f"{value / 1e6:.1f} M"


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def unit_cost_figure(
    series: tuple[tuple[str, int, tuple[int, ...]], ...],
    layers: tuple[str, ...],
    title: str,
    present: bool = False,
    height: int = FIGURE_HEIGHT,
) -> go.Figure:
    """Multiply-adds of each layer of one unit, one horizontal bar per layer and series.

    ``series``: (name, groups g for the colour, multiply-adds per layer in ``layers`` order).
    Each bar says its share of that series' whole unit.
    """
    figure = go.Figure()
    for name, groups, macs in series:
        total = sum(macs)
        figure.add_trace(
            go.Bar(
                y=list(layers),
                x=[m / 1e6 for m in macs],
                orientation="h",
                name=name,
                marker={"color": groups_color(groups)},
                text=[f"{millions(m)} ({100 * m / total:.1f}%)" for m in macs],
                textposition="outside",
                cliponaxis=False,
                hovertemplate=f"{name}<br>%{{y}}: %{{x:.3f}} M multiply-adds<extra></extra>",
            )
        )
    style_figure(figure, title, "Multiply-adds (millions, computed here)", "", height=height, present=present)
    figure.update_yaxes(autorange="reversed")
    longest = max(max(m) for _, _, m in series) / 1e6
    figure.update_xaxes(range=[0, longest * 1.45])
    figure.update_layout(barmode="group", margin={"l": 10, "r": 20}, showlegend=len(series) > 1)
    legend_below(figure, 1, present)
    return readable(figure, present)


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def budget_channels_figure(
    rows: tuple[tuple[int, tuple[int, int, int], int], ...],
    current_groups: int,
    title: str,
    present: bool = False,
    height: int = FIGURE_HEIGHT,
) -> go.Figure:
    """Stage2 output channels for each g at (nearly) the same cost; Stage3 and Stage4 on the bar's label.

    ``rows``: (g, (Stage2, Stage3, Stage4) channels, multiply-adds). The sidebar's g is outlined.
    """
    figure = go.Figure(
        go.Bar(
            x=[f"g = {g}<br>{millions(macs)}" for g, _, macs in rows],
            y=[channels[0] for _, channels, _ in rows],
            marker={
                "color": [groups_color(g) for g, _, _ in rows],
                "line": {"color": CURRENT, "width": [4 if g == current_groups else 0 for g, _, _ in rows]},
            },
            text=[" · ".join(map(str, channels)) for _, channels, _ in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>Stage2 / 3 / 4 output channels: %{text}<extra></extra>",
        )
    )
    style_figure(
        figure,
        title,
        "Groups g, and the model's multiply-adds (computed here)",
        "Stage2 output channels (count)",
        height=height,
        present=present,
    )
    figure.update_yaxes(range=[0, max(c[0] for _, c, _ in rows) * 1.25])
    return readable(figure, present)


def _width_label(width: float, variant: str) -> str:
    return f"{width:g}x{' arch2' if variant == 'arch2' else ''}"


class _Line:
    """The points of several plotly lines drawn as one trace: per-point values, a None between lines."""

    def __init__(self) -> None:
        self.x: list = []
        self.y: list = []
        self.colors: list[str] = []
        self.outlines: list[float] = []
        self.outline_colors: list[str] = []
        self.text: list[str] = []
        self.names: list[str] = []

    def add(self, x, y, color: str, outline: float, text: str, name: str, outline_color: str = CURRENT) -> None:
        for values, value in (
            (self.x, x),
            (self.y, y),
            (self.colors, color),
            (self.outlines, outline),
            (self.outline_colors, outline_color),
            (self.text, text),
            (self.names, name),
        ):
            values.append(value)

    def start(self) -> None:
        """A new line: a None point apart from the previous one (plotly breaks the line there)."""
        if self.x:
            self.add(None, None, "white", 0, "", "", "white")


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def reported_errors_figure(
    groups: int, width: float, variant: str, present: bool = False, height: int = FIGURE_HEIGHT + 20
) -> go.Figure:
    """Tables 2 and 3 as reported in the paper: error vs g, and error without vs with the shuffle.

    Table 2: one line per width (arch2 dashed), a marker per g in that g's colour. Table 3: one
    row per model, ○ without and ● with the shuffle. The sidebar's model is drawn thick and
    outlined in ``CURRENT`` where the paper has it. At most five traces: lines of one style share one.
    """
    figure = make_subplots(
        rows=1,
        cols=2,
        horizontal_spacing=0.2,
        column_widths=[0.45, 0.55],
        subplot_titles=("Table 2: error vs g (dashed: arch2)", "Table 3: without ○ / with ● shuffle"),
    )
    # Few traces (a browser draws each with its own layers): one per line style, lines apart by a None gap.
    table2: dict[tuple[bool, bool], _Line] = {}
    rows: dict[tuple[float, str], list[paper.Reported]] = {}
    for row in paper.TABLE2:
        rows.setdefault((row.config.width, row.config.variant), []).append(row)
    for (row_width, row_variant), cells in rows.items():
        current = (row_width, row_variant) == (width, variant)
        line = table2.setdefault((row_variant == "arch2", current), _Line())
        line.start()
        label = _width_label(row_width, row_variant)
        for i, cell in enumerate(cells):
            last = i == len(cells) - 1 and row_variant != "arch2"
            line.add(
                str(cell.config.groups),
                cell.error,
                groups_color(cell.config.groups),
                3 if current and cell.config.groups == groups else 0,
                f"{row_width:g}×" if last else "",
                f"ShuffleNet {label}, g = {cell.config.groups}",
            )
    for (arch2, current), line in sorted(table2.items()):
        figure.add_trace(
            go.Scatter(
                x=line.x,
                y=line.y,
                mode="lines+markers+text",
                text=line.text,
                textposition="middle right",
                line={
                    "color": CURRENT if current else NEUTRAL,
                    "width": 4 if current else 1.5,
                    "dash": "dash" if arch2 else "solid",
                },
                marker={"color": line.colors, "size": 11, "line": {"color": CURRENT, "width": line.outlines}},
                cliponaxis=False,
                showlegend=False,
                customdata=line.names,
                connectgaps=False,
                hovertemplate="%{customdata}: %{y}% (reported in the paper)<extra></extra>",
            ),
            row=1,
            col=1,
        )
    table3: dict[bool, _Line] = {}
    for without, with_ in reversed(list(zip(paper.TABLE3[::2], paper.TABLE3[1::2]))):  # the paper's first row on top
        config = with_.config
        label = f"{_width_label(config.width, config.variant)}, g = {config.groups}"
        current = (config.groups, config.width, config.variant) == (groups, width, variant)
        outline = CURRENT if current else groups_color(config.groups)
        line = table3.setdefault(current, _Line())
        line.start()
        line.add(without.error, label, "white", 2, "", f"ShuffleNet {label}, without shuffle", outline)
        line.add(with_.error, label, groups_color(config.groups), 2, "", f"ShuffleNet {label}, with shuffle", outline)
    for current, line in sorted(table3.items()):
        figure.add_trace(
            go.Scatter(
                x=line.x,
                y=line.y,
                mode="lines+markers",
                line={"color": CURRENT if current else NEUTRAL, "width": 4 if current else 2},
                marker={
                    "size": 14,
                    "color": line.colors,
                    "line": {"color": line.outline_colors, "width": line.outlines},
                },
                showlegend=False,
                customdata=line.names,
                connectgaps=False,
                hovertemplate="%{customdata}: %{x}% (reported in the paper)<extra></extra>",
            ),
            row=1,
            col=2,
        )
    style_figure(figure, "Reported in the paper: ImageNet top-1 error", "", ERROR_AXIS, height=height, present=present)
    figure.update_xaxes(
        title_text=GROUPS_AXIS,
        type="category",
        categoryorder="array",
        categoryarray=[str(g) for g in PAPER_GROUPS],
        row=1,
        col=1,
    )
    figure.update_xaxes(title_text=ERROR_AXIS, row=1, col=2)
    figure.update_yaxes(rangemode="normal")
    figure.update_yaxes(title_text="", row=1, col=2)
    figure.update_layout(margin={"l": 70, "r": 20, "t": 80, "b": 60})
    return readable(figure, present)


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def table8_figure(present: bool = False, height: int = FIGURE_HEIGHT) -> go.Figure:
    """Table 8 as reported in the paper: milliseconds per image at three inputs, log scale."""
    figure = go.Figure()
    inputs = [f"{h}×{w}" for h, w in paper.TABLE8_INPUTS]
    for row in paper.TABLE8:
        shufflenet = getattr(row.config, "groups", None)
        figure.add_trace(
            go.Bar(
                x=inputs,
                y=list(row.milliseconds),
                name=f"{row.model} ({row.mflops:g} MFLOPs)",
                marker={
                    "color": ALEXNET_COLOR if shufflenet is None else groups_color(shufflenet),
                    "pattern": {"shape": "/" if getattr(row.config, "width", 1.0) < 1 else ""},
                },
                text=[f"{ms:g} ms" for ms in row.milliseconds],
                textposition="outside",
                cliponaxis=False,
                textfont={"size": chart_font(present)},
                constraintext="none",
                hovertemplate=f"{row.model} at %{{x}}: %{{y}} ms (reported in the paper)<extra></extra>",
            )
        )
    style_figure(
        figure,
        f"Reported in the paper:<br>{paper.TABLE8_DEVICE}",
        "Input (height × width, pixels)",
        "ms per image (log scale)",
        height=height,
        present=present,
    )
    log_axis(figure, "y", [ms for row in paper.TABLE8 for ms in row.milliseconds])  # every tick written in full
    figure.update_yaxes(rangemode="normal", range=[1, 4.1])
    figure.update_layout(barmode="group")
    legend_below(figure, len(paper.TABLE8), present, top=80)  # one entry per row: they are long
    return readable(figure, present)
