"""The Lecture page under AppTest: every step, every bad ``step`` link, the buttons, the URL.

Each step is checked for what it must show for the sidebar's model: its title, one figure
(plotly or graphviz) holding this model's numbers, a sentence whose numbers are worked
out here from the paper's formulas, a link to the page that goes deeper, and a caption
that says what is computed here and what is reported in the paper.
"""

from __future__ import annotations

import re

import pytest
from conftest import assert_clean, diagram_texts, open_app, plotly_specs

from explorer import ShuffleNetConfig, paper
from explorer.latency import measure
from ui.latency.jobs import result_store
from ui.lecture.nav import parse_step, step_title
from ui.lecture.steps import STEPS
from ui.shell.controls import query_values
from ui.shell.style import CURRENT
from ui.shell.text import shown_value

LECTURE = "pages/0_Lecture.py"
PLOTLY_STEPS = (1, 2, 3, 5, 7, 8)
DIAGRAMS = {4: 1, 6: 2}  # graphviz diagrams on the other steps


def lecture(step: int | None = None, **model: str):
    query = {**model, **({} if step is None else {"step": str(step)})}
    return open_app(LECTURE, query)


def texts(at) -> str:
    return "\n".join(m.value for m in at.main.markdown) + "\n".join(c.value for c in at.main.caption)


def deeper_links(at) -> list[str]:
    return [link.proto.page for link in at.main.get("page_link")]


@pytest.fixture(scope="module")
def default_steps():
    """Every step of the default model (1x, g = 3, 224x224), opened from a link each."""
    return {step: lecture(step) for step in range(1, len(STEPS) + 1)}


@pytest.mark.parametrize("step", range(1, len(STEPS) + 1))
def test_every_step_draws_one_figure_a_link_and_says_where_its_numbers_come_from(default_steps, step):
    at = default_steps[step]
    assert_clean(at)
    assert not at.warning
    assert at.title[0].value == step_title(step)
    assert dict(at.query_params) == {**query_values(ShuffleNetConfig()), "step": str(step)}
    if step in DIAGRAMS:
        assert len(diagram_texts(at)) == DIAGRAMS[step] and not plotly_specs(at)
    else:
        assert len(plotly_specs(at)) == 1 and not diagram_texts(at)
    page_name = STEPS[step - 1].page.removeprefix("pages/").removesuffix(".py").split("_", 1)[1]
    assert deeper_links(at) == [page_name]
    captions = " ".join(c.value for c in at.main.caption)
    assert "computed here" in captions.lower() or "reported in the paper" in captions.lower()
    assert [e.label for e in at.main.expander] == ["How this is worked out"]


