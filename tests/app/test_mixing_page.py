"""Channel shuffle page through AppTest: Fig. 1 toy, step-by-step shuffle, measured section."""

import base64
import html

import numpy as np
import pytest
from conftest import assert_clean, diagram_svgs, diagram_texts, download_labels, open_app, plotly_specs

PAGE = "pages/3_Channel_shuffle.py"


def array(value) -> list:
    """Plotly 7 ships numpy arrays as base64 typed arrays ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(n) for n in str(value.get("shape", len(data))).split(",")]
        return data.reshape(shape).tolist()
    return value


def titles(at) -> list[str]:
    return [spec["layout"]["title"]["text"] for spec in plotly_specs(at)]


def measured_with_shuffle(at) -> dict:
    """The measured heatmap with the shuffle (found by its title: the page has other figures before it)."""
    return next(s for s in plotly_specs(at) if s["layout"]["title"]["text"].startswith("With shuffle"))


def takeaways(at) -> list[str]:
    return [m.value for m in at.markdown if m.value.startswith("#### Takeaway")]


@pytest.fixture(scope="module")
def page():
    return open_app(PAGE)


def fig1_diagrams(at) -> list[str]:
    """Fig. 1's three diagrams: one wiring is drawn at a time (issue 11), so open each tab in turn."""
    dots = []
    for title in ("(a) no cross-group exchange", "(b) inputs from different groups", "(c) channel shuffle"):
        at.session_state["mix_fig1_tab"] = title  # what a click on the tab does
        at.run()
        [svg] = diagram_svgs(at)  # the markup, entities decoded: node names (s2_0) are in each node's <title>
        dots.append(html.unescape(svg))
    return dots


def test_default_page_shows_fig1_the_shuffle_and_the_measurement():
    at = open_app(PAGE)
    assert_clean(at)
    assert len(diagram_texts(at)) == 1 and "(c) channel shuffle" in diagram_texts(at)[0]  # (c) first, alone
    labels = download_labels(at)
    assert labels.count("Diagram (DOT)") == 1
    a, b, c = fig1_diagrams(at)
    assert "(a) no cross-group exchange: C=12, g=3, 2 group convs" in a
    assert "(b) inputs from different groups" in b and "(c) channel shuffle" in c
    assert "shuffle" in c and "<title>s2_0</title>" in c and "s2_0" not in a  # only (c) has a shuffle rank
    specs = plotly_specs(at)
    heatmaps = [s for s in specs if s["data"] and s["data"][0]["type"] == "heatmap"]
    assert len(heatmaps) == 5  # three toy matrices + measured with and without shuffle
    assert any("Where each input channel goes" in t for t in titles(at))
    assert any("how far information spreads" in t for t in titles(at))
    assert any(label.startswith("Matrix with shuffle (CSV") for label in labels)
    toy, measured = takeaways(at)
    assert "4 of 12 input channels (33.3%) without a shuffle, but 12 of 12 input channels (100%)" in toy
    assert "Stage2 of ShuffleNet 1× (g = 3, 3 stride-1 units)" in measured
    assert "33.3% of the input channels without shuffle" in measured and "100% with shuffle" in measured
    assert any("(b) and (c) are the same connectivity" in s.value for s in at.success)


def test_toy_heatmaps_encode_the_matrices(page):
    at = page
    heatmaps = [s for s in plotly_specs(at) if s["data"] and s["data"][0]["type"] == "heatmap"]
    none, cross, shuffle = (array(h["data"][0]["z"]) for h in heatmaps[:3])
    assert len(none) == 12 and len(none[0]) == 12
    # (a) block diagonal: row 0 connected to inputs 0-3 only (group 0 -> level 2), zero elsewhere
    assert none[0] == [2, 2, 2, 2] + [0] * 8 and none[11] == [0] * 8 + [6, 6, 6, 6]
    assert cross == shuffle and all(0 not in row for row in shuffle)


def test_changing_channels_groups_layers_changes_the_diagrams_and_heatmaps():
    at = open_app(PAGE)
    base_dots, base_specs = diagram_texts(at), plotly_specs(at)
    at.select_slider(key="mix_channels").set_value(6).run()
    assert_clean(at)
    assert all("C=6, g=3" in d for d in diagram_texts(at)) and diagram_texts(at) != base_dots
    assert plotly_specs(at)[0] != base_specs[0]
    toy = takeaways(at)[0]
    assert "2 of 6 input channels" in toy and "4 of 6 input channels" in toy  # C/g = 2 < g = 3: not full
    assert any("C/g = 2 < g = 3" in c.value for c in at.caption)

    at.slider(key="mix_layers").set_value(3).run()
    assert_clean(at)
    assert all("GConv3 (output)" in d for d in diagram_texts(at))
    assert "6 of 6 input channels (100%) with one" in takeaways(at)[0]

    at.number_input(key="mix_groups").set_value(4).run()
    assert_clean(at)
    assert at.select_slider(key="mix_channels").value == 16  # C reset to a multiple of the new g
    assert all("C=16, g=4, 3 group convs" in d for d in diagram_texts(at))


