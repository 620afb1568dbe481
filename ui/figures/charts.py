"""Plotly figures of the app: one colour per group count (``ui.shell.style``), units on every axis.

Pure functions (no Streamlit) from plain records to ``plotly.graph_objects.Figure``. Every
function takes ``present`` (presentation mode): the font sizes come from ``ui.shell.style``, and
no text is drawn smaller than the base size (>= 12 px; >= 16 px when presenting).
"""

from __future__ import annotations

import math

import plotly.graph_objects as go

from explorer import ShuffleNetConfig
from ui.shell.style import BUDGET_LINE, HIGHLIGHT, NEUTRAL, OTHER_NETWORKS, chart_font, groups_color

TEMPLATE = "plotly_white"
FONT_SIZE = chart_font(False)  # projector-readable; presentation mode: chart_font(True)
MACS_AXIS = "Multiply-adds (millions, paper convention)"
WIDTH_AXIS = "Width multiplier s (×)"
GROUPS_AXIS = "Groups g (count)"


def base_layout(
    title: str,
    x_title: str,
    y_title: str,
    height: int = 420,
    present: bool = False,
    xaxis: dict | None = None,
    yaxis: dict | None = None,
    **extra,
) -> dict:
    """The app's layout as a plain dict: title, axis titles, template, font sizes (larger when presenting).

    ``xaxis`` / ``yaxis`` / ``extra`` add to (or replace) its entries. Axis fonts are explicit:
    Streamlit's plotly theme (a template) sets 12 px tick labels, which beat ``layout.font``.
    """
    size = chart_font(present)

    def axis(text: str, **more) -> dict:
        return {
            "title": {"text": text, "font": {"size": size}},
            "tickfont": {"size": size},
            "showline": True,
            "linecolor": "#888",
            **more,
        }

    return {
        "title": {"text": title, "font": {"size": size + 2}},
        "template": TEMPLATE,
        "font": {"size": size},
        "height": height + (60 if present else 0),
        "margin": {"l": 70, "r": 20, "t": 60, "b": 60},
        "legend": {"title": {"text": ""}, "font": {"size": size}},
        "hoverlabel": {"font": {"size": size}},
        "xaxis": axis(x_title, **{"mirror": False, **(xaxis or {})}),
        "yaxis": axis(y_title, **{"rangemode": "tozero", **(yaxis or {})}),
        **extra,
    }


def build_figure(data: list[dict], layout: dict, frames: list[dict] | None = None) -> go.Figure:
    """A figure from plain dicts in one validation pass (each ``add_*`` / ``update_*`` call re-validates:
    a figure built call by call is several times slower than one built at once)."""
    return go.Figure({"data": data, "layout": layout, **({"frames": frames} if frames else {})})


def style_figure(
    figure: go.Figure, title: str, x_title: str, y_title: str, height: int = 420, present: bool = False
) -> go.Figure:
    """``base_layout`` applied to a figure built trace by trace."""
    return figure.update_layout(base_layout(title, x_title, y_title, height, present))


def log_ticks(low: float, high: float) -> list[float]:
    """Tick values for a log axis from ``low`` to ``high``: 1-2-5 per decade, fewer when it spans many decades.

    Plotly's own log ticks label the 2s and 5s of each decade with a bare "2" or "5"
    ("2, 5, 100, 2, 5"); these are written out in full by ``log_axis``.
    """
    if not (0 < low <= high) or not math.isfinite(high):
        raise ValueError(f"log ticks need 0 < low <= high, got {low!r}, {high!r}")
    first, last = math.floor(math.log10(low)), math.ceil(math.log10(high))
    decades = last - first
    mantissas = (1, 2, 5) if decades <= 3 else (1, 3) if decades <= 5 else (1,)
    values = [m * 10.0**e for e in range(first, last + 1) for m in mantissas]
    inside = [v for v in values if low <= v <= high]
    below = [v for v in values if v < low][-1:]
    above = [v for v in values if v > high][:1]
    return below + inside + above  # one tick beyond each end, so the ends are labelled too


def tick_text(value: float) -> str:
    """A tick label in full: 0.5, 2, 20, 1,000 (never an abbreviated mantissa)."""
    return f"{value:,.0f}" if value >= 1 else f"{value:.{max(0, -math.floor(math.log10(value)))}f}"


def log_axis(figure: go.Figure, axis: str, values: list[float]) -> None:
    """Make ``axis`` ("x" or "y") logarithmic with readable ticks covering ``values`` (positive numbers)."""
    ticks = log_ticks(min(values), max(values))
    update = figure.update_xaxes if axis == "x" else figure.update_yaxes
    update(type="log", tickmode="array", tickvals=ticks, ticktext=[tick_text(v) for v in ticks])


