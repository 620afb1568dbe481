"""Diagrams laid out on the server: ``dot -Tsvg`` (the real binary), its failures, and the pages without it.

Every diagram reaches the browser as an SVG image (``ui.figures.diagram_view``); a missing or failing
``dot`` leaves a warning naming the diagram and why, in its place, never a traceback, and the page's
other content (tables, DOT downloads) stays.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import assert_clean, diagram_alts, diagram_svgs, download_labels, open_app, svg_font_sizes

from ui.figures import diagrams
from ui.figures.diagrams import DiagramError, dot_to_svg, shuffle_demo_dot
from ui.shell.style import diagram_font

pytestmark = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")


def test_dot_lays_out_the_svg_at_the_dots_own_font_sizes():
    svg = dot_to_svg(shuffle_demo_dot(present=True))
    assert svg.startswith("<?xml") and "<svg" in svg and "<!--" not in svg  # comments and DTD dropped
    assert "after channel shuffle" in svg and min(svg_font_sizes(svg)) == diagram_font(True)


def test_a_dot_error_and_a_missing_binary_are_one_clear_sentence():
    with pytest.raises(DiagramError, match=r"could not draw this diagram \(exit 1: .*syntax error"):
        dot_to_svg("digraph { a -> }")
    with pytest.raises(DiagramError, match="`no-such-dot` program is not installed on the server"):
        dot_to_svg("digraph { a -> b }", binary="no-such-dot")


def test_every_diagram_of_architecture_is_a_named_svg_image():
    at = open_app("pages/1_Architecture.py", {"groups": "8"})
    assert_clean(at)
    svgs, alts = diagram_svgs(at), diagram_alts(at)
    assert len(svgs) == 3 and all("<svg" in svg for svg in svgs)
    assert alts[0].startswith("Block diagram of ShuffleNet 1x (g=8)") and alts[1].startswith("Unit diagram: Stage3")
    assert not at.get("graphviz_chart")  # no layout left to the browser


def test_without_dot_the_pages_say_so_in_place_of_each_diagram(monkeypatch):
    from ui.shell.cache import cached_svg

    cached_svg.clear()
    monkeypatch.setattr(diagrams, "DOT_BINARY", "no-such-dot")  # what a server without graphviz has
    try:
        at = open_app("pages/1_Architecture.py")
        assert_clean(at)
        assert not diagram_svgs(at)
        warnings = [w.value for w in at.warning]
        assert len([w for w in warnings if "`no-such-dot` program is not installed" in w]) == 3, warnings
        assert "Network (DOT)" in download_labels(at) and "Network (SVG)" not in download_labels(at)
        assert at.dataframe  # the rest of the page is drawn
        lecture = open_app("pages/0_Lecture.py", {"step": "6"})
        assert_clean(lecture)
        assert sum("program is not installed" in w.value for w in lecture.warning) == 2
    finally:
        cached_svg.clear()
