"""The budget decision, its "open" links and the error-vs-complexity chart in a real browser; Compare measuring.

`streamlit run` + Debian's chromium through Playwright (the fixtures of tests/conftest.py).
A link opens a new tab (Streamlit opens links from a table or markdown that way): that tab
is a new session, so its sidebar must show the linked model.
"""

from __future__ import annotations

import re
import time

import pytest
from conftest import ARTIFACTS, DATAFRAME, RUN_TIMEOUT_S, assert_no_exception, dataframe_rows, wait_idle

from explorer.paper import reported_points

pytestmark = pytest.mark.browser

SIDEBAR_CAPTION = '[data-testid="stSidebar"] [data-testid="stCaptionContainer"]'
BUDGET_TABLE = DATAFRAME
ROW_PX = 35  # glide data grid: header and row height at the default density


def open_budget(tab, server: str, budget: str = "40") -> None:
    tab.goto(f"{server}/Complexity", timeout=RUN_TIMEOUT_S * 1000)
    wait_idle(tab)
    field = tab.get_by_label("Budget (Multiply-adds (M))")
    field.fill(budget)
    field.press("Enter")
    tab.get_by_text(f"Within {budget} M multiply-adds the paper's best is", exact=False).wait_for(timeout=60_000)
    wait_idle(tab)
    assert_no_exception(tab)


def sidebar_shows(page, label: str) -> None:
    wait_idle(page)
    assert_no_exception(page)
    captions = " ".join(page.locator(SIDEBAR_CAPTION).all_inner_texts())
    assert f"Current model: {label}" in captions, captions[:300]


def click_until_a_tab_opens(tab, x: float, y: float, attempts: int = 3):
    opened: list = []
    tab.context.on("page", lambda page: opened.append(page))
    for _ in range(attempts):
        tab.mouse.click(x, y)
        deadline = time.monotonic() + 5
        while not opened and time.monotonic() < deadline:
            tab.wait_for_timeout(200)
        if opened:
            return opened[0]
    raise AssertionError(f"no tab opened after {attempts} clicks at ({x:.0f}, {y:.0f})")


def test_open_links_load_the_model_into_the_sidebar(streamlit_server, tab):
    open_budget(tab, streamlit_server)
    grid = tab.locator(BUDGET_TABLE).filter(has_text="Why listed")
    grid.scroll_into_view_if_needed()
    tab.screenshot(path=str(ARTIFACTS / "budget-decision.png"), full_page=True)
    # The verdict's link (a real anchor) ...
    with tab.context.expect_page() as opened:
        tab.get_by_role("link", name="Open the paper's best, ShuffleNet 0.5x arch2 (g=8)").click()
    page = opened.value
    page.wait_for_url(re.compile(r"\?groups=8&width=0\.5&variant=arch2&shuffle=on&input=224x224"))
    sidebar_shows(page, "ShuffleNet 0.5x arch2 (g=8)")
    page.close()
    # ... and the table's "open" cell of the first row (the same model). The grid draws on a canvas; a click
    # that only focuses the grid (or the window) opens nothing, so click again, as a user would.
    tab.bring_to_front()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page = click_until_a_tab_opens(tab, box["x"] + 20, box["y"] + ROW_PX + ROW_PX / 2)
    page.wait_for_url(re.compile(r"groups=8&width=0\.5&variant=arch2"))
    sidebar_shows(page, "ShuffleNet 0.5x arch2 (g=8)")
    page.close()


def test_the_chart_names_every_reported_model(streamlit_server, tab):
    open_budget(tab, streamlit_server, "140")
    tab.get_by_role("heading", name="Error vs complexity, as the paper reports it").scroll_into_view_if_needed()
    chart = None
    for _ in range(60):  # a chart is drawn once it scrolls into view
        charts = tab.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot')).filter(e => e.layout)
            .map(e => ({title: e.layout.title.text, names: e.data.map(t => t.name),
                        texts: e.data.flatMap(t => t.text || [])}))""")
        chart = next((c for c in charts if "Error vs complexity" in c["title"]), None)  # Streamlit adds <b>
        if chart:
            break
        tab.wait_for_timeout(500)
    assert chart, "the error vs complexity chart was not drawn"
    assert {p.model for p in reported_points()} <= set(chart["texts"])
    assert "Budget: 140 M multiply-adds" in chart["names"] and "Pareto front (reported)" in chart["names"]
    assert "Sidebar model" in chart["names"]


def latency_cells(tab) -> list[str]:
    rows = dataframe_rows(tab)
    return next(row for row in rows if row and row[0] == "Latency")[2:]


def test_compare_measures_its_models_from_the_page(streamlit_server, tab):
    tab.goto(f"{streamlit_server}/Compare?input=64x64&groups=2&width=0.25", timeout=RUN_TIMEOUT_S * 1000)
    wait_idle(tab)
    assert all("not measured" in cell for cell in latency_cells(tab))
    slider = tab.get_by_role("slider", name="Seconds of timed runs per model")  # a native range input in 1.67
    slider.focus()
    slider.press("Home")  # the shortest time per model: 0.02 s
    wait_idle(tab)
    tab.get_by_role("button", name="Measure these 2 models").click()
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:  # the job's progress redraws every second: poll the table, not idleness
        time.sleep(2)
        cells = latency_cells(tab)
        if all("ms (ONNX Runtime FP32" in cell for cell in cells):
            break
    else:
        raise AssertionError(f"not measured after {RUN_TIMEOUT_S} s: {latency_cells(tab)}")
    assert_no_exception(tab)
    assert all("measured here" in cell for cell in cells)
