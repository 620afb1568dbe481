"""The "on this device" component in a real browser: Debian's chromium (Playwright) against ``streamlit run``.

The Latency page's buttons make the server export the model, the component run it with
ONNX Runtime Web in the page's own iframe, and the server check the outputs against
PyTorch: the rows read here are the server's verdicts, drawn in its results table.
"""

from __future__ import annotations

import time

import pytest
from conftest import (
    ARTIFACTS,
    DATAFRAME,
    assert_no_exception,
    free_port,
    start_server,
    stop_server,
    table_rows,
    wait_healthy,
    wait_idle,
)

from ui.latency.device import DEVICE_COLUMN, PAPER_COLUMN
from ui.latency.device_component import missing_files

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(bool(missing_files()), reason="onnxruntime-web not installed (npm missing)"),
]
RESULT_TIMEOUT_S = 240  # export (once per model) + runtime start + warm-up + 1 s of runs each, on a busy machine


def device_rows(tab) -> list[dict[str, str]]:
    """The 'measured on your device' table as {column: text} rows (the accessible table beside the canvas;
    a dataframe without selections carries no key class, so it is found by its column)."""
    for index in range(tab.locator(DATAFRAME).count()):
        header, *rows = table_rows(tab, index) or [[]]
        if DEVICE_COLUMN in header:
            return [dict(zip(header, row)) for row in rows]
    return []


def wait_for_verdicts(tab, count: int) -> list[dict[str, str]]:
    deadline = time.monotonic() + RESULT_TIMEOUT_S
    while time.monotonic() < deadline:
        rows = device_rows(tab)
        if len(rows) >= count and all(row.get("Outputs vs PyTorch") for row in rows):
            return rows
        assert_no_exception(tab)
        time.sleep(1)
    raise TimeoutError(f"{count} device results not shown after {RESULT_TIMEOUT_S} s: {device_rows(tab)}")


def open_latency(tab, server: str) -> None:
    tab.goto(f"{server}/Latency")
    wait_idle(tab)
    tab.get_by_role("button", name="Measure on this device").wait_for()


def check_row(row: dict[str, str]) -> float:
    assert row["Outputs vs PyTorch"].startswith("matches"), row
    milliseconds = float(row[DEVICE_COLUMN])
    assert 0.05 < milliseconds < 5000, row  # a ShuffleNet at these sizes: well above a timer tick, below seconds
    return milliseconds


def test_measure_on_this_device_in_the_browser(streamlit_server, tab):
    open_latency(tab, streamlit_server)
    tab.get_by_role("button", name="Measure on this device").click()
    rows = wait_for_verdicts(tab, 1)
    assert len(rows) == 1
    row = rows[0]
    assert row["Model"] == "ShuffleNet 1x (g=3)" and row["Input"] == "224×224", row  # the sidebar's default model
    device_ms = check_row(row)
    assert float(row[PAPER_COLUMN]) == pytest.approx(37.8)
    assert float(row["Speedup vs the paper (×)"]) == pytest.approx(37.8 / device_ms, rel=0.02)
    frame = tab.frame_locator(".st-key-dev_component iframe")
    assert "median of" in frame.locator("#status").inner_text()
    assert_no_exception(tab)


def test_table8_on_this_device_two_shufflenets_at_224(streamlit_server, tab):
    open_latency(tab, streamlit_server)
    inputs = tab.locator(".st-key-dev_inputs")
    for name in ("480×640", "720×1280"):  # keep 224×224 only
        inputs.get_by_role("button", name=f"Remove {name}").click()
        wait_idle(tab)
    tab.get_by_role("button", name="Table 8 on this device").click()
    rows = wait_for_verdicts(tab, 2)
    assert [(r["Model"], r["Input"]) for r in rows] == [
        ("ShuffleNet 0.5x arch2 (g=3)", "224×224"),
        ("ShuffleNet 1x (g=3)", "224×224"),
    ], rows
    small, large = (check_row(r) for r in rows)
    assert small < large * 1.5  # 40 vs 140 M multiply-adds: the 0.5x model is not much slower than the 1x
    assert (
        "Table 8 on your device: 2 of 2 done." in tab.locator('[data-testid="stAlert"]').all_inner_texts()[-1]
        or tab.get_by_text("Table 8 on your device: 2 of 2 done.").count()
    )
    assert_no_exception(tab)


@pytest.fixture(scope="module")
def one_megabyte_pieces_server():
    """A second server that sends ONNX files in 1 MB pieces (EXPLORER_DEVICE_CHUNK_MB=1), as it sends AlexNet's."""
    port = free_port()
    process = start_server(port, ARTIFACTS / "streamlit-server-pieces.log", env={"EXPLORER_DEVICE_CHUNK_MB": "1"})
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_server(process)


def test_a_model_in_pieces_is_asked_for_piece_by_piece_and_reassembled(one_megabyte_pieces_server, tab):
    tab.goto(f"{one_megabyte_pieces_server}/Latency?groups=3&width=0.5&variant=arch2&input=224x224")
    wait_idle(tab)
    tab.get_by_role("button", name="Measure on this device").click()
    (row,) = wait_for_verdicts(tab, 1)
    check_row(row)  # the reassembled file computes PyTorch's outputs
    frame = next(f for f in tab.frames if "/component/" in f.url)
    pieces = [e["detail"] for e in frame.evaluate("window.__deviceTimeline") if e["event"] == "piece"]
    assert [p["index"] for p in pieces] == [0, 1, 2]  # the 3 MB file, 1 MB at a time
    assert [p["bytes"] for p in pieces[:2]] == [2**20, 2**20] and 0 < pieces[2]["bytes"] <= 2**20