def sweep_figure(
    rows: list[dict], current_groups: int, current_width: float, current_macs: float, title: str, present: bool = False
) -> go.Figure:
    """Complexity vs width, one line per g (closed form), the current model as a big marker."""
    figure = go.Figure()
    for g in sorted({r["groups"] for r in rows}):
        series = [r for r in rows if r["groups"] == g]
        figure.add_trace(
            go.Scatter(
                x=[r["width"] for r in series],
                y=[r["macs"] / 1e6 for r in series],
                mode="lines",
                name=f"g = {g}",
                line={"color": groups_color(g), "width": 4 if g == current_groups else 2},
                hovertemplate=f"g = {g}<br>width %{{x:.2f}}×<br>%{{y:.1f}} M multiply-adds<extra></extra>",
            )
        )
    figure.add_trace(
        go.Scatter(
            x=[current_width],
            y=[current_macs / 1e6],
            mode="markers",
            name="current model",
            marker={
                "size": 16,
                "color": groups_color(current_groups),
                "line": {"color": "#000", "width": 2},
                "symbol": "diamond",
            },
            hovertemplate="current model<br>width %{x:.2f}×<br>%{y:.1f} M multiply-adds<extra></extra>",
        )
    )
    return style_figure(figure, title, WIDTH_AXIS, MACS_AXIS, present=present)


def groups_bar_figure(rows: list[dict], current_groups: int, title: str, present: bool = False) -> go.Figure:
    """Complexity per g at one width (closed form); the current g outlined."""
    figure = go.Figure(
        go.Bar(
            x=[f"g = {r['groups']}" for r in rows],
            y=[r["macs"] / 1e6 for r in rows],
            marker={
                "color": [groups_color(r["groups"]) for r in rows],
                "line": {
                    "color": ["#000" if r["groups"] == current_groups else "rgba(0,0,0,0)" for r in rows],
                    "width": 3,
                },
            },
            text=[f"{r['macs'] / 1e6:.1f}M" for r in rows],
            textposition="outside",
            customdata=[", ".join(map(str, r["stage_channels"])) for r in rows],
            hovertemplate="%{x}<br>%{y:.1f} M multiply-adds<br>Stage2-4 channels: %{customdata}<extra></extra>",
        )
    )
    return style_figure(figure, title, GROUPS_AXIS, MACS_AXIS, present=present)


STAGE_LABELS = {"conv1": "Conv1", "stage2": "Stage2", "stage3": "Stage3", "stage4": "Stage4", "fc": "FC"}


def stage_figure(per_stage_macs: dict[str, int], groups: int, title: str, present: bool = False) -> go.Figure:
    """Per-stage multiply-adds (computed here); FC in grey: the paper convention leaves it out."""
    names = [n for n in STAGE_LABELS if n in per_stage_macs]
    values = [per_stage_macs[n] / 1e6 for n in names]
    total = sum(per_stage_macs.get(n, 0) for n in names if n != "fc")
    figure = go.Figure(
        go.Bar(
            x=[STAGE_LABELS[n] + (" (not in paper count)" if n == "fc" else "") for n in names],
            y=values,
            marker={"color": [NEUTRAL if n == "fc" else groups_color(groups) for n in names]},
            text=[
                f"{v:.1f}M" + ("" if n == "fc" or not total else f" ({100 * per_stage_macs[n] / total:.0f}%)")
                for n, v in zip(names, values)
            ],
            textposition="outside",
            hovertemplate="%{x}<br>%{y:.2f} M multiply-adds<extra></extra>",
        )
    )
    return style_figure(figure, title, "Part of the network", "Multiply-adds (millions)", present=present)


BAR_ROW_PX = 38  # height per bar of a horizontal bar chart, so every model name has a readable row


def compare_figure(
    records: list[dict], colors: list[str], value_key: str, axis_title: str, title: str, present: bool = False
) -> go.Figure:
    """One horizontal bar per model of the Compare page: the model names sit on the y axis, never clipped or
    rotated (plotly's automargin widens the margin to the longest name). Records hold 'Model' and ``value_key``."""
    figure = go.Figure(
        go.Bar(
            y=[r["Model"] for r in records],
            x=[r[value_key] for r in records],
            orientation="h",
            marker={"color": colors},
            text=[f"{r[value_key]:.1f}" for r in records],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}<br>%{x:.2f}<extra></extra>",
        )
    )
    style_figure(figure, title, axis_title, "", height=140 + BAR_ROW_PX * len(records), present=present)
    figure.update_yaxes(autorange="reversed", automargin=True, rangemode="normal")
    return figure


ERROR_AXIS = "Top-1 error (%, reported in the paper)"
COMPLEXITY_AXIS = "Complexity (million multiply-adds, reported in the paper; log scale)"
FAMILY_NAMES = {
    "mobilenet": "MobileNet v1 (Table 5)",
    "other": "Other networks (Table 6)",
    "shufflenet-no-shuffle": "ShuffleNet without shuffle (Table 3)",
}


