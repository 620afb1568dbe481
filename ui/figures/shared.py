"""The Complexity and Compare pages' charts as shared, read-only figures, built once per set of values.

The builders in ``ui.figures.charts`` are pure and build a new ``go.Figure`` per call; building one
(plotly validates the app's whole template into every figure) costs far more of the server's
CPU than ``st.plotly_chart`` sending a finished one. Every page run of every session
draws these charts again, mostly from the same values (a class on the same model), so the
pages take them from here: ``st.cache_resource`` (at most ``FIGURE_ENTRIES`` per function,
keyed by the plain values the chart is drawn from), the same figure object for every
session, which callers must not change (``st.plotly_chart`` only reads it).
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from explorer import ShuffleNetConfig
from explorer.paper import ReportedPoint, pareto_front, reported_points
from ui.figures import charts
from ui.shell.cache import cached_sweep

FIGURE_ENTRIES = 64


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def stage_figure(per_stage_macs: dict[str, int], groups: int, title: str, present: bool = False) -> go.Figure:
    return charts.stage_figure(per_stage_macs, groups, title, present)


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def compare_figure(
    records: list[dict], colors: list[str], value_key: str, axis_title: str, title: str, present: bool = False
) -> go.Figure:
    return charts.compare_figure(records, colors, value_key, axis_title, title, present)


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def stage_channels_figure(models: list[tuple[str, ShuffleNetConfig]], title: str, present: bool = False) -> go.Figure:
    return charts.stage_channels_figure(models, title, present)


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def sweep_figures(
    groups: tuple[int, ...],
    widths: tuple[float, ...],
    variant: str,
    input_size: tuple[int, int],
    current_groups: int,
    current_width: float,
    titles: tuple[str, str],
    present: bool,
) -> tuple[go.Figure, go.Figure]:
    """Multiply-adds vs width per g and vs g at ``current_width`` (``charts.sweep_figure``, ``groups_bar_figure``),
    from the closed-form sweep over ``groups`` x ``widths`` (which must hold the current g and width)."""
    sweep = cached_sweep(groups, widths, variant, input_size)
    current = next(r for r in sweep if r["groups"] == current_groups and r["width"] == current_width)
    at_width = [r for r in sweep if r["width"] == current_width]
    return (
        charts.sweep_figure(sweep, current_groups, current_width, current["macs"], titles[0], present),
        charts.groups_bar_figure(at_width, current_groups, titles[1], present),
    )


@st.cache_resource(max_entries=FIGURE_ENTRIES, show_spinner=False)
def tradeoff_figure(
    budget_mflops: float | None, marked: tuple[tuple[str, ReportedPoint], ...], present: bool
) -> go.Figure:
    """``charts.tradeoff_figure`` of every point the paper reports (``explorer.paper.reported_points``)."""
    points = reported_points()
    return charts.tradeoff_figure(list(points), pareto_front(points), budget_mflops, list(marked), present=present)