def test_step1_dense_pointwise_convolutions_take_almost_everything(default_steps):
    at = default_steps[1]
    # Stage3 of 1x g = 3: 480 channels, bottleneck 120, 14x14; the paper's arithmetic by hand.
    pointwise, depthwise = 2 * 14 * 14 * 480 * 120, 14 * 14 * 9 * 120
    assert f"{100 * pointwise / (pointwise + depthwise):.1f}%" in texts(at)  # 99.1%
    [figure] = plotly_specs(at)
    assert [round(x * 1e6) for x in figure["data"][0]["x"]] == [pointwise // 2, depthwise, pointwise // 2]


def test_step2_groups_divide_the_pointwise_cost_by_g():
    at = lecture(2, groups="8", width="0.5")
    assert_clean(at)
    unit = ShuffleNetConfig(groups=8, width=0.5).plan().stage_channels[1]  # Stage3: 384 channels
    m, hw = unit // 4, 14 * 14
    dense, grouped = [hw * unit * m, hw * 9 * m, hw * m * unit], [hw * unit * m // 8, hw * 9 * m, hw * m * unit // 8]
    [figure] = plotly_specs(at)
    assert [[round(x * 1e6) for x in trace["x"]] for trace in figure["data"]] == [dense, grouped]
    assert "g = 8 groups" in texts(at) and f"{sum(dense) / sum(grouped):.1f}× cheaper" in texts(at)
    at = lecture(2, groups="1")
    assert "This model has g = 1" in texts(at) and len(plotly_specs(at)[0]["data"]) == 1


def test_step3_shows_table1s_wider_stages_at_the_same_cost(default_steps):
    [figure] = plotly_specs(default_steps[3])
    bars = figure["data"][0]
    assert bars["y"] == [paper.TABLE1_CHANNELS[g][0] for g in (1, 2, 3, 4, 8)]
    assert bars["text"][2] == "240 · 480 · 960"
    assert [w for w in bars["marker"]["line"]["width"]] == [0, 0, 4, 0, 0]  # the sidebar's g outlined
    assert "143, 140, 137, 133, 137 MFLOPs" in texts(default_steps[3]) and "reported in the paper" in texts(
        default_steps[3]
    )


def test_steps4_and_5_follow_the_sidebars_groups():
    at = lecture(4, groups="4")
    [dot] = diagram_texts(at)
    assert "no cross-group exchange: C=16, g=4" in dot
    assert "4 of 16 input channels (25%)" in texts(at)
    at = lecture(5, groups="4")
    [figure] = plotly_specs(at)
    assert figure["layout"]["title"]["text"] == "GConv output: C = 16 channels in g = 4 groups"  # the animation
    assert [frame["name"] for frame in figure["frames"]] == ["0", "1", "2", "3"]  # reshape, transpose, flatten
    flattened = figure["frames"][3]["data"][0]["customdata"]  # (group, position after the shuffle) per channel
    assert [position for _, position in flattened] == [4 * (c % 4) + c // 4 for c in range(16)]
    assert "16 of 16 input channels (100%)" in texts(at) and "instead of 4 of 16" in texts(at)
    at = lecture(4, groups="1")
    assert "shown with g = 3" in texts(at)


def test_step6_draws_this_models_stride1_and_stride2_units():
    at = lecture(6, groups="8", width="0.5")
    stride1, stride2 = diagram_texts(at)
    assert "Fig. 2b, stride 1" in stride1 and "384 → 96 ch, groups = 8" in stride1 and "Add" in stride1
    assert "Fig. 2c, stride 2" in stride2 and "192 + 192 = 384 ch" in stride2 and "Channel shuffle" in stride2
    at = lecture(6, shuffle="off")
    assert all("Channel shuffle" not in dot for dot in diagram_texts(at))


def test_step7_highlights_the_sidebars_rows_of_tables_2_and_3(default_steps):
    at = default_steps[7]
    assert "**34.1%**" in texts(at) and "36.4% without the shuffle" in texts(at)
    assert "0.9 to 4.0 points" in texts(at)
    [figure] = plotly_specs(at)
    current = [t for t in figure["data"] if t["line"]["color"] == CURRENT]
    assert [t["y"] for t in current if t.get("xaxis", "x") == "x"] == [[35.1, 34.2, 34.1, 34.3, 34.7]]
    assert [t["x"] for t in current if t.get("xaxis") == "x2"] == [[36.4, 34.1]]
    at = lecture(7, width="1.5")
    assert "reports no ImageNet error" in texts(at)
    assert not [t for t in plotly_specs(at)[0]["data"] if t["line"]["color"] == CURRENT]


def test_step8_shows_table8_as_reported_and_this_machines_numbers_once_measured():
    config = ShuffleNetConfig(groups=3, width=0.25, input_size=(64, 64))
    at = lecture(8, **query_values(config))
    assert_clean(at)
    [figure] = plotly_specs(at)
    assert [trace["y"] for trace in figure["data"]] == [list(row.milliseconds) for row in paper.TABLE8]
    assert "reported in the paper" in figure["layout"]["title"]["text"].lower()
    assert "Nothing has been timed on this machine yet" in texts(at)
    measurement = measure(config, "torch", min_time=0.05)  # a real timing, as the Latency page would make
    store = result_store()
    store.put(measurement)
    try:
        at = lecture(8, **query_values(config))
        assert f"{measurement.median_ms:.1f} ms" in texts(at) and "measured here" in texts(at)
    finally:
        store.clear()


# --------------------------------------------------------------------------- the step in the URL

BAD_STEPS = ["0", "99", "abc", "<script>alert(1)</script>", "", "2.5", "-1", "9", "1e3", "[x](javascript:1)", "9" * 500]


@pytest.mark.parametrize("value", BAD_STEPS, ids=lambda v: repr(v)[:20])
def test_parse_step_refuses_with_the_value_and_what_is_allowed(value):
    step, warning = parse_step(value)
    assert step == 1
    assert f"“{shown_value(value)}”" in warning and "step must be an integer from 1 to 8" in warning
    assert "Using the default, step=1" in warning and len(warning) < 300
    assert not re.search(r"(?<!\\)[<\[(]", warning.split("”")[0]), warning  # markup in the value is escaped


def test_parse_step_accepts_every_step():
    assert [parse_step(str(step)) for step in range(1, 9)] == [(step, None) for step in range(1, 9)]
    assert parse_step(" 3 ") == (3, None)


@pytest.mark.parametrize("value", BAD_STEPS, ids=lambda v: repr(v)[:20])
def test_a_bad_step_link_falls_back_to_step_1_with_one_warning(value):
    at = lecture(value, groups="8", width="0.5")
    assert_clean(at)
    [warning] = [w.value for w in at.warning]
    assert "`step`" in warning and f"“{shown_value(value)}”" in warning
    assert at.title[0].value == step_title(1)
    # The model's link values survive beside the repaired step.
    assert dict(at.query_params) == {**query_values(ShuffleNetConfig(groups=8, width=0.5)), "step": "1"}
    at.button(key="lecture_next").click().run()  # the user takes over: the warning goes
    assert not at.warning and at.query_params["step"] == "2"


def test_a_bad_model_value_and_a_bad_step_warn_once_each():
    at = lecture("0", groups="abc")
    assert_clean(at)
    assert sorted(w.value.split("`")[1] for w in at.warning) == ["groups", "step"]


def test_previous_next_and_the_step_buttons_move_through_every_step():
    at = lecture(groups="8")
    assert at.query_params["step"] == "1" and at.button(key="lecture_previous").disabled
    for step in range(2, len(STEPS) + 1):
        at.button(key="lecture_next").click().run()
        assert_clean(at)
        assert at.title[0].value == step_title(step) and at.query_params["step"] == str(step)
        assert at.query_params["groups"] == "8"
    assert at.button(key="lecture_next").disabled
    at.button(key="lecture_previous").click().run()
    assert at.title[0].value == step_title(7)
    at.segmented_control(key="lecture_jump").set_value(3).run()
    assert at.title[0].value == step_title(3) and at.query_params["step"] == "3"
    at.segmented_control(key="lecture_jump").set_value(None).run()  # unselecting the current step: stay
    assert at.title[0].value == step_title(3)


def test_the_step_and_the_model_survive_a_sidebar_change_and_page_switches():
    at = lecture(4, groups="8", width="0.5")
    at.sidebar.radio[0].set_value(4).run()  # g = 4
    assert at.title[0].value == step_title(4) and "C = 16, g = 4" in texts(at)
    at.switch_page("pages/1_Architecture.py").run()
    assert_clean(at)
    assert at.query_params["groups"] == "4" and at.query_params["width"] == "0.5"
    at.switch_page(LECTURE).run()
    assert_clean(at)
    assert at.title[0].value == step_title(4)
    assert at.query_params["step"] == "4" and at.query_params["groups"] == "4" and at.query_params["width"] == "0.5"


def test_the_lecture_comes_first_in_the_navigation_and_on_the_overview():
    from ui.shell.page import PAGES

    assert PAGES[0][0] == LECTURE
    at = open_app()
    assert [link.proto.page for link in at.sidebar.get("page_link")][0] == "Lecture"
    assert "Lecture" in [link.proto.page for link in at.main.get("page_link")]
