"""Channel shuffle page, for a class: channels to click, the shuffle animated, Table 3 beside the takeaway.

AppTest drives the keyboard fallback (the selectbox) of the click; the click itself is in
``tests/browser/test_browser_classroom.py``. Expected highlights are Fig. 1's own arithmetic, and
``explorer.mixing.trace_channel`` is checked against ``connectivity`` on every C, g, L.
"""

import numpy as np
import pytest
from conftest import assert_clean, open_app, plotly_specs

from explorer.mixing import WIRINGS, connectivity, shuffle_steps, trace_channel
from explorer.paper import TABLE3_PAIRS
from ui.figures.toy_figures import lit_nodes, shuffle_animation_figure, trace_figure

PAGE = "pages/3_Channel_shuffle.py"


def trace_specs(at) -> dict[str, dict]:
    """The two clickable drawings, by wiring (their titles are Fig. 1's (a) and (c))."""
    specs = {}
    for spec in plotly_specs(at):
        title = spec["layout"]["title"]["text"]
        if any(t.get("name") == "channels" for t in spec["data"]):
            specs["none" if title.startswith("(a)") else "shuffle"] = spec
    return specs


def lit(spec: dict, layer: int) -> set[int]:
    return {c for k, c in lit_nodes(spec) if k == layer}


# --------------------------------------------------------------------------- the library


@pytest.mark.parametrize("wiring", WIRINGS)
@pytest.mark.parametrize("channels,groups,layers", [(12, 3, 2), (6, 3, 3), (16, 4, 4), (8, 8, 2), (4, 1, 1)])
def test_trace_matches_the_dependency_matrix(channels, groups, layers, wiring):
    matrix = connectivity(channels, groups, layers, wiring)
    for channel in range(channels):
        up = trace_channel(channels, groups, layers, wiring, layers, channel)
        down = trace_channel(channels, groups, layers, wiring, 0, channel)
        assert np.array_equal(up[0], matrix[channel]) and up[layers, channel] == 1 and up[layers].sum() == 1
        assert np.array_equal(down[layers], matrix[:, channel]) and down[0].sum() == 1


def test_trace_refuses_a_channel_or_layer_outside_the_toy():
    with pytest.raises(ValueError, match="^channel=12 is not allowed"):
        trace_channel(12, 3, 2, "shuffle", 2, 12)
    with pytest.raises(ValueError, match="^layer=3 is not allowed"):
        trace_channel(12, 3, 2, "shuffle", 3, 0)


def test_trace_figure_lights_what_the_library_says():
    spec = trace_figure(12, 3, 2, "none", (1, 5), False)
    expected = trace_channel(12, 3, 2, "none", 1, 5)
    assert lit_nodes(spec) == {(k, c) for k, c in zip(*np.nonzero(expected))}
    assert lit_nodes(trace_figure(12, 3, 2, "none", None, False)) == {(k, c) for k in range(3) for c in range(12)}


# --------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def page():
    return open_app(PAGE)


def test_an_output_channel_lights_up_its_inputs_without_and_with_shuffle(page):
    at = page
    assert_clean(at)
    assert at.selectbox(key="mix_trace").value == (2, 0)  # output channel 0 of C=12, g=3, L=2
    specs = trace_specs(at)
    assert lit(specs["none"], 0) == {0, 1, 2, 3}  # its own group only
    assert lit(specs["shuffle"], 0) == set(range(12))  # every input
    assert lit(specs["none"], 1) == {0, 1, 2, 3}  # GConv2's group 0 reads GConv1's group 0...
    assert lit(specs["shuffle"], 1) == {0, 4, 8, 1}  # ...or, shuffled, positions 0-3: channels 0, 4, 8, 1
    assert any(
        "depends on 4 of the 12 input channels without the shuffle and on 12 with it" in m.value for m in at.markdown
    )


def test_choosing_an_input_channel_lights_up_what_it_reaches():
    at = open_app(PAGE)
    before = trace_specs(at)
    at.selectbox(key="mix_trace").set_value((0, 5)).run()
    assert_clean(at)
    specs = trace_specs(at)
    assert specs != before
    assert lit(specs["none"], 2) == {4, 5, 6, 7}  # group 1 only
    assert lit(specs["shuffle"], 2) == set(range(12))
    assert lit(specs["shuffle"], 0) == {5}
    assert any("reaches 4 of the 12 output channels without the shuffle and 12 with it" in m.value for m in at.markdown)
    at.selectbox(key="mix_trace").set_value(None).run()  # nothing selected: everything drawn alike
    assert lit_nodes(trace_specs(at)["none"]) == {(k, c) for k in range(3) for c in range(12)}