def test_large_toy_is_drawn_as_bundles_and_says_so():
    at = open_app(PAGE)
    at.select_slider(key="mix_channels").set_value(48).run()
    assert_clean(at)
    assert all("one node per group" in d for d in diagram_texts(at))
    assert any("too many channels to draw one by one" in i.value for i in at.info)


def test_toy_groups_follow_the_sidebar():
    at = open_app(PAGE, {"groups": "8"})
    assert_clean(at)
    assert at.number_input(key="mix_groups").value == 8
    assert at.select_slider(key="mix_channels").value == 64
    at.radio(key="ctl_groups_choice").set_value(2).run()
    assert_clean(at)
    assert at.number_input(key="mix_groups").value == 2
    assert "C=8, g=2" in diagram_texts(at)[0]


def test_stage_and_scope_change_the_measurement():
    at = open_app(PAGE)
    before = measured_with_shuffle(at)
    at.radio(key="mix_stage").set_value(4).run()
    assert_clean(at)
    measured = takeaways(at)[1]
    assert "Stage4" in measured and "33.3% of the input channels without shuffle" in measured
    assert measured_with_shuffle(at) != before
    at.radio(key="mix_scope").set_value("stage").run()
    assert_clean(at)
    measured = takeaways(at)[1]
    assert "(g = 3, 4 units)" in measured
    assert "after one unit" in measured  # the stride-2 unit: pooled channels pass straight through
    assert any("3×3 average pool of the input" in m.value for m in at.markdown)


def test_thin_bottleneck_shows_the_fraction_growing():
    at = open_app(PAGE, {"groups": "8", "width": "0.25"})
    assert_clean(at)
    measured = takeaways(at)[1]
    assert "12.5% of the input channels without shuffle" in measured
    assert "38.0% with shuffle after one stride-1 unit and 100% after 2" in measured
    chart = next(s for s in plotly_specs(at) if "how far information spreads" in s["layout"]["title"]["text"])
    with_shuffle = array(chart["data"][0]["y"])
    assert with_shuffle[0] < with_shuffle[1] == 100
    assert any("one unit reaches 3 of the 8 groups" in m.value for m in at.markdown)


def test_heavy_configs_wait_for_a_click():
    at = open_app(PAGE, {"groups": "32"})
    assert_clean(at)
    assert len(takeaways(at)) == 1  # the toy only: the measurement waits
    assert any("takes up to a minute" in i.value for i in at.info)
    at.button(key="mix_measure_button").click().run()
    assert_clean(at)
    assert "Stage2 of ShuffleNet 1× (g = 32" in takeaways(at)[1]
    at.run()  # once measured, it stays on screen without another click
    assert len(takeaways(at)) == 2


def test_a_single_group_has_nothing_to_shuffle():
    at = open_app(PAGE, {"groups": "1"})
    assert_clean(at)
    assert "nothing to shuffle" in takeaways(at)[0]
    assert "100% of the input channels without shuffle" in takeaways(at)[1]


def reading_text(at) -> str:
    """The text of the page's markdown elements (the "Reading it" section among them)."""
    assert any(m.value == "Reading it" for m in at.subheader)
    return " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("scope", ["stride1", "stage"])
def test_reading_it_follows_the_scope(scope):
    """The "Reading it" text states the fraction the chart shows without shuffle, for both scopes.

    Stage3 of 1x g=3: stride-1 units alone keep an output channel at 1/g = 33.3% of their input;
    from the stage's own input it is 66.7% (the stride-2 unit's concat puts channels of two input
    groups into one block of the stride-1 units). The old text said 33.3% for both.
    """
    at = open_app(PAGE)
    at.radio(key="mix_stage").set_value(3).run()
    at.radio(key="mix_scope").set_value(scope).run()
    assert_clean(at)
    chart = next(s for s in plotly_specs(at) if "how far information spreads" in s["layout"]["title"]["text"])
    without = array(chart["data"][1]["y"])[-1]
    shown = f"{without:.1f}%"
    assert shown == ("33.3%" if scope == "stride1" else "66.7%")
    text = reading_text(at)
    assert shown in text
    if scope == "stage":
        assert "however many units are stacked" not in text or "33.3%" not in text
        assert "exactly 1/g = 33.3%" not in text
