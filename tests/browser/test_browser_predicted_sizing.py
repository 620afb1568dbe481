"""The Complexity page's predicted-latency charts in a real browser: drawn, and their legends clear of the axes.

A server of this test's own, started after a (synthetic) calibration was kept in its data
directory, so the page predicts; `streamlit run` + Debian's chromium (tests/conftest.py).
"""

from __future__ import annotations

import pytest
from conftest import (
    ARTIFACTS,
    RUN_TIMEOUT_S,
    TEST_DATA_DIR,
    assert_no_exception,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
    wait_idle,
)

from explorer.latency.predictor import keep

pytestmark = pytest.mark.browser

TITLES = (
    "Latency vs width (predicted here)",
    "Time vs multiply-adds, per layer type",
    "Time vs g at equal multiply-adds (predicted here)",
)
BOXES = """(title) => {
  const chart = [...document.querySelectorAll('.js-plotly-plot')].find(
      c => c.querySelector('.gtitle') && c.querySelector('.gtitle').textContent === title);
  if (!chart) return null;
  const box = e => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  return {legend: [...chart.querySelectorAll('.legend .traces')].map(box),
          axis: [...chart.querySelectorAll('.xtitle, .xtick')].map(box)};
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.fixture(scope="module")
def calibrated_server():
    from test_predicted_budget import scaled_calibration

    port = free_port()
    data = TEST_DATA_DIR / f"server-{port}"  # where start_server points this server's data directory
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EXPLORER_DATA_DIR", str(data))
        keep(scaled_calibration(1.0))
    process = start_server(port, ARTIFACTS / "streamlit-predicted.log")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


def test_predicted_charts_are_drawn_with_legends_clear_of_the_axes(calibrated_server, tab):
    tab.goto(f"{calibrated_server}/Complexity?groups=3&width=1", timeout=RUN_TIMEOUT_S * 1000)
    tab.get_by_text("Where the time goes", exact=True).wait_for(timeout=RUN_TIMEOUT_S * 1000)
    wait_idle(tab)
    assert_no_exception(tab)
    for title in TITLES:
        tab.get_by_text(title, exact=True).scroll_into_view_if_needed()
        tab.wait_for_timeout(500)
        boxes = tab.evaluate(BOXES, title)
        assert boxes is not None, f"no chart titled {title!r}"
        assert boxes["legend"] or title == TITLES[2], f"{title}: no legend drawn"  # G2: one trace, no legend
        for entry in boxes["legend"]:
            assert not any(_overlap(entry, axis) for axis in boxes["axis"]), f"{title}: legend over the x axis"
    assert "No latency calibration is kept" not in tab.inner_text("body")