def test_changing_the_toy_resets_a_selection_it_no_longer_has():
    at = open_app(PAGE)
    at.selectbox(key="mix_trace").set_value((2, 11)).run()
    at.select_slider(key="mix_channels").set_value(6).run()
    assert_clean(at)
    assert at.selectbox(key="mix_trace").value == (2, 0)


def test_the_animation_follows_the_toy(page):
    at = page
    animation = next(s for s in plotly_specs(at) if s.get("frames"))
    assert [f["name"] for f in animation["frames"]] == ["0", "1", "2", "3"]
    assert "reshape to (3, 4)" in animation["frames"][1]["layout"]["title"]["text"]


def test_animation_frames_are_the_shuffle_steps():
    figure = shuffle_animation_figure(12, 3, present=False).to_dict()
    steps = shuffle_steps(12, 3)
    frames = figure["frames"]
    last = frames[3]["data"][0]
    assert [int(x) for x in last["x"]] == steps.destination.tolist()  # channel i ends at its shuffled position
    reshaped, transposed = frames[1]["data"][0], frames[2]["data"][0]
    assert [-int(y) - 1 for y in reshaped["y"]] == [i // 4 for i in range(12)]  # row = group
    assert [-int(y) - 1 for y in transposed["y"]] == [i % 4 for i in range(12)]  # row = index in the group
    colours = {tuple(frame["data"][0]["marker"]["color"]) for frame in frames}
    assert len(colours) == 1  # every channel keeps its group's colour (and shape) all the way
    labels = [b["label"] for b in figure["layout"]["updatemenus"][0]["buttons"]]
    assert labels == ["▶ Play", "❚❚ Pause"]
    assert [s["label"] for s in figure["layout"]["sliders"][0]["steps"]] == [
        "output",
        "reshape",
        "transpose",
        "flatten",
    ]
    assert shuffle_animation_figure(12, 3, present=True).layout.font.size >= 16
    with pytest.raises(ValueError, match="^channels=10 is not allowed: channels must be a multiple of groups=3"):
        shuffle_animation_figure(10, 3)


def table3_rows(at) -> list[dict]:
    frame = next(t.value for t in at.table if "without shuffle" in t.value.columns)
    return frame.to_dict("records")


def test_table3_sits_beside_the_takeaway_with_the_sidebar_model_marked(page):
    at = page
    assert any("Table 3, reported in the paper" in m.value for m in at.markdown)
    rows = table3_rows(at)
    assert ["ShuffleNet " + r["ShuffleNet"] for r in rows] == [p.model for p in TABLE3_PAIRS]
    marked = [r for r in rows if r["sidebar"]]
    assert [(r["ShuffleNet"], r["without shuffle"], r["with shuffle"]) for r in marked] == [
        ("1x (g = 3)", "36.4", "34.1")
    ]
    assert max(float(r["gain (points)"]) for r in rows) == 4.0  # 0.25x arch2 g = 8


def test_table3_marks_nothing_for_a_model_the_paper_did_not_ablate():
    at = open_app(PAGE, {"groups": "8", "width": "0.25", "variant": "arch2", "shuffle": "off"})
    assert [r["ShuffleNet"] for r in table3_rows(at) if r["sidebar"]] == ["0.25x (arch2) (g = 8)"]
    at = open_app(PAGE, {"groups": "4"})
    assert not [r for r in table3_rows(at) if r["sidebar"]]
    assert any("has no row for ShuffleNet 1x (g=4)" in c.value for c in at.caption)


def test_the_step_by_step_tables_are_drawn_when_opened():
    """The grids and the mapping table sit in a lazy expander: nothing is built until it is opened."""
    at = open_app(PAGE)
    assert not [d for d in at.dataframe if "input channel" in d.value.columns]
    at.session_state["mix_tables"] = True  # what a click on the expander does
    at.run()
    assert_clean(at)
    frames = [d.value for d in at.dataframe]
    grid = next(f for f in frames if list(f.index) == ["group 0", "group 1", "group 2"])
    assert grid.values.tolist() == shuffle_steps(12, 3).grid.tolist()
    mapping = next(f for f in frames if "output position" in f.columns)
    assert mapping["output position"].tolist() == shuffle_steps(12, 3).destination.tolist()
