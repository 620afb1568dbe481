"""Complexity page: computed metrics with conventions, the paper's numbers apart, charts (the budget decision:
tests/app/test_app_budget.py)."""

import pytest
from conftest import assert_clean, open_app, plotly_specs

from explorer.counting import CONVENTIONS
from explorer.paper import NOTE_STEM_G8, NOTE_WIDENED
from ui.shell.style import groups_color

PAGE = "pages/2_Complexity.py"


def metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def charts(at) -> dict[str, dict]:
    """Plotly specs by chart key (the figure JSON Streamlit sends to the browser)."""
    specs = {}
    for spec in plotly_specs(at):
        title = spec["layout"]["title"]["text"]
        specs[title] = spec
    return specs


def trace(spec: dict, name: str) -> dict:
    return next(t for t in spec["data"] if t.get("name") == name)


@pytest.fixture(scope="module")
def default_page():
    return open_app(PAGE)


def test_metrics_are_labelled_with_their_conventions(default_page):
    at = default_page
    assert_clean(at)
    shown = metrics(at)
    assert shown[CONVENTIONS["conv_macs"].label] == "136.50M"
    assert shown[CONVENTIONS["torch_flops"].label] == "274.92M"
    assert shown[CONVENTIONS["params"].label] == "1.87M"
    assert shown[CONVENTIONS["activations"].label] == "3.00M"
    captions = [c.value for c in at.caption]
    for key in ("conv_macs", "torch_flops", "params", "activations"):
        unit, definition = CONVENTIONS[key].unit, CONVENTIONS[key].definition
        assert f"**In {unit}.** {definition}" in captions
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps[CONVENTIONS["conv_macs"].label] == CONVENTIONS["conv_macs"].definition


def test_paper_numbers_are_apart_and_labelled(default_page):
    at = default_page
    shown = metrics(at)
    assert shown["Reported in the paper (multiply-adds)"] == "137 M"
    assert shown["Computed here (Multiply-adds (paper convention))"] == "136.50 M"
    assert shown["Computed vs reported"] == "-0.4 %"
    reported = next(d.value for d in at.dataframe if "Paper's row" in d.value.columns)
    assert set(reported["Table"]) == {"Table 1", "Table 2", "Table 3", "Table 5", "Table 6"}
    assert list(reported["Top-1 error (%)"])[:3] == ["—", "34.1", "34.1"]
    assert [h.value for h in at.header][:2] == ["Computed here", "Reported in the paper"]


def test_charts_have_units_and_group_colours(default_page):
    specs = charts(default_page)
    sweep = specs["Multiply-adds vs width"]
    assert sweep["layout"]["xaxis"]["title"]["text"] == "Width multiplier s (×)"
    assert sweep["layout"]["yaxis"]["title"]["text"] == "Multiply-adds (millions, paper convention)"
    for g in (1, 2, 3, 4, 8):
        assert trace(sweep, f"g = {g}")["line"]["color"] == groups_color(g)
    current = trace(sweep, "current model")
    assert current["x"] == [1.0] and round(current["y"][0], 2) == 136.5
    stage = specs["Multiply-adds per stage"]
    assert stage["layout"]["yaxis"]["title"]["text"] == "Multiply-adds (millions)"
    assert stage["data"][0]["x"][-1] == "FC (not in paper count)"
    assert round(sum(stage["data"][0]["y"][:-1]), 2) == 136.5
    for spec in specs.values():
        assert spec["layout"]["xaxis"]["title"]["text"] and spec["layout"]["yaxis"]["title"]["text"]


def test_width_and_groups_move_the_highlight_and_the_numbers():
    at = open_app(PAGE, {"groups": "8", "width": "0.25"})
    assert_clean(at)
    shown = metrics(at)
    assert shown[CONVENTIONS["conv_macs"].label] != "136.50M"
    assert shown["Reported in the paper (multiply-adds)"] == "13 M"
    assert any(i.value == NOTE_STEM_G8 for i in at.info)
    specs = charts(at)
    current = trace(specs["Multiply-adds vs width"], "current model")
    assert current["x"] == [0.25] and current["marker"]["color"] == groups_color(8)
    bar = specs["Multiply-adds vs g at width 0.25×"]["data"][0]
    assert bar["x"] == ["g = 1", "g = 2", "g = 3", "g = 4", "g = 8"]
    assert bar["marker"]["line"]["color"][-1] == "#000"  # g = 8 outlined


def test_variant_note_and_custom_group_in_sweep():
    at = open_app(PAGE, {"groups": "3", "width": "0.5", "variant": "arch2"})
    assert any(i.value == NOTE_WIDENED for i in at.info)
    at = open_app(PAGE, {"groups": "6"})
    assert_clean(at)
    assert any("reports no numbers" in i.value for i in at.info)
    sweep = charts(at)["Multiply-adds vs width"]
    assert trace(sweep, "g = 6")["line"]["color"] == groups_color(6)


def test_other_input_sizes_are_not_compared_to_the_paper():
    at = open_app(PAGE, {"input": "720x1280"})
    assert "Computed vs reported" not in metrics(at)
    assert any("are not compared" in i.value for i in at.info)