def _point_trace(
    points: list, name: str, color: str, symbol: str = "circle", labels: bool = False, present: bool = False
) -> dict:
    return {
        "type": "scatter",
        "x": [p.mflops for p in points],
        "y": [p.error for p in points],
        "name": name,
        "mode": "markers+text" if labels else "markers",
        "text": [p.model for p in points],
        "textposition": "top center",
        "textfont": {"size": chart_font(present)},
        "marker": {
            "size": 14 if present else 11,
            "color": color,
            "symbol": symbol,
            "line": {"color": "#333", "width": 1},
        },
        "customdata": [[p.source, p.note or "reported in the paper"] for p in points],
        "hovertemplate": "%{text}<br>%{x:g} M multiply-adds, %{y:.1f} % top-1 error<br>%{customdata[0]}: "
        "%{customdata[1]}<extra></extra>",
    }


def tradeoff_figure(
    points: list,
    front: list,
    budget_mflops: float | None = None,
    marked: list[tuple[str, object]] = (),
    title: str = "Error vs complexity, reported in the paper",
    present: bool = False,
) -> go.Figure:
    """Every model the paper reports with an error and a complexity (``explorer.paper.reported_points``), log-x.

    ShuffleNets one trace per g (the g colours), without shuffle hollow, MobileNet grey, other networks black;
    the Pareto front as a step line, the budget as a vertical line, and ``marked`` (label, point) as stars.
    Every trace's ``text`` names its models; hover names the source table.
    """
    data = []
    shufflenets = [p for p in points if p.family == "shufflenet"]
    for g in sorted({p.config.groups for p in shufflenets}):
        data.append(
            _point_trace(
                [p for p in shufflenets if p.config.groups == g],
                f"ShuffleNet g = {g}",
                groups_color(g),
                present=present,
            )
        )
    for family, color, symbol, labels in (
        ("shufflenet-no-shuffle", NEUTRAL, "circle-open", False),
        ("mobilenet", NEUTRAL, "square", True),
        ("other", OTHER_NETWORKS, "diamond", True),
    ):
        chosen = [p for p in points if p.family == family]
        if chosen:
            data.append(_point_trace(chosen, FAMILY_NAMES[family], color, symbol, labels, present))
    data.append(
        {
            "type": "scatter",
            "x": [p.mflops for p in front],
            "y": [p.error for p in front],
            "mode": "lines",
            "line": {"shape": "hv", "color": NEUTRAL, "dash": "dot", "width": 2},
            "name": "Pareto front (reported)",
            "text": [p.model for p in front],
            "hovertemplate": "Pareto front: %{text}<br>%{x:g} M multiply-adds, %{y:.1f} %<extra></extra>",
        }
    )
    errors = [p.error for p in points]
    if budget_mflops:
        data.append(
            {
                "type": "scatter",
                "x": [budget_mflops, budget_mflops],
                "y": [min(errors) - 2, max(errors) + 2],
                "mode": "lines",
                "name": f"Budget: {budget_mflops:g} M multiply-adds",
                "line": {"color": BUDGET_LINE, "width": 3},
                "hovertemplate": f"budget {budget_mflops:g} M multiply-adds<extra></extra>",
            }
        )
    for label, point in marked:
        data.append(
            {
                "type": "scatter",
                "x": [point.mflops],
                "y": [point.error],
                "mode": "markers",
                "name": label,
                "text": [point.model],
                "customdata": [[point.source]],
                "marker": {"size": 22, "symbol": "star", "color": HIGHLIGHT, "line": {"color": "#000", "width": 2}},
                "hovertemplate": f"{label}: %{{text}}<br>%{{x:g}} M multiply-adds, %{{y:.1f}} %<br>%{{customdata[0]}}"
                "<extra></extra>",
            }
        )
    figure = build_figure(
        data, base_layout(title, COMPLEXITY_AXIS, ERROR_AXIS, 540, present, yaxis={"rangemode": "normal"})
    )
    log_axis(figure, "x", [p.mflops for p in points] + ([budget_mflops] if budget_mflops else []))
    return figure


def stage_channels_figure(models: list[tuple[str, ShuffleNetConfig]], title: str, present: bool = False) -> go.Figure:
    """Output channels of Conv1 and each stage, one group of bars per stage, one bar per model coloured by g."""
    figure = go.Figure()
    for label, config in models:
        plan = config.plan()
        channels = [plan.conv1_channels, *plan.stage_channels]
        figure.add_trace(
            go.Bar(
                name=label,
                x=["Conv1", "Stage2", "Stage3", "Stage4"],
                y=channels,
                marker={"color": groups_color(config.groups)},
                text=channels,
                textposition="outside",
            )
        )
    figure.update_layout(barmode="group")
    return style_figure(figure, title, "Stage", "Output channels (count)", present=present)


__all__ = [
    "HIGHLIGHT",
    "base_layout",
    "build_figure",
    "compare_figure",
    "groups_bar_figure",
    "log_axis",
    "log_ticks",
    "stage_channels_figure",
    "stage_figure",
    "style_figure",
    "sweep_figure",
    "tick_text",
    "tradeoff_figure",
]
