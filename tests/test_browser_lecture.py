"""The Lecture page and the phone note in a real browser (`streamlit run` + Debian's chromium).

* At 1280x720 with the sidebar collapsed, every step's figure and its Previous / Next buttons
  are on the first screen (no scrolling), every text of its figure renders at >= 12 CSS px
  (measured as in ``tests/test_browser_classroom.py``), and the arrow keys step through the
  lecture while the link keeps the step and the model. In presentation mode every text is
  >= 16 px; the charts still fit, the diagrams (steps 4 and 6) are drawn at their natural
  size, one at a time, and start on the first screen (at g = 8 they are larger than it).
* At 390x844 (a phone) every page opens with the sidebar collapsed and its first screen says
  where the controls are; the » button does open them. At 1280x720 the note is gone and
  takes no space.
"""

from __future__ import annotations

import re

import pytest
from conftest import (ALL_PAGES, ARTIFACTS, ENTRY, RUN_TIMEOUT_S, assert_no_exception, browser_tab, url_path,
                      wait_idle)
from test_browser_classroom import GRAPHVIZ, PLOTLY, assert_readable, collapse_sidebar, font_sizes, wait_for_address

from ui.lecture.steps import STEPS
from ui.lecture.nav import step_title
from ui.shell.page import PHONE_NOTE_KEY

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
FIGURE = '.js-plotly-plot, [data-testid="stGraphVizChart"] svg'
NOTE = f".st-key-{PHONE_NOTE_KEY}"
SIDEBAR = '[data-testid="stSidebar"]'
# Every rectangle that must be on the first screen: the figure(s) and both buttons.
ON_SCREEN_JS = """(selector) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const boxes = [...document.querySelectorAll(selector), ...document.querySelectorAll(
      '.st-key-lecture_previous button, .st-key-lecture_next button')].map(e => e.getBoundingClientRect());
  return {scrolled: main.scrollTop, count: boxes.length,
          boxes: boxes.map(b => [Math.round(b.left), Math.round(b.top), Math.round(b.right), Math.round(b.bottom)])};
}"""


@pytest.fixture
def screen(browser):
    with browser_tab(browser, SCREEN) as tab:
        yield tab


@pytest.mark.parametrize("present", [False, True], ids=["normal", "presenting"])
def test_every_step_fits_one_screen_is_readable_and_the_arrow_keys_step_through(streamlit_server, screen, present):
    tab, minimum = screen, 16 if present else 12
    tab.goto(f"{streamlit_server}/Lecture?groups=8&width=0.5{'&present=1' if present else ''}",
             timeout=RUN_TIMEOUT_S * 1000)  # fmt: skip
    wait_idle(tab)
    collapse_sidebar(tab)  # presentation mode collapses it by itself
    for step in range(1, len(STEPS) + 1):
        if step > 1:
            tab.keyboard.press("ArrowRight")  # Next's shortcut; a presenter's clicker sends the same
        wait_for_address(tab, rf"step={step}\b")
        tab.wait_for_function("t => document.querySelector('h1')?.textContent === t", arg=step_title(step))
        wait_idle(tab)
        assert_no_exception(tab)
        tab.wait_for_selector(FIGURE, state="visible")
        found = tab.evaluate(ON_SCREEN_JS, FIGURE)
        assert found["scrolled"] == 0 and found["count"] >= 3, found
        diagrams = tab.locator(GRAPHVIZ).count() > 0
        for left, top, right, bottom in found["boxes"]:
            if present and diagrams:  # natural size (>= 16 px): it starts on the first screen, may scroll on
                assert 0 <= top < SCREEN["height"] / 2 and 0 <= left < SCREEN["width"], (step, found)
            else:
                assert 0 <= top and bottom <= SCREEN["height"] and 0 <= left and right <= SCREEN["width"], (step, found)
        assert_readable(font_sizes(tab, f"{GRAPHVIZ}, {PLOTLY}"), minimum, f"step {step}'s figure")
        address = tab.evaluate("location.href")
        assert re.search(r"groups=8", address) and re.search(r"width=0\.5", address), address
        assert ("present=1" in address) == present, address
        tab.screenshot(path=str(ARTIFACTS / f"lecture-step{step}-1280x720{'-present' if present else ''}.png"))
    tab.keyboard.press("ArrowLeft")
    wait_for_address(tab, rf"step={len(STEPS) - 1}\b")
    wait_idle(tab)


@pytest.mark.parametrize("page", ALL_PAGES)
def test_every_page_tells_a_phone_where_the_controls_are(streamlit_server, browser, page):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)  # a fresh visit from a phone
    context.set_default_timeout(60_000)
    tab = context.new_page()
    try:
        tab.goto(f"{streamlit_server}/{url_path(page)}", timeout=RUN_TIMEOUT_S * 1000)
        note = tab.locator(NOTE)
        note.wait_for(state="visible")
        box = note.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box  # on the first screen
        assert "tap » at the top left" in note.inner_text()
        assert tab.locator(SIDEBAR).get_attribute("data-collapsed") == "true"  # so the note is needed
        expand = tab.locator('[data-testid="stExpandSidebarButton"]')
        control = expand.bounding_box()
        assert expand.is_visible() and control["x"] < PHONE["width"] / 3 and control["y"] < box["y"], control
        if page == ENTRY:  # the rest of the page is tested elsewhere; closing the tab stops its run
            wait_idle(tab)
            tab.screenshot(path=str(ARTIFACTS / "phone-note-390x844.png"))
            expand.click()  # what the note says to do opens the controls
            tab.wait_for_selector(f'{SIDEBAR}[data-collapsed="false"]')
            radio = tab.locator(f"{SIDEBAR} [data-testid='stRadio']").first
            tab.wait_for_function("e => e.getBoundingClientRect().left >= 0", arg=radio.element_handle())
        tab.set_viewport_size(SCREEN)
        tab.wait_for_function("s => !document.querySelector(s).offsetParent", arg=NOTE)
        wrapper = tab.evaluate("s => { const w = document.querySelector(s).parentElement; "
                               "return [getComputedStyle(w).display, w.getBoundingClientRect().height]; }", NOTE)
        assert wrapper == ["none", 0], wrapper  # the note's slot is gone too: no empty gap on a desktop
    finally:
        context.close()
