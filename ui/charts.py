"""Plotly figures of the app: one colour per group count (``ui.style``), units on every axis.

Pure functions (no Streamlit) from plain records to ``plotly.graph_objects.Figure``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from explorer import ShuffleNetConfig

from .style import BUDGET_LINE, HIGHLIGHT, NEUTRAL, OTHER_NETWORKS, groups_color

FONT_SIZE = 15  # projector-readable
MACS_AXIS = "Multiply-adds (millions, paper convention)"
WIDTH_AXIS = "Width multiplier s (×)"
GROUPS_AXIS = "Groups g (count)"


def style_figure(figure: go.Figure, title: str, x_title: str, y_title: str, height: int = 420) -> go.Figure:
    figure.update_layout(
        title={"text": title, "font": {"size": FONT_SIZE + 2}},
        template="plotly_white",
        font={"size": FONT_SIZE},
        height=height,
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
        legend={"title": {"text": ""}},
        hoverlabel={"font": {"size": FONT_SIZE}},
    )
    figure.update_xaxes(title_text=x_title, showline=True, linecolor="#888", mirror=False)
    figure.update_yaxes(title_text=y_title, showline=True, linecolor="#888", rangemode="tozero")
    return figure


def sweep_figure(rows: list[dict], current_groups: int, current_width: float, current_macs: float,
                 title: str) -> go.Figure:
    """Complexity vs width, one line per g (closed form), the current model as a big marker."""
    figure = go.Figure()
    for g in sorted({r["groups"] for r in rows}):
        series = [r for r in rows if r["groups"] == g]
        figure.add_trace(go.Scatter(
            x=[r["width"] for r in series],
            y=[r["macs"] / 1e6 for r in series],
            mode="lines",
            name=f"g = {g}",
            line={"color": groups_color(g), "width": 4 if g == current_groups else 2},
            hovertemplate=f"g = {g}<br>width %{{x:.2f}}×<br>%{{y:.1f}} M multiply-adds<extra></extra>",
        ))  # fmt: skip
    figure.add_trace(go.Scatter(
        x=[current_width], y=[current_macs / 1e6], mode="markers", name="current model",
        marker={"size": 16, "color": groups_color(current_groups), "line": {"color": "#000", "width": 2},
                "symbol": "diamond"},
        hovertemplate="current model<br>width %{x:.2f}×<br>%{y:.1f} M multiply-adds<extra></extra>",
    ))  # fmt: skip
    return style_figure(figure, title, WIDTH_AXIS, MACS_AXIS)


def groups_bar_figure(rows: list[dict], current_groups: int, title: str) -> go.Figure:
    """Complexity per g at one width (closed form); the current g outlined."""
    figure = go.Figure(go.Bar(
        x=[f"g = {r['groups']}" for r in rows],
        y=[r["macs"] / 1e6 for r in rows],
        marker={"color": [groups_color(r["groups"]) for r in rows],
                "line": {"color": ["#000" if r["groups"] == current_groups else "rgba(0,0,0,0)" for r in rows],
                         "width": 3}},
        text=[f"{r['macs'] / 1e6:.1f}M" for r in rows],
        textposition="outside",
        customdata=[", ".join(map(str, r["stage_channels"])) for r in rows],
        hovertemplate="%{x}<br>%{y:.1f} M multiply-adds<br>Stage2-4 channels: %{customdata}<extra></extra>",
    ))  # fmt: skip
    return style_figure(figure, title, GROUPS_AXIS, MACS_AXIS)


STAGE_LABELS = {"conv1": "Conv1", "stage2": "Stage2", "stage3": "Stage3", "stage4": "Stage4", "fc": "FC"}


def stage_figure(per_stage_macs: dict[str, int], groups: int, title: str) -> go.Figure:
    """Per-stage multiply-adds (computed here); FC in grey: the paper convention leaves it out."""
    names = [n for n in STAGE_LABELS if n in per_stage_macs]
    values = [per_stage_macs[n] / 1e6 for n in names]
    total = sum(per_stage_macs.get(n, 0) for n in names if n != "fc")
    figure = go.Figure(go.Bar(
        x=[STAGE_LABELS[n] + (" (not in paper count)" if n == "fc" else "") for n in names],
        y=values,
        marker={"color": [NEUTRAL if n == "fc" else groups_color(groups) for n in names]},
        text=[f"{v:.1f}M" + ("" if n == "fc" or not total else f" ({100 * per_stage_macs[n] / total:.0f}%)")
              for n, v in zip(names, values)],
        textposition="outside",
        hovertemplate="%{x}<br>%{y:.2f} M multiply-adds<extra></extra>",
    ))  # fmt: skip
    return style_figure(figure, title, "Part of the network", "Multiply-adds (millions)")


BAR_ROW_PX = 38  # height per bar of a horizontal bar chart, so every model name has a readable row


def compare_figure(records: list[dict], colors: list[str], value_key: str, axis_title: str, title: str) -> go.Figure:
    """One horizontal bar per model of the Compare page: the model names sit on the y axis, never clipped
    or rotated (plotly's automargin widens the margin to the longest name). Records hold 'Model' and ``value_key``."""
    figure = go.Figure(go.Bar(
        y=[r["Model"] for r in records],
        x=[r[value_key] for r in records],
        orientation="h",
        marker={"color": colors},
        text=[f"{r[value_key]:.1f}" for r in records],
        textposition="outside",
        cliponaxis=False,
        hovertemplate="%{y}<br>%{x:.2f}<extra></extra>",
    ))  # fmt: skip
    style_figure(figure, title, axis_title, "", height=140 + BAR_ROW_PX * len(records))
    figure.update_yaxes(autorange="reversed", automargin=True, rangemode="normal")
    figure.update_xaxes(rangemode="tozero")
    return figure


def stage_channels_figure(models: list[tuple[str, ShuffleNetConfig]], title: str) -> go.Figure:
    """Output channels of Conv1 and each stage, one group of bars per stage, one bar per model coloured by g."""
    figure = go.Figure()
    for label, config in models:
        plan = config.plan()
        channels = [plan.conv1_channels, *plan.stage_channels]
        figure.add_trace(go.Bar(
            name=label, x=["Conv1", "Stage2", "Stage3", "Stage4"], y=channels,
            marker={"color": groups_color(config.groups)}, text=channels, textposition="outside",
        ))  # fmt: skip
    figure.update_layout(barmode="group")
    return style_figure(figure, title, "Stage", "Output channels (count)")


ERROR_AXIS = "Top-1 error (%, reported in the paper)"
COMPLEXITY_AXIS = "Complexity (million multiply-adds, reported in the paper; log scale)"
FAMILY_NAMES = {"mobilenet": "MobileNet v1 (Table 5)", "other": "Other networks (Table 6)",
                "shufflenet-no-shuffle": "ShuffleNet without shuffle (Table 3)"}  # fmt: skip


def _point_trace(points: list, name: str, color: str, symbol: str = "circle", size: int = 11,
                 labels: bool = False) -> go.Scatter:
    return go.Scatter(
        x=[p.mflops for p in points], y=[p.error for p in points], name=name,
        mode="markers+text" if labels else "markers", text=[p.model for p in points],
        textposition="top center", textfont={"size": FONT_SIZE - 3},
        marker={"size": size, "color": color, "symbol": symbol, "line": {"color": "#333", "width": 1}},
        customdata=[[p.source, p.note or "reported in the paper"] for p in points],
        hovertemplate="%{text}<br>%{x:g} M multiply-adds, %{y:.1f} % top-1 error<br>%{customdata[0]}: "
                      "%{customdata[1]}<extra></extra>",
    )  # fmt: skip


def tradeoff_figure(points: list, front: list, budget_mflops: float | None = None,
                    marked: list[tuple[str, object]] = (), title: str = "Error vs complexity, reported in the paper"
                    ) -> go.Figure:
    """Every model the paper reports with an error and a complexity (``explorer.paper.reported_points``), log-x.

    ShuffleNets one trace per g (the g colours), without shuffle hollow, MobileNet grey, other networks black;
    the Pareto front as a step line, the budget as a vertical line, and ``marked`` (label, point) as stars.
    Every trace's ``text`` names its models; hover names the source table.
    """
    figure = go.Figure()
    shufflenets = [p for p in points if p.family == "shufflenet"]
    for g in sorted({p.config.groups for p in shufflenets}):
        figure.add_trace(_point_trace([p for p in shufflenets if p.config.groups == g], f"ShuffleNet g = {g}",
                                      groups_color(g)))  # fmt: skip
    for family, color, symbol, labels in (("shufflenet-no-shuffle", NEUTRAL, "circle-open", False),
                                          ("mobilenet", NEUTRAL, "square", True),
                                          ("other", OTHER_NETWORKS, "diamond", True)):  # fmt: skip
        chosen = [p for p in points if p.family == family]
        if chosen:
            figure.add_trace(_point_trace(chosen, FAMILY_NAMES[family], color, symbol, labels=labels))
    figure.add_trace(go.Scatter(
        x=[p.mflops for p in front], y=[p.error for p in front], mode="lines", line_shape="hv",
        name="Pareto front (reported)", text=[p.model for p in front],
        line={"color": NEUTRAL, "dash": "dot", "width": 2},
        hovertemplate="Pareto front: %{text}<br>%{x:g} M multiply-adds, %{y:.1f} %<extra></extra>",
    ))  # fmt: skip
    errors = [p.error for p in points]
    if budget_mflops:
        figure.add_trace(go.Scatter(
            x=[budget_mflops, budget_mflops], y=[min(errors) - 2, max(errors) + 2], mode="lines",
            name=f"Budget: {budget_mflops:g} M multiply-adds", line={"color": BUDGET_LINE, "width": 3},
            hovertemplate=f"budget {budget_mflops:g} M multiply-adds<extra></extra>",
        ))  # fmt: skip
    for label, point in marked:
        figure.add_trace(go.Scatter(
            x=[point.mflops], y=[point.error], mode="markers", name=label, text=[point.model],
            marker={"size": 22, "symbol": "star", "color": HIGHLIGHT, "line": {"color": "#000", "width": 2}},
            customdata=[[point.source]],
            hovertemplate=f"{label}: %{{text}}<br>%{{x:g}} M multiply-adds, %{{y:.1f}} %<br>%{{customdata[0]}}"
                          "<extra></extra>",
        ))  # fmt: skip
    style_figure(figure, title, COMPLEXITY_AXIS, ERROR_AXIS, height=540)
    figure.update_xaxes(type="log")
    figure.update_yaxes(rangemode="normal")
    return figure


__all__ = [
    "HIGHLIGHT", "compare_figure", "groups_bar_figure", "stage_channels_figure", "stage_figure",
    "style_figure", "sweep_figure", "tradeoff_figure",
]  # fmt: skip
