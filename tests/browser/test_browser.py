"""The real app in a real browser: `streamlit run` + Debian's chromium through Playwright.

Every page (the entry page and every file in pages/) is opened, left to finish running,
changed through the shared sidebar, checked for its table / chart / diagram and for the
absence of exception boxes, and photographed (full page) under ``test-artifacts/``.
"""

from __future__ import annotations

import base64
import re
import time

import pytest
from conftest import (
    ALL_PAGES,
    ARTIFACTS,
    DATAFRAME,
    ENTRY,
    RUN_TIMEOUT_S,
    assert_no_exception,
    table_rows,
    url_path,
    wait_idle,
)

pytestmark = pytest.mark.browser

PLOTLY = ".js-plotly-plot"
DIAGRAM = '[class*="st-key-diagram_"] img'  # a diagram: SVG laid out by dot on the server, shown as an image
# What each of our pages must render (other engineers' pages: no exception, a title).
EXPECTED = {
    ENTRY: (DIAGRAM,),
    "pages/1_Architecture.py": (DATAFRAME, DIAGRAM),
    "pages/2_Complexity.py": (DATAFRAME, PLOTLY),
    "pages/5_Compare.py": (DATAFRAME, PLOTLY),
}


def diagram_svg(tab, index: int = 0) -> str:
    """The SVG drawn by the page's ``index``-th diagram image (decoded from its data URL)."""
    return base64.b64decode(tab.locator(DIAGRAM).nth(index).get_attribute("src").split(",", 1)[1]).decode()


def stage2_channels(tab) -> str:
    rows = table_rows(tab)
    header = rows[0]
    stage2 = next(r for r in rows if "Stage2" in r)
    return stage2[header.index("Output channels")]


def screenshot(tab, name: str) -> None:
    """A full-page picture: Streamlit scrolls inside stMain, so grow the viewport to fit it."""
    height = tab.eval_on_selector('[data-testid="stMain"]', "e => e.scrollHeight")
    width = tab.viewport_size["width"]
    tab.set_viewport_size({"width": width, "height": min(max(height, 800), 12000)})
    time.sleep(0.5)  # let charts re-layout
    tab.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    tab.set_viewport_size({"width": width, "height": 1000})


def choose_groups(tab, groups: int) -> None:
    tab.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').first.get_by_text(
        f"g = {groups}", exact=True
    ).click()


@pytest.mark.parametrize("page", ALL_PAGES)
def test_page_in_browser(streamlit_server, tab, page):
    tab.goto(f"{streamlit_server}/{url_path(page)}", timeout=RUN_TIMEOUT_S * 1000)
    wait_idle(tab)
    assert_no_exception(tab)
    # The sidebar holds the shared controls and wrote the model into the URL.
    assert tab.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').count() >= 2
    tab.wait_for_url(re.compile(r"groups=3"), timeout=30_000)

    choose_groups(tab, 8)
    tab.wait_for_url(re.compile(r"groups=8"), timeout=60_000)
    wait_idle(tab)
    assert_no_exception(tab)
    for selector in EXPECTED.get(page, ()):
        tab.wait_for_selector(selector, state="attached", timeout=RUN_TIMEOUT_S * 1000)
        assert tab.locator(selector).count() >= 1, selector
    if page == "pages/1_Architecture.py":
        assert stage2_channels(tab) == "384"
        assert "384 ch" in diagram_svg(tab)
    if page == "pages/2_Complexity.py":
        assert tab.locator(PLOTLY).count() >= 4
        assert tab.get_by_text("136.83M", exact=True).count() == 1  # Table 1's g = 8 count
    screenshot(tab, "page-" + (url_path(page) or "Overview"))


def test_shared_link_opens_the_same_model(streamlit_server, tab):
    tab.goto(f"{streamlit_server}/Architecture?groups=8&width=0.5", timeout=RUN_TIMEOUT_S * 1000)
    wait_idle(tab)
    tab.wait_for_selector(DATAFRAME, state="attached", timeout=RUN_TIMEOUT_S * 1000)
    assert stage2_channels(tab) == "192"
    assert "16 → 192 ch" in diagram_svg(tab)
    assert re.search(r"groups=8", tab.url) and re.search(r"width=0\.5", tab.url)
    # Navigating keeps the model (session state) and puts it back into the URL.
    tab.locator('[data-testid="stSidebar"] [data-testid="stPageLink-NavLink"]', has_text="Complexity").click()
    tab.wait_for_url(re.compile(r"/Complexity\?.*groups=8"), timeout=60_000)
    wait_idle(tab)
    assert_no_exception(tab)
    assert tab.get_by_text("ShuffleNet 0.5x (g=8), input 224 × 224 pixels, one image.").count() == 1


def test_bad_link_warns_instead_of_failing(streamlit_server, tab):
    tab.goto(
        f"{streamlit_server}/Architecture?groups=abc&variant=%3Cscript%3Ealert(1)%3C/script%3E&input=0x0",
        timeout=RUN_TIMEOUT_S * 1000,
    )
    wait_idle(tab)
    assert_no_exception(tab)
    alerts = tab.locator('[data-testid="stAlertContentWarning"]')
    assert alerts.count() == 3
    text = " ".join(alerts.all_inner_texts())
    assert "abc" in text and "<script>alert(1)</script>" in text and "0x0" in text  # shown as text
    scripts = tab.evaluate("Array.from(document.scripts).map(s => s.textContent).join(' ')")
    assert "alert(1)" not in scripts
    assert stage2_channels(tab) == "240"
    screenshot(tab, "bad-link-warnings")
