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
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRY = "streamlit_app.py"
PAGE_FILES = sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))
ALL_PAGES = [ENTRY, *PAGE_FILES]
# Cold runs build and trace a model (several seconds on a busy 2-core machine).
APP_TIMEOUT = float(os.environ.get("APP_TEST_TIMEOUT", "240"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts"
# No cache warm-up thread (ui/shell/warmup.py) in this process: it would compete with the tests and
# add misses to the cache counters of tests/test_cache_bounds.py. Servers started here keep it.
os.environ["EXPLORER_WARMUP"] = "0"

# Results outlive a process (the SQLite result store in the data directory): every test
# session gets a fresh, empty data directory of its own, so no test sees another run's
# results and no run touches the user's own; a `streamlit run` server gets another one.
TEST_DATA_DIR = Path(tempfile.mkdtemp(prefix="explorer-test-data-"))
os.environ["EXPLORER_DATA_DIR"] = str(TEST_DATA_DIR)
atexit.register(shutil.rmtree, TEST_DATA_DIR, ignore_errors=True)


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
    return subprocess.run([sys.executable, "-m", "explorer", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


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

RUN_TIMEOUT_S = 180  # a cold page builds and traces a model on a busy 2-core machine
QUIET_S = 1.0  # no "running" status for this long: the script run is over
DATAFRAME = '[data-testid="stDataFrame"]'
EXCEPTION = '[data-testid="stException"]'
STATUS = '[data-testid="stStatusWidget"]'
SKELETON = '[data-testid="stSkeleton"]'


def url_path(page: str) -> str:
    """Streamlit's URL for a pages/ file: ``pages/1_Architecture.py`` -> ``Architecture``."""
    if page == ENTRY:
        return ""
    return re.sub(r"^\d+_", "", page.removeprefix("pages/").removesuffix(".py"))


def script_running(tab) -> bool:
    """Streamlit shows its 'running' status widget (or skeletons) while a script run is in progress."""
    return tab.locator(STATUS).count() > 0 or tab.locator(SKELETON).count() > 0


def wait_idle(tab, timeout_s: float = RUN_TIMEOUT_S) -> float:
    """Wait until the script run is over: a title is drawn and no 'running' status for 1 s.

    Returns the moment (``time.monotonic()``) the page went quiet: the end of the run.
    """
    tab.wait_for_selector("h1", timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        if script_running(tab):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > QUIET_S:
            return quiet_since
        time.sleep(0.2)
    raise TimeoutError(f"the app was still running after {timeout_s:.0f}s")


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
        bottom = frame.evaluate("(e, top) => { const s = e.querySelector('.dvn-scroller'); s.scrollTop = top;"
                                " return s.scrollHeight - s.clientHeight; }", top)  # fmt: skip
        time.sleep(0.3)  # the grid draws the rows now in view
        for position, cells in frame.evaluate(
            "e => Array.from(e.querySelectorAll('table tr')).map("
            "r => [Number(r.getAttribute('aria-rowindex')), Array.from(r.cells).map(c => c.textContent.trim())])"
        ):
            rows[position] = cells
        top += 200
    return [rows[position] for position in sorted(rows)]


def assert_no_exception(tab) -> None:
    assert tab.locator(EXCEPTION).count() == 0, tab.locator(EXCEPTION).first.inner_text()


def _free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"streamlit at {url} not healthy after {timeout:.0f}s")


def _stop(process: subprocess.Popen) -> None:
    """Terminate a server we started; kill it if it does not stop within 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=15)


def start_server(port: int, log_path: Path, *extra: str) -> tuple[subprocess.Popen, object]:
    """``streamlit run streamlit_app.py`` on 127.0.0.1:``port`` (its own process group), output to ``log_path``."""
    log_path.parent.mkdir(exist_ok=True)
    log = open(log_path, "wb")
    command = [
        sys.executable, "-m", "streamlit", "run", ENTRY,
        "--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port),
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *extra,
    ]  # fmt: skip
    env = {**os.environ, "EXPLORER_WARMUP": "1", "EXPLORER_DATA_DIR": str(TEST_DATA_DIR / f"server-{port}")}
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            env=env), log  # fmt: skip


def stop_server(process: subprocess.Popen, log) -> None:
    _stop(process)
    log.close()


free_port, wait_healthy = _free_port, _wait_healthy  # for the benchmarks, which reuse them


@pytest.fixture(scope="session")
def streamlit_server():
    """Start ``streamlit run streamlit_app.py`` on a free loopback port; yield its base URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process, log = start_server(port, ARTIFACTS / "streamlit-server.log")
    try:
        _wait_healthy(url, process, timeout=90)
        yield url
    finally:
        stop_server(process, log)


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
