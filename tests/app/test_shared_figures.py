"""The Complexity and Compare pages' charts are built once per set of values and shared by every page run.

``ui.figures.shared`` hands the same ``go.Figure`` to every run drawn from the same values, equal to
what the pure builders in ``ui.figures.charts`` make, and a new one when a value changes.
"""

from __future__ import annotations

from explorer import ShuffleNetConfig
from explorer.paper import pareto_front, point_for, reported_points
from ui.figures import charts, shared
from ui.shell.cache import cached_sweep

GROUPS, WIDTHS = (1, 2, 3, 4, 8), (0.5, 1.0, 1.5)
TITLES = ("Multiply-adds vs width", "Multiply-adds vs g at width 1×")


def sweep(width: float = 1.0, present: bool = False):
    return shared.sweep_figures(GROUPS, WIDTHS, "standard", (224, 224), 3, width, TITLES, present)


def test_the_sweep_charts_are_shared_and_equal_to_the_builders():
    shared.sweep_figures.clear()
    first, second = sweep(), sweep()
    assert first[0] is second[0] and first[1] is second[1]
    rows = cached_sweep(GROUPS, WIDTHS, "standard", (224, 224))
    current = next(r for r in rows if r["groups"] == 3 and r["width"] == 1.0)
    assert first[0] == charts.sweep_figure(rows, 3, 1.0, current["macs"], TITLES[0])
    assert first[1] == charts.groups_bar_figure([r for r in rows if r["width"] == 1.0], 3, TITLES[1])
    assert sweep(width=0.5)[0] is not first[0] and sweep(present=True)[0] is not first[0]


def test_the_tradeoff_chart_is_shared_per_budget_and_marked_model():
    shared.tradeoff_figure.clear()
    marked = (("Sidebar model", point_for(ShuffleNetConfig(groups=3))),)
    figure = shared.tradeoff_figure(140.0, marked, False)
    assert shared.tradeoff_figure(140.0, marked, False) is figure
    points = reported_points()
    assert figure == charts.tradeoff_figure(list(points), pareto_front(points), 140.0, list(marked))
    assert shared.tradeoff_figure(None, marked, False) is not figure


def test_stage_and_compare_charts_are_shared():
    macs = {"conv1": 10, "stage2": 20, "stage3": 30, "stage4": 40, "fc": 5}
    assert shared.stage_figure(dict(macs), 3, "t") is shared.stage_figure(dict(macs), 3, "t")
    assert shared.stage_figure(macs, 3, "t") == charts.stage_figure(macs, 3, "t")
    records = [{"Model": "a", "Params (M)": 1.0}, {"Model": "b", "Params (M)": 2.0}]
    figure = shared.compare_figure(records, ["#000", "#111"], "Params (M)", "axis", "t")
    assert shared.compare_figure([dict(r) for r in records], ["#000", "#111"], "Params (M)", "axis", "t") is figure
    models = [("g = 3", ShuffleNetConfig(groups=3)), ("g = 8", ShuffleNetConfig(groups=8))]
    assert shared.stage_channels_figure(models, "t") is shared.stage_channels_figure(list(models), "t")
