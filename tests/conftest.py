"""Shared fixtures of the app tests: AppTest runs of any page, and a real ``streamlit run`` server.

AppTest and the ``pages/`` layout (Streamlit 1.67): always start from the entry script,
``AppTest.from_file("streamlit_app.py")``, then ``at.switch_page("pages/N_Name.py")``
*before* the first ``run()`` to open a page directly (as a deep link does), or after it
to navigate within one session. ``AppTest.from_file("pages/N_Name.py")`` runs the page
without the multipage app around it, so ``st.page_link`` cannot resolve the other pages
(our navigation then just leaves the links out).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import html
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.servers import streamlit as servers
from tests.servers.streamlit import (  # noqa: F401 - the browser tests and benchmarks import them from here
    CHROMIUM,
    CHROMIUM_ARGS,
    QUIET_S,
    RUN_TIMEOUT_S,
    free_port,
    script_running,
    stop_server,
    wait_healthy,
    wait_idle,
)

# The store's fixtures (pg_cluster, location, store_env): every store test runs on SQLite and PostgreSQL.
pytest_plugins = ["store_backends"]

ROOT = Path(__file__).resolve().parent.parent
ENTRY = "streamlit_app.py"
PAGE_FILES = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
ALL_PAGES = [ENTRY, *PAGE_FILES]
# Cold runs build and trace a model (several seconds on a busy 2-core machine).
APP_TIMEOUT = float(os.environ.get("APP_TEST_TIMEOUT", "240"))
ARTIFACTS = ROOT / "test-artifacts"
# No cache warm-up thread (ui/shell/warmup.py) in this process: it would compete with the tests and
# add misses to the cache counters of tests/app/test_cache_bounds.py. Servers started here keep it.
os.environ["EXPLORER_WARMUP"] = "0"

# Results outlive a process (the SQLite result store in the data directory): every test
# session gets a fresh, empty data directory of its own, so no test sees another run's
# results and no run touches the user's own; a `streamlit run` server gets another one.
TEST_DATA_DIR = Path(tempfile.mkdtemp(prefix="explorer-test-data-"))
os.environ["EXPLORER_DATA_DIR"] = str(TEST_DATA_DIR)
atexit.register(shutil.rmtree, TEST_DATA_DIR, ignore_errors=True)

# The GEMM peak (explorer.latency.roofline) is measured once per machine and kept in the data
# directory; on a busy machine it comes out noisy and is measured again at each use (up to three
# times per process), several seconds each. Tests that are not about the peak read this seeded
# one (a steady 40 G multiply-adds/s per thread, about what this 2-core machine's ONNX Runtime
# MatMul reaches); the tests of the peak itself use data directories of their own.
SEEDED_GEMM_MACS_PER_S = 40e9


def seed_gemm_peaks(directory: Path = TEST_DATA_DIR) -> None:
    """Store an unflagged GEMM peak for every thread count in ``directory`` (this session's data directory, or
    a server's: the store finds its file through ``EXPLORER_DATA_DIR``, set here for the time of the call)."""
    from explorer.latency import roofline
    from explorer.latency.timing import summarize

    directory.mkdir(parents=True, exist_ok=True)
    session_dir, os.environ["EXPLORER_DATA_DIR"] = os.environ["EXPLORER_DATA_DIR"], str(directory)
    try:
        for threads in range(1, (os.cpu_count() or 1) + 1):
            rate = SEEDED_GEMM_MACS_PER_S * threads
            median_ms = 1536**3 / rate * 1e3
            roofline.store_peak(
                roofline.GemmPeak(
                    threads,
                    rate,
                    1536,
                    summarize([median_ms] * 5),
                    "ONNX Runtime MatMul",
                    (("ONNX Runtime MatMul", rate),),
                )
            )
    finally:
        os.environ["EXPLORER_DATA_DIR"] = session_dir


seed_gemm_peaks()


def open_app(page: str = ENTRY, query: dict[str, str] | None = None, run: bool = True):
    """An AppTest of the whole app opened on ``page`` (optionally with URL query params)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / ENTRY), default_timeout=APP_TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page != ENTRY:
        at.switch_page(page)
    if run:
        at.run()
    return at


def run_explorer(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    """``python -m explorer ARGS`` as a user runs it, from the project root, in a real subprocess.

    A subprocess costs 2-6 s of torch and ONNX Runtime import: use it for the entry point and
    exit codes, and ``run_cli`` for everything the command prints.
    """
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def run_cli(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """``explorer.cli.main(args)`` in this process, reported as ``run_explorer`` reports a subprocess.

    ``timeout`` is accepted for symmetry with ``run_explorer`` and ignored.
    """
    from explorer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse errors
            code = stop.code
    return subprocess.CompletedProcess(["python -m explorer", *args], code, out.getvalue(), err.getvalue())


def assert_one_line_usage_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    """Exit 2, nothing on stdout, one line on stderr containing every ``expected`` text, no traceback."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for text in expected:
        assert text in lines[0]


SVG_DATA = "data:image/svg+xml;base64,"


def diagram_svgs(at) -> list[str]:
    """The SVG of every diagram on an AppTest page (``ui.figures.diagram_view``: laid out by ``dot`` on the
    server, sent as an ``st.image`` of the SVG), decoded from the image's data URL."""
    images = [image for element in at.get("image") for image in element.proto.imgs]
    assert all(image.url.startswith(SVG_DATA) for image in images), [image.url[:40] for image in images]
    return [base64.b64decode(image.url.removeprefix(SVG_DATA)).decode() for image in images]


def diagram_alts(at) -> list[str]:
    """The alternative text naming each diagram on an AppTest page."""
    return [image.alt for element in at.get("image") for image in element.proto.imgs]


def svg_texts(svg: str) -> str:
    """Every text a diagram draws, one ``<text>`` element a line, entities decoded."""
    return "\n".join(html.unescape(text) for text in re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def svg_font_sizes(svg: str) -> list[float]:
    """The font size (SVG units: points at natural size) of every text a diagram draws."""
    return [float(size) for size in re.findall(r'<text[^>]*font-size="([\d.]+)"', svg)]


def diagram_texts(at) -> list[str]:
    """The texts of every diagram on an AppTest page (``svg_texts``), in page order."""
    return [svg_texts(svg) for svg in diagram_svgs(at)]


def plotly_specs(at) -> list[dict]:
    """The figure JSON of every plotly chart on an AppTest page, as Streamlit sends it."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def download_labels(at) -> list[str]:
    return [button.proto.label for button in at.get("download_button")]


def assert_clean(at) -> None:
    """No exception element and no error box on the page."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


@pytest.fixture
def app():
    """``open_app`` as a fixture, for tests that prefer injection."""
    return open_app


# --------------------------------------------------------------------------- browser

DATAFRAME = '[data-testid="stDataFrame"]'
EXCEPTION = '[data-testid="stException"]'


def url_path(page: str) -> str:
    """Streamlit's URL for a pages/ file: ``pages/1_Architecture.py`` -> ``Architecture``."""
    if page == ENTRY:
        return ""
    return re.sub(r"^\d+_", "", page.removeprefix("pages/").removesuffix(".py"))


def table_rows(tab, index: int = 0) -> list[list[str]]:
    """Cells of a st.dataframe, from the accessible table Streamlit keeps beside the canvas."""
    table = tab.locator(f"{DATAFRAME} table").nth(index)
    return table.evaluate("t => Array.from(t.rows).map(r => Array.from(r.cells).map(c => c.textContent.trim()))")


def dataframe_rows(tab, index: int = 0) -> list[list[str]]:
    """Every row of a st.dataframe (header first), scrolling its grid: ``table_rows`` sees only the rows
    drawn on screen. Cells hold the raw values (numbers unformatted); columns beyond the grid's width
    are missing, as in ``table_rows``."""
    frame = tab.locator(DATAFRAME).nth(index)
    rows: dict[int, list[str]] = {}
    top, bottom = 0, 1
    while top < bottom:
        bottom = frame.evaluate(
            "(e, top) => { const s = e.querySelector('.dvn-scroller'); s.scrollTop = top;"
            " return s.scrollHeight - s.clientHeight; }",
            top,
        )
        time.sleep(0.3)  # the grid draws the rows now in view
        for position, cells in frame.evaluate(
            "e => Array.from(e.querySelectorAll('table tr')).map("
            "r => [Number(r.getAttribute('aria-rowindex')), Array.from(r.cells).map(c => c.textContent.trim())])"
        ):
            rows[position] = cells
        top += 200
    return [rows[position] for position in sorted(rows)]


def start_server(port: int, log_path: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """A server with the warm-up on, a data directory of its own (``TEST_DATA_DIR/server-PORT``) holding the
    tests' steady GEMM peak, and ``env`` laid over that."""
    data_dir = TEST_DATA_DIR / f"server-{port}"
    seed_gemm_peaks(data_dir)
    defaults = {"EXPLORER_WARMUP": "1", "EXPLORER_DATA_DIR": str(data_dir)}
    return servers.start_server(port, log_path, {**defaults, **(env or {})}, extra)


def assert_no_exception(tab) -> None:
    assert tab.locator(EXCEPTION).count() == 0, tab.locator(EXCEPTION).first.inner_text()


@contextlib.contextmanager
def served_app(log_path: Path):
    """``start_server`` on a free loopback port, healthy: yields (base URL, process); stopped on exit."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start_server(port, log_path)
    try:
        wait_healthy(url, process, timeout=90)
        yield url, process
    finally:
        stop_server(process)


@pytest.fixture(scope="session")
def streamlit_server():
    """Start ``streamlit run streamlit_app.py`` on a free loopback port; yield its base URL."""
    with served_app(ARTIFACTS / "streamlit-server.log") as (url, _):
        yield url


@pytest.fixture(scope="session")
def browser():
    """Debian's chromium driven by Playwright (never ``playwright install``)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextlib.contextmanager
def browser_tab(browser, viewport: dict[str, int]):
    """A page in a fresh browser context (its own cookies: its own Streamlit session)."""
    context = browser.new_context(viewport=viewport)
    context.set_default_timeout(60_000)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def tab(browser):
    with browser_tab(browser, {"width": 1400, "height": 1000}) as page:
        yield page
