"""Plotly figures of predicted latency beside multiply-adds: across g and width, per layer type, at equal multiply-adds.

Pure functions (no Streamlit) from plain records. A predicted number is drawn as a line or
a plain bar and named "predicted here"; a measured one as a black-outlined marker named
"measured here"; a prediction outside the shapes its calibration sampled as an open
"x" marker named "extrapolated". Colours per g come from ``ui.shell.style``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from ui.figures.charts import GROUPS_AXIS, WIDTH_AXIS, base_layout, build_figure
from ui.shell.style import HIGHLIGHT, NEUTRAL, groups_color

PREDICTED_AXIS = "Latency (ms per image, predicted here)"
MEASURED_MARKER = {"size": 11, "symbol": "circle", "line": {"color": "#000", "width": 2}}
EXTRAPOLATED_MARKER = {"size": 12, "symbol": "x-open", "color": "#000"}


def _measured_trace(points: list[dict], x_key: str, shown: bool) -> dict:
    return {
        "type": "scatter",
        "mode": "markers",
        "name": "measured here (result store)",
        "showlegend": shown,
        "x": [p[x_key] for p in points],
        "y": [p["ms"] for p in points],
        "marker": MEASURED_MARKER | {"color": [groups_color(p["groups"]) for p in points]},
        "customdata": [[p["groups"], p["width"]] for p in points],
        "hovertemplate": "g = %{customdata[0]}, width %{customdata[1]:.2f}×<br>%{y:.2f} ms measured here"
        "<extra></extra>",
    }


def predicted_sweep_figure(
    curves: list[dict], measured: list[dict], current_groups: int, title: str, present: bool = False
) -> go.Figure:
    """Predicted latency vs width, one line per g; measured points overlaid; extrapolated points marked.

    ``curves``: {groups, width, ms, extrapolated}; ``measured``: {groups, width, ms}.
    """
    data = []
    for g in sorted({c["groups"] for c in curves}):
        series = [c for c in curves if c["groups"] == g]
        data.append(
            {
                "type": "scatter",
                "mode": "lines",
                "name": f"g = {g}, predicted here",
                "x": [c["width"] for c in series],
                "y": [c["ms"] for c in series],
                "line": {"color": groups_color(g), "width": 4 if g == current_groups else 2},
                "hovertemplate": f"g = {g}<br>width %{{x:.2f}}×<br>%{{y:.2f}} ms predicted here<extra></extra>",
            }
        )
    outside = [c for c in curves if c["extrapolated"]]
    if outside:
        data.append(
            {
                "type": "scatter",
                "mode": "markers",
                "name": "extrapolated (outside the calibrated shapes)",
                "x": [c["width"] for c in outside],
                "y": [c["ms"] for c in outside],
                "marker": EXTRAPOLATED_MARKER,
                "hovertemplate": "width %{x:.2f}×<br>%{y:.2f} ms predicted here, extrapolated<extra></extra>",
            }
        )
    if measured:
        data.append(_measured_trace(measured, "width", True))
    layout = base_layout(title, WIDTH_AXIS, PREDICTED_AXIS, height=520, present=present)
    layout["legend"] |= {"orientation": "h", "yanchor": "top", "y": -0.28}  # long names: below the axis, not beside
    layout["margin"] = layout["margin"] | {"b": 150}
    return build_figure(data, layout)


def predicted_groups_figure(
    rows: list[dict], measured: list[dict], current_groups: int, title: str, present: bool = False
) -> go.Figure:
    """Predicted latency per g at one width (bars), measured points overlaid; the current g outlined."""
    labels = [f"g = {r['groups']}" for r in rows]
    data = [
        {
            "type": "bar",
            "name": "predicted here",
            "x": labels,
            "y": [r["ms"] for r in rows],
            "marker": _groups_marker(rows, current_groups),
            "text": [f"{r['ms']:.2f} ms{' (extrapolated)' if r['extrapolated'] else ''}" for r in rows],
            "textposition": "outside",
            "hovertemplate": "%{x}<br>%{y:.2f} ms predicted here<extra></extra>",
        }
    ]
    if measured:
        points = [p | {"label": f"g = {p['groups']}"} for p in measured]
        data.append(_measured_trace(points, "label", True))
    return build_figure(data, base_layout(title, GROUPS_AXIS, PREDICTED_AXIS, present=present))


def layer_shares_figure(layers: list[dict], title: str, present: bool = False) -> go.Figure:
    """Where the time goes (predicted here) beside where the multiply-adds go (computed here), per layer type, in %.

    ``layers``: {layer, ms, time_share, macs_share}; the per-run overhead is a layer with no multiply-adds.
    """
    names = [layer["layer"] for layer in layers]
    data = [
        {
            "type": "bar",
            "name": "share of the time (predicted here)",
            "y": names,
            "x": [100 * layer["time_share"] for layer in layers],
            "orientation": "h",
            "marker": {"color": HIGHLIGHT},
            "customdata": [layer["ms"] for layer in layers],
            "hovertemplate": "%{y}<br>%{x:.1f} % of the time, %{customdata:.3f} ms predicted here<extra></extra>",
        },
        {
            "type": "bar",
            "name": "share of the multiply-adds (computed here)",
            "y": names,
            "x": [100 * layer["macs_share"] for layer in layers],
            "orientation": "h",
            "marker": {"color": NEUTRAL},
            "hovertemplate": "%{y}<br>%{x:.1f} % of the multiply-adds (computed here)<extra></extra>",
        },
    ]
    layout = base_layout(
        title,
        "Share of the whole (%)",
        "",
        height=120 + 42 * len(names),
        present=present,
        yaxis={"autorange": "reversed", "rangemode": "normal"},
        barmode="group",
    )
    layout["legend"] |= {"orientation": "h", "yanchor": "top", "y": -0.2}
    layout["margin"] = layout["margin"] | {"l": 190}
    return build_figure(data, layout)


def equal_macs_figure(rows: list[dict], current_groups: int, title: str, present: bool = False) -> go.Figure:
    """ShuffleNet V2's G2 on this machine: predicted latency per g at (nearly) equal multiply-adds.

    ``rows``: {groups, width, macs, ms, extrapolated}; the bar text gives each model's width and multiply-adds.
    """
    data = [
        {
            "type": "bar",
            "name": "predicted here",
            "x": [f"g = {r['groups']}" for r in rows],
            "y": [r["ms"] for r in rows],
            "marker": _groups_marker(rows, current_groups),
            "text": [f"{r['ms']:.2f} ms{'*' if r['extrapolated'] else ''}" for r in rows],
            "textposition": "outside",
            "customdata": [[r["width"], r["macs"] / 1e6] for r in rows],
            "hovertemplate": "%{x} at %{customdata[0]:.2f}×: %{customdata[1]:.1f} M multiply-adds<br>"
            "%{y:.2f} ms predicted here<extra></extra>",
        }
    ]
    return build_figure(data, base_layout(title, GROUPS_AXIS, PREDICTED_AXIS, present=present))


def _groups_marker(rows: list[dict], current_groups: int) -> dict:
    """Each bar in its g's colour, the sidebar's g outlined."""
    return {
        "color": [groups_color(r["groups"]) for r in rows],
        "line": {"color": ["#000" if r["groups"] == current_groups else "rgba(0,0,0,0)" for r in rows], "width": 3},
    }
