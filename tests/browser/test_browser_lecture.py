"""The Lecture page and the phone note in a real browser (`streamlit run` + Debian's chromium).

* At 1280x720 with the sidebar collapsed, every step fits the first screen, normal and presenting
  (issue 20): its figure (each of step 6's tabs too) and its Previous / Next buttons, with no scrolling;
  nothing overlaps (a chart's x-axis title and its legend); every chart's title and subplot titles sit
  inside the chart and the screen. Every text of the figure renders at >= 12 CSS px (>= 16 px presenting;
  measured as in ``tests/browser/test_browser_classroom.py``: diagrams are server-side SVG images), and the arrow
  keys step through the lecture while the link keeps the step and the model. The default tier checks
  g = 8 at 0.5x in both modes; the load tier every paper g (1, 2, 3, 4, 8) at 1x and 0.5x, presenting.
* At 390x844 (a phone) every page opens with the sidebar collapsed and its first screen says
  where the controls are; the » button does open them. At 1280x720 the note is gone and
  takes no space.
"""

from __future__ import annotations

import pytest
from conftest import ALL_PAGES, ARTIFACTS, ENTRY, RUN_TIMEOUT_S, assert_no_exception, browser_tab, url_path, wait_idle
from test_browser_classroom import (
    DIAGRAM,
    PLOTLY,
    assert_readable,
    collapse_sidebar,
    diagram_font_sizes,
    font_sizes,
    wait_for_address,
)

from ui.lecture.nav import step_title
from ui.lecture.steps import STEPS
from ui.shell.page import PHONE_NOTE_KEY

pytestmark = pytest.mark.browser

SCREEN = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}
FIGURE = f".js-plotly-plot, {DIAGRAM}"
NOTE = f".st-key-{PHONE_NOTE_KEY}"
SIDEBAR = '[data-testid="stSidebar"]'
TAB = '[data-testid="stTab"]'
PAPER_GROUPS = (1, 2, 3, 4, 8)
# Every rectangle that must be on the first screen (the visible figure(s) and both buttons), and per chart the
# boxes of its x-axis titles, legend, and title and subplot titles.
LAYOUT_JS = """(selector) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const box = e => { const b = e.getBoundingClientRect(); return [b.left, b.top, b.right, b.bottom].map(Math.round); };
  const shown = e => { const b = e.getBoundingClientRect(); return b.width > 0 && b.height > 0; };
  const boxes = [...document.querySelectorAll(selector), ...document.querySelectorAll(
      '.st-key-lecture_previous button, .st-key-lecture_next button')].filter(shown).map(box);
  const charts = [...document.querySelectorAll('.js-plotly-plot')].map(p => ({
    chart: box(p),
    xtitles: [...p.querySelectorAll('.g-xtitle text, .g-x2title text')].filter(shown).map(box),
    legends: [...p.querySelectorAll('g.legend')].filter(shown).map(box),
    titles: [...p.querySelectorAll('.g-gtitle text, .annotation-text')].filter(shown).map(box)}));
  return {scrolled: main.scrollTop, overflow: main.scrollHeight - main.clientHeight, boxes, charts};
}"""


@pytest.fixture
def screen(browser):
    with browser_tab(browser, SCREEN) as tab:
        yield tab


def overlap(a: list[int], b: list[int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def inside(inner: list[int], outer: list[int]) -> bool:
    return outer[0] <= inner[0] and inner[2] <= outer[2] and outer[1] <= inner[1] and inner[3] <= outer[3]


def check_layout(tab, where: str) -> None:
    """The visible figure and both buttons on the first screen; no axis title under a legend; titles inside."""
    found = tab.evaluate(LAYOUT_JS, FIGURE)
    screen = [0, 0, SCREEN["width"], SCREEN["height"]]
    assert found["scrolled"] == 0 and len(found["boxes"]) >= 3, (where, found)
    for rectangle in found["boxes"]:
        assert inside(rectangle, screen), (where, rectangle, found["boxes"])
    for chart in found["charts"]:
        for title in chart["xtitles"]:
            assert not any(overlap(title, legend) for legend in chart["legends"]), (where, "axis title", chart)
        for title in chart["titles"]:
            assert inside(title, chart["chart"]) and inside(title, screen), (where, "chart title", chart)


def check_step(tab, step: int, minimum: float, where: str) -> None:
    tab.wait_for_selector(FIGURE, state="visible")
    tabs = tab.locator(TAB)
    for index in range(max(1, tabs.count())):  # step 6: each unit, one tab at a time
        if index:
            tabs.nth(index).click()
            tab.wait_for_function(
                "s => [...document.querySelectorAll(s)].some(i => i.getBoundingClientRect().width > 0 && i.complete)",
                arg=DIAGRAM,
            )
        check_layout(tab, f"{where}, step {step}, tab {index + 1}")
        assert_readable(font_sizes(tab, PLOTLY) + diagram_font_sizes(tab), minimum, f"{where}: step {step}'s figure")
    tab.evaluate("document.activeElement?.blur()")  # a focused tab list would take the arrow keys


def step_through(tab, url: str, query: str, present: bool, shots: bool = False) -> None:
    """Open the Lecture at step 1 and press the right arrow to step 8, checking every step."""
    minimum, where = (16 if present else 12), f"{query}{', presenting' if present else ''}"
    tab.goto(f"{url}/Lecture?{query}{'&present=1' if present else ''}", timeout=RUN_TIMEOUT_S * 1000)
    wait_idle(tab)
    collapse_sidebar(tab)  # presentation mode collapses it by itself
    for step in range(1, len(STEPS) + 1):
        if step > 1:
            tab.keyboard.press("ArrowRight")  # Next's shortcut; a presenter's clicker sends the same
        wait_for_address(tab, rf"step={step}\b")
        tab.wait_for_function("t => document.querySelector('h1')?.textContent === t", arg=step_title(step))
        wait_idle(tab)
        assert_no_exception(tab)
        check_step(tab, step, minimum, where)
        address = tab.evaluate("location.href")
        for value in query.split("&"):
            assert value in address, (value, address)
        assert ("present=1" in address) == present, address
        if shots:
            tab.screenshot(path=str(ARTIFACTS / f"lecture-step{step}-1280x720{'-present' if present else ''}.png"))


# Normal mode (the looser layout) in the load tier; the default tier keeps presenting, the tighter one.
@pytest.mark.parametrize(
    "present", [pytest.param(False, marks=pytest.mark.load, id="normal"), pytest.param(True, id="presenting")]
)
def test_every_step_fits_one_screen_is_readable_and_the_arrow_keys_step_through(streamlit_server, screen, present):
    step_through(screen, streamlit_server, "groups=8&width=0.5", present, shots=True)
    screen.keyboard.press("ArrowLeft")
    wait_for_address(screen, rf"step={len(STEPS) - 1}\b")
    wait_idle(screen)


@pytest.mark.load
@pytest.mark.parametrize("width", [1, 0.5])
@pytest.mark.parametrize("groups", PAPER_GROUPS)
def test_every_step_fits_for_every_paper_model_presenting(streamlit_server, screen, groups, width):
    step_through(screen, streamlit_server, f"groups={groups}&width={width:g}", True)


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
        wrapper = tab.evaluate(
            "s => { const w = document.querySelector(s).parentElement; "
            "return [getComputedStyle(w).display, w.getBoundingClientRect().height]; }",
            NOTE,
        )
        assert wrapper == ["none", 0], wrapper  # the note's slot is gone too: no empty gap on a desktop
    finally:
        context.close()
