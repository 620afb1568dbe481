"""The Lecture page and the phone note in a real browser (`streamlit run` + Debian's chromium).

* At 1280x720 with the sidebar collapsed, every step's figure and its Previous / Next buttons
  are on the first screen (no scrolling), and the arrow keys step through the lecture while
  the link keeps the step and the model.
* At 390x844 (a phone) every page opens with the sidebar collapsed and its first screen says
  where the controls are; the » button does open them. At 1280x720 the note is gone and
  takes no space.
"""

from __future__ import annotations

import re

import pytest
from conftest import ALL_PAGES, ARTIFACTS, ENTRY, RUN_TIMEOUT_S, assert_no_exception, url_path, wait_idle

from ui.lecture import STEPS
from ui.lecture_nav import step_title
from ui.page import PHONE_NOTE_KEY

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
    context = browser.new_context(viewport=SCREEN)
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def collapse_sidebar(tab) -> None:
    tab.locator(SIDEBAR).hover()
    tab.locator('[data-testid="stSidebarCollapseButton"] button').click()
    tab.locator(SIDEBAR).wait_for(state="hidden")


def test_every_step_fits_one_screen_and_the_arrow_keys_step_through(streamlit_server, screen):
    tab = screen
    tab.goto(f"{streamlit_server}/Lecture?groups=8&width=0.5", timeout=RUN_TIMEOUT_S * 1000)
    wait_idle(tab)
    collapse_sidebar(tab)
    for step in range(1, len(STEPS) + 1):
        if step > 1:
            tab.keyboard.press("ArrowRight")  # Next's shortcut; a presenter's clicker sends the same
        tab.wait_for_url(re.compile(rf"step={step}\b"), timeout=60_000)
        tab.wait_for_function("t => document.querySelector('h1')?.textContent === t", arg=step_title(step))
        wait_idle(tab)
        assert_no_exception(tab)
        tab.wait_for_selector(FIGURE, state="visible")
        found = tab.evaluate(ON_SCREEN_JS, FIGURE)
        assert found["scrolled"] == 0 and found["count"] >= 3, found
        for left, top, right, bottom in found["boxes"]:
            assert 0 <= top and bottom <= SCREEN["height"] and 0 <= left and right <= SCREEN["width"], (step, found)
        assert re.search(r"groups=8", tab.url) and re.search(r"width=0\.5", tab.url)
        tab.screenshot(path=str(ARTIFACTS / f"lecture-step{step}-1280x720.png"))
    tab.keyboard.press("ArrowLeft")
    tab.wait_for_url(re.compile(rf"step={len(STEPS) - 1}\b"), timeout=60_000)
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
