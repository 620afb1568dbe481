"""Presentation mode (``?present=1``) through AppTest, on every page: what it hides, what it enlarges, the link.

The browser side (sidebar collapsed, rendered font sizes, the CSS) is in
``tests/browser/test_browser_classroom.py``.
"""

import re

import pytest
from conftest import ALL_PAGES, assert_clean, diagram_svgs, download_labels, open_app, plotly_specs, svg_font_sizes

from ui.shell.presentation import parse_present
from ui.shell.style import chart_font, diagram_font

METHOD_NOTE = re.compile(r"^How\b")


def method_notes(at) -> list[str]:
    return [e.label for e in at.expander if METHOD_NOTE.match(e.label)]


def hidden_things(at) -> tuple[int, int, int]:
    """(captions, download buttons, method notes) on the page, sidebar included."""
    return len(at.caption) + len(at.sidebar.caption), len(download_labels(at)), len(method_notes(at))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1", True),
        ("on", True),
        ("TRUE", True),
        (" yes ", True),
        ("0", False),
        ("off", False),
        ("", False),
        ("no", False),
    ],
)
def test_present_values(text, expected):
    assert parse_present(text) is expected


@pytest.mark.parametrize("text", ["2", "abc", "<script>", "1.0", "onn"])
def test_bad_present_values_are_refused(text):
    with pytest.raises(ValueError, match="present must be 1 \\(on\\) or 0 \\(off\\)"):
        parse_present(text)


@pytest.mark.parametrize("page", ALL_PAGES)
def test_presentation_mode_hides_the_small_print_and_draws_figures_larger(page):
    normal = open_app(page)
    assert_clean(normal)
    assert hidden_things(normal)[0] > 0, "every page has captions to hide"
    at = open_app(page, {"present": "1"})
    assert_clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert hidden_things(at) == (0, 0, 0)  # captions, downloads, "How ..." notes: not drawn at all
    assert at.toggle(key="present_toggle_top").value is True  # the visible way out
    assert at.query_params["present"] in ("1", ["1"])
    assert at.title and at.title[0].value == normal.title[0].value  # the same page, not another one
    for spec in plotly_specs(normal):
        assert spec["layout"]["font"]["size"] == chart_font(False)
    for spec in plotly_specs(at):
        assert spec["layout"]["font"]["size"] == chart_font(True) >= 16
        for annotation in spec["layout"].get("annotations", []):
            assert annotation.get("font", {}).get("size", chart_font(True)) >= 16
    for svg in diagram_svgs(at):  # what dot drew, in points: 1 pt = 4/3 px at natural size
        assert min(svg_font_sizes(svg)) >= diagram_font(True) >= 12  # 12 pt = 16 px at natural size
    for svg in diagram_svgs(normal):
        assert min(svg_font_sizes(svg)) >= diagram_font(False) >= 9  # 9 pt = 12 px


def test_presentation_mode_survives_a_page_switch_and_turns_off():
    at = open_app("pages/1_Architecture.py", {"present": "on", "groups": "8"})
    assert hidden_things(at) == (0, 0, 0)
    at.switch_page("pages/2_Complexity.py").run()
    assert_clean(at)
    assert hidden_things(at) == (0, 0, 0)
    assert at.query_params["present"] in ("1", ["1"]) and at.query_params["groups"] in ("8", ["8"])
    at.toggle(key="present_toggle_top").set_value(False).run()
    assert_clean(at)
    assert "present" not in at.query_params
    assert hidden_things(at)[0] > 0 and hidden_things(at)[1] > 0
    assert at.sidebar.toggle(key="present_toggle_sidebar").value is False
    at.sidebar.toggle(key="present_toggle_sidebar").set_value(True).run()  # and on again, from the sidebar
    assert hidden_things(at) == (0, 0, 0)


@pytest.mark.parametrize("value", ["abc", "2", "<b>x</b>"])
def test_a_bad_present_value_warns_once_and_falls_back_to_off(value):
    at = open_app("pages/2_Complexity.py", {"present": value})
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 1
    assert "`present`" in warnings[0] and "1 (on) or 0 (off)" in warnings[0] and "present=0" in warnings[0]
    assert "<b>" not in warnings[0]  # escaped, like every link value
    assert hidden_things(at)[0] > 0  # not presenting
    assert "present" not in at.query_params
