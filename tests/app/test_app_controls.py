"""The shared sidebar: URL round trip, bad links, page switches, custom values, safe text."""

import math

import pytest
from conftest import assert_clean, open_app
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import ShuffleNetConfig
from ui.shell.controls import DEFAULTS, config_from_query, query_values, selection_for
from ui.shell.text import shown_value

ARCH = "pages/1_Architecture.py"
COMPLEXITY = "pages/2_Complexity.py"


def stage2_channels(at) -> str:
    layout = at.dataframe[0].value
    return layout.loc[layout["Layer"] == "Stage2", "Output channels"].iloc[0]


def metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


# ---------------------------------------------------------------- pure parsing


@pytest.mark.parametrize(
    "key, value, allowed",
    [
        ("groups", "abc", "an integer from 1 to 64"),
        ("groups", "0", "an integer from 1 to 64"),
        ("groups", "2.5", "an integer from 1 to 64"),
        ("width", "nan", "a number from 0.1 to 4"),
        ("width", "inf", "a number from 0.1 to 4"),
        ("width", "9", "a number from 0.1 to 4"),
        ("variant", "<script>alert(1)</script>", "one of standard, arch2, shallow"),
        ("shuffle", "maybe", "on or off"),
        ("input", "0x0", "HEIGHTxWIDTH"),
        ("input", "224", "HEIGHTxWIDTH"),
        ("input", "99999x99999", "HEIGHTxWIDTH"),
    ],
)
def test_bad_query_value_falls_back_with_a_warning(key, value, allowed):
    config, warnings = config_from_query({key: value})
    assert config == DEFAULTS
    assert len(warnings) == 1
    assert f"`{key}`" in warnings[0] and allowed in warnings[0] and "Using the default" in warnings[0]


def test_good_query_values_round_trip():
    for config in (
        ShuffleNetConfig(groups=8, width=0.5),
        ShuffleNetConfig(groups=12, width=0.75, variant="shallow", shuffle=False, input_size=(100, 320)),
        ShuffleNetConfig(groups=1, width=2.0, variant="arch2", input_size=(720, 1280)),
    ):
        parsed, warnings = config_from_query(query_values(config))
        assert parsed == config and warnings == []
        assert selection_for(config).config() == config


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["groups", "width", "variant", "shuffle", "input", "other"]), st.text()))
def test_any_query_text_gives_a_valid_config(params):
    config, warnings = config_from_query(params)
    assert isinstance(config, ShuffleNetConfig)  # constructing it validated every field
    assert len(warnings) <= len(params)


def test_shown_value_makes_markdown_inert():
    text = shown_value("<script>alert(1)</script> [x](javascript:alert(1)) **bold** `code`\n# heading")
    for raw in ("<script>", "](", "**", "`", "\n"):
        assert raw not in text
    assert shown_value("x" * 500).endswith("…") and len(shown_value("x" * 500)) <= 41


# ---------------------------------------------------------------- in the app


def test_bad_query_params_show_warnings_and_defaults():
    bad = {"groups": "abc", "width": "nan", "variant": "<script>alert(1)</script>", "input": "0x0"}
    at = open_app(ARCH, bad)
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 4, warnings
    for key, value in (("groups", "abc"), ("width", "nan"), ("input", "0x0")):
        assert any(f"`{key}`" in w and value in w for w in warnings), (key, warnings)
    script = next(w for w in warnings if "`variant`" in w)
    assert "\\<script\\>" in script and "one of standard, arch2, shallow" in script
    assert stage2_channels(at) == "240"  # the default model, g = 3
    assert at.query_params["groups"] == "3" and at.query_params["input"] == "224x224"  # URL repaired
    # The warnings go once the user takes over.
    at.sidebar.radio[0].set_value(8).run()
    assert not at.warning and stage2_channels(at) == "384"


def test_link_opens_the_same_model():
    at = open_app(ARCH, {"groups": "8", "width": "0.5"})
    assert_clean(at)
    assert stage2_channels(at) == "192"
    assert at.query_params["groups"] == "8" and at.query_params["width"] == "0.5"


def test_selection_survives_page_switches_and_lives_in_the_url():
    at = open_app(ARCH)
    at.sidebar.radio[0].set_value(8).run()
    at.sidebar.toggle(key="ctl_shuffle").set_value(False).run()
    assert stage2_channels(at) == "384"
    at.switch_page(COMPLEXITY).run()
    assert_clean(at)
    assert at.sidebar.radio[0].value == 8 and at.sidebar.toggle(key="ctl_shuffle").value is False
    assert metric(at, "Multiply-adds (paper convention)") == "136.83M"
    assert at.query_params["groups"] == "8" and at.query_params["shuffle"] == "off"
    at.switch_page("streamlit_app.py").run()
    assert at.sidebar.radio[0].value == 8
    assert metric(at, "Stage2 / 3 / 4 output channels") == "384 / 768 / 1536"
    at.switch_page(ARCH).run()
    assert stage2_channels(at) == "384"


def test_custom_values():
    at = open_app()
    at.sidebar.radio[0].set_value("custom").run()
    at.sidebar.number_input(key="ctl_groups_custom").set_value(12).run()
    at.sidebar.radio[1].set_value("custom").run()
    at.sidebar.number_input(key="ctl_width_custom").set_value(0.75).run()
    at.sidebar.selectbox(key="ctl_input_choice").set_value("custom").run()
    at.sidebar.number_input(key="ctl_input_height").set_value(96).run()
    at.sidebar.number_input(key="ctl_input_width").set_value(160).run()
    assert_clean(at)
    assert dict(at.query_params) == {
        "groups": "12",
        "width": "0.75",
        "variant": "standard",
        "shuffle": "on",
        "input": "96x160",
    }
    assert metric(at, "Input (height × width, pixels)") == "96 × 160"
    plan = ShuffleNetConfig(groups=12, width=0.75).plan()
    assert metric(at, "Stage2 / 3 / 4 output channels") == " / ".join(map(str, plan.stage_channels))
    # The link reproduces the custom model.
    again = open_app(query=dict(at.query_params))
    assert not again.warning
    assert again.sidebar.number_input(key="ctl_groups_custom").value == 12
    assert math.isclose(again.sidebar.number_input(key="ctl_width_custom").value, 0.75)
    assert metric(again, "Input (height × width, pixels)") == "96 × 160"


def test_each_control_changes_the_landing_numbers():
    at = open_app()
    seen = {metric(at, "Multiply-adds (paper convention)")}
    for change in (
        lambda: at.sidebar.radio[0].set_value(1),
        lambda: at.sidebar.radio[1].set_value(0.5),
        lambda: at.sidebar.selectbox(key="ctl_variant").set_value("shallow"),
        lambda: at.sidebar.selectbox(key="ctl_input_choice").set_value("480x640"),
    ):
        change()
        at.run()
        assert_clean(at)
        value = metric(at, "Multiply-adds (paper convention)")
        assert value not in seen, value
        seen.add(value)
    at.sidebar.toggle(key="ctl_shuffle").set_value(False).run()
    assert "no shuffle" in metric(at, "Model")
