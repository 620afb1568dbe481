"""Five users on one ``streamlit run`` server at once.

Session 1 opens the Latency page and runs the full Table 8 job (3 models x 3 inputs x
2 backends, default settings). Sessions 2-5, each with a model no other session uses
(g = 1, 8, 2, 4), keep navigating between pages and switching their width while it runs,
each clicking again ``THINK_S`` after its last page run ended (a student reading the
page; without any pause four sessions keep the server busy all the time and the job,
which yields to them, is left only the flagged measurements it takes after its waits).
One Playwright context per session (its own cookies, so its own Streamlit session);
all of them are driven round-robin from this thread, so their page runs overlap on the
server. Checked:

* every page run of the browsing sessions ends within ``RENDER_BOUND_S`` with no
  exception box (its time, click to the end of the run, is recorded);
* each session's page shows its own model: the sidebar's "Current model" caption, the
  link in the address bar, the Architecture table's Stage2 channels (the library's value
  for that config), and no Table 8 progress on its Latency page (that job is session 1's);
* the job finishes with all 18 results, and its 224x224 half re-run by session 1 once the
  others have stopped gives all 6; every 224x224 result that is neither "noisy" nor "busy"
  in either run is at most ``SLOWDOWN_TOLERANCE`` slower than its quiet re-run. On a 2-core
  machine that also runs the five browsers most results come out flagged and none may be
  compared, so the slowdown is ``benchmarks/five_sessions.py``'s figure: it runs this test
  and prints every ratio, how many rows were compared, and met or missed (or "not
  measured" when none could be). The harness yields to other sessions' page runs
  (``explorer.concurrency``); ``tests/library/latency/test_sessions.py`` checks the yielding itself.

Load tier (``make test-load``): it takes several minutes.

Everything measured goes to ``test-artifacts/concurrency.json`` and is printed.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest
from conftest import (
    ARTIFACTS,
    DATAFRAME,
    EXCEPTION,
    QUIET_S,
    RUN_TIMEOUT_S,
    assert_no_exception,
    dataframe_rows,
    script_running,
    table_rows,
    wait_idle,
)

from explorer import ShuffleNetConfig

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.load]

RENDER_BOUND_S = 120  # one page run of a browsing session, click to end, on a loaded 2-core machine
TEST_BUDGET_S = 15 * 60  # the whole test
RUNNER_WIDTH = 2600  # px: session 1's window draws every column of the Table 8 table (it scrolls sideways)
# A Table 8 result with neither flag may be at most this much slower than its quiet re-run.
# Two quiet runs of the same measurement agree within ~2% here (README, "repeated runs"); an
# unflagged measurement already has IQR <= 10% of its median and had the CPUs to itself, so
# 25% leaves room for the slower machine state between the runs (caches, other helpers'
# load below the 10% "busy" threshold) while catching what a hidden neighbour does: another
# session's page run beside a 2-thread measurement on 2 cores slows it 1.5-3x.
SLOWDOWN_TOLERANCE = 0.25
PAGES = ("Architecture", "Complexity", "Channel shuffle", "Compare", "Latency", "Overview")
SIDEBAR = '[data-testid="stSidebar"]'
POLL_S = 0.1
THINK_S = 2.0  # a user looks at a page this long before the next click (after it has been quiet for QUIET_S)


@dataclass
class Browsing:
    """One browsing session: its own g, two widths it switches between, a page cycle."""

    name: str
    groups: int
    widths: tuple[float, float]
    tab: object = None
    page: str = ""
    width: float = 0.0
    step: int = 0
    action: str = ""
    started: float = 0.0
    quiet_since: float | None = None
    think_until: float | None = None  # the last run is recorded; next click at this moment
    renders: list[dict] = field(default_factory=list)

    @property
    def config(self) -> ShuffleNetConfig:
        return ShuffleNetConfig(groups=self.groups, width=self.width)

    def begin(self, action: str) -> None:
        self.action, self.started, self.quiet_since, self.think_until = action, time.monotonic(), None, None

    def step_once(self) -> None:
        """Advance without blocking: record a finished run, then click again after THINK_S."""
        if self.think_until is None:
            if self.run_finished():
                self.record()
                self.think_until = time.monotonic() + THINK_S
        elif time.monotonic() >= self.think_until:
            self.next_action()

    def next_action(self) -> None:
        """Alternate: go to the next page of the cycle, then switch width."""
        self.step += 1
        if self.step % 2:
            self.page = PAGES[(PAGES.index(self.page) + 1) % len(PAGES)]
            self.begin(f"open {self.page}")
            self.tab.locator(f'{SIDEBAR} [data-testid="stPageLink-NavLink"]', has_text=self.page).click()
        else:
            self.width = self.widths[1] if self.width == self.widths[0] else self.widths[0]
            self.begin(f"width {self.width:g}x on {self.page}")
            self.tab.locator(f'{SIDEBAR} [data-testid="stRadio"]').nth(1).get_by_text(
                f"{self.width:g}x", exact=True
            ).click()

    def run_finished(self) -> bool:
        """Non-blocking ``wait_idle``: the page shows this session's model and has been quiet for QUIET_S."""
        now = time.monotonic()
        if now - self.started > RENDER_BOUND_S:
            raise AssertionError(f"{self.name}: '{self.action}' still running after {RENDER_BOUND_S} s")
        if script_running(self.tab) or not self.url_matches() or self.tab.locator("h1").count() == 0:
            self.quiet_since = None
            return False
        if self.quiet_since is None:
            self.quiet_since = now
        return now - self.quiet_since > QUIET_S

    def url_matches(self) -> bool:
        """The address bar shows this session's page and model (Streamlit writes it during the run)."""
        url = urlsplit(self.tab.url)
        query = parse_qs(url.query)
        return (
            url.path.strip("/") == page_path(self.page)
            and query.get("groups") == [str(self.groups)]
            and query.get("width") == [f"{self.width:g}"]
        )

    def record(self) -> None:
        seconds = self.quiet_since - self.started
        self.renders.append({"action": self.action, "page": self.page, "seconds": round(seconds, 2)})
        self.check_own_state()

    def check_own_state(self) -> None:
        assert_no_exception(self.tab)
        caption = self.tab.locator(SIDEBAR).get_by_text("Current model:").first.inner_text()
        assert f"{self.config.label}, input 224×224" in caption, (self.name, caption)
        if self.page == "Architecture":
            self.tab.wait_for_selector(DATAFRAME, state="attached", timeout=RUN_TIMEOUT_S * 1000)
            rows = table_rows(self.tab)
            stage2 = next(r for r in rows if "Stage2" in r)
            assert stage2[rows[0].index("Output channels")] == str(self.config.plan().stage_channels[0]), self.name
        if self.page == "Latency":
            assert self.tab.get_by_text(re.compile(r"of \d+ measured")).count() == 0, self.name


def page_path(label: str) -> str:
    """The URL path of a page by its navigation label ("Channel shuffle" -> "Channel_shuffle")."""
    return "" if label == "Overview" else label.replace(" ", "_")


def open_session(browser, width: int = 1400):
    context = browser.new_context(viewport={"width": width, "height": 1000})
    context.set_default_timeout(RUN_TIMEOUT_S * 1000)
    return context, context.new_page()


def table8(tab) -> list[dict]:
    """The Table 8 dataframe of the Latency page: one dict per measurement.

    Found by its pinned first columns (the grid leaves off-screen columns out of the page):
    Model, Input, Backend, Median, the paper's ms; the runner's window (``RUNNER_WIDTH``) is
    wide enough for its "Flags" and "Busy because" columns too.
    """
    first_columns = ["Model", "Input", "Backend", "Median (ms)", "Paper ms (reported in the paper)"]
    index = next(i for i in range(tab.locator(DATAFRAME).count()) if table_rows(tab, i)[0][:5] == first_columns)
    header, *rows = dataframe_rows(tab, index)
    assert "Flags" in header, header  # noisy / busy readable without scrolling sideways

    def cell(row: list[str], name: str) -> str | None:
        return row[header.index(name)] if name in header else None

    def number(text: str | None) -> float | None:
        return None if text is None else float(text)

    return [
        {
            "model": cell(r, "Model"),
            "input": cell(r, "Input"),
            "backend": cell(r, "Backend"),
            "median_ms": float(cell(r, "Median (ms)")),
            "iqr_ms": number(cell(r, "IQR (ms)")),
            "flag": cell(r, "Flags"),
            "busy_because": cell(r, "Busy because"),
        }
        for r in rows
    ]


def run_table8(tab, count: int, deadline: float, progress: list, while_waiting=lambda: None) -> float:
    """Press "Run Table 8 (count measurements)" and wait for the job's success message; returns its wall time.

    Appends (seconds since the click, measurements done) to ``progress`` as the job advances.
    """
    tab.get_by_role("button", name=f"Run Table 8 ({count} measurements)").click()
    started = time.monotonic()
    done = tab.get_by_text(f"Table 8: {count} measurements done")
    bar = tab.get_by_text(re.compile(rf"Table 8: \d+ of {count} measured"))
    while done.count() == 0:
        assert tab.get_by_text("Table 8 failed").count() == 0, tab.get_by_text("Table 8 failed").inner_text()
        assert tab.locator(EXCEPTION).count() == 0, tab.locator(EXCEPTION).first.inner_text()
        assert time.monotonic() < deadline, f"the test ran out of time waiting for Table 8: {progress}"
        # all_inner_texts() does not wait: the bar may be replaced by the success message
        # between two calls, and inner_text() would then wait for a bar that never comes back.
        for text in bar.all_inner_texts()[:1]:
            measured = int(re.search(rf"(\d+) of {count}", text).group(1))
            if not progress or progress[-1][1] != measured:
                progress.append((round(time.monotonic() - started, 1), measured))
        while_waiting()
        time.sleep(POLL_S)
    progress.append((round(time.monotonic() - started, 1), count))
    return time.monotonic() - started


def only_224_inputs(tab) -> None:
    """Leave only 224x224 in the Latency page's "Table 8 inputs" choice (6 measurements)."""
    inputs = tab.locator('[data-testid="stMultiSelect"]').filter(has_text="Table 8 inputs")
    for size in ("480x640", "720x1280"):
        inputs.get_by_role("button", name=f"Remove {size}").click()
        wait_idle(tab)


def test_five_sessions_one_running_table8(streamlit_server, browser):
    deadline = time.monotonic() + TEST_BUDGET_S
    users = [
        Browsing("session 2", 1, (0.5, 1.5)),
        Browsing("session 3", 8, (1.0, 0.5)),
        Browsing("session 4", 2, (0.25, 1.0)),
        Browsing("session 5", 4, (1.5, 0.5)),
    ]
    run: dict = {"while_browsing": {"progress": []}, "quiet_224": {"progress": []}}
    contexts = []
    try:
        context, runner = open_session(browser, RUNNER_WIDTH)
        contexts.append(context)
        runner.goto(f"{streamlit_server}/Latency", timeout=RUN_TIMEOUT_S * 1000)
        wait_idle(runner)
        for index, user in enumerate(users):
            context, user.tab = open_session(browser)
            contexts.append(context)
            user.page, user.width = PAGES[index], user.widths[0]
            user.begin(f"open {user.page} (first visit)")
            user.tab.goto(
                f"{streamlit_server}/{page_path(user.page)}?groups={user.groups}&width={user.width:g}",
                timeout=RUN_TIMEOUT_S * 1000,
            )

        def browse() -> None:
            for user in users:
                user.step_once()

        busy = run["while_browsing"]
        busy["seconds"] = run_table8(runner, 18, deadline, busy["progress"], browse)
        for user in users:  # let the runs in flight finish, then leave the browsers idle
            while user.think_until is None:
                user.step_once()
                time.sleep(POLL_S)
        wait_idle(runner)
        busy["rows"] = table8(runner)
        # The same measurements at 224x224 again, with nobody else working: the reference.
        only_224_inputs(runner)
        quiet = run["quiet_224"]
        quiet["seconds"] = run_table8(runner, 6, deadline, quiet["progress"])
        wait_idle(runner)
        quiet["rows"] = [r for r in table8(runner) if r["input"] == "224×224"]
    finally:
        for context in contexts:
            context.close()
        report = concurrency_report(users, run)
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "concurrency.json").write_text(json.dumps(report, indent=2))
        print(json.dumps({k: v for k, v in report.items() if k not in ("table8", "render_seconds")}, indent=2))
        print(json.dumps({k: v for k, v in report["render_seconds"].items() if k != "by_session"}, indent=2))
        print(json.dumps(report["table8"], indent=2))

    assert all(len(user.renders) >= 4 for user in users), [len(u.renders) for u in users]
    assert len(run["while_browsing"]["rows"]) == 18 and len(run["quiet_224"]["rows"]) == 6
    for row in report["table8"]:
        if row["compared"]:
            assert row["ratio"] <= 1 + SLOWDOWN_TOLERANCE, row


def concurrency_report(users: list[Browsing], run: dict) -> dict:
    """Render times of the browsing sessions; the Table 8 results while they browsed, beside the quiet re-run."""
    quiet_by_key = {(r["model"], r["input"], r["backend"]): r for r in run["quiet_224"].get("rows", [])}
    rows = []
    for row in run["while_browsing"].get("rows", []):
        reference = quiet_by_key.get((row["model"], row["input"], row["backend"]))
        quiet = (
            {}
            if reference is None
            else {
                "quiet_median_ms": reference["median_ms"],
                "quiet_flag": reference["flag"],
                "ratio": round(row["median_ms"] / reference["median_ms"], 3),
            }
        )
        compared = reference is not None and not row["flag"] and not reference["flag"]
        rows.append({**row, **quiet, "compared": compared})
    seconds = [r["seconds"] for u in users for r in u.renders] or [float("nan")]
    flags = [r["flag"] or "" for r in run["while_browsing"].get("rows", [])]
    reasons = [r["busy_because"] or "" for r in run["while_browsing"].get("rows", [])]
    return {
        "render_seconds": {
            "median": statistics.median(seconds),
            "max": max(seconds),
            "renders": len(seconds),
            "bound": RENDER_BOUND_S,
            "think_s": THINK_S,
            "by_session": {u.name: {"groups": u.groups, "renders": u.renders} for u in users},
        },
        "table8_wall_s": {name: round(r.get("seconds", float("nan")), 1) for name, r in run.items()},
        "table8_progress": {name: r["progress"] for name, r in run.items()},
        "while_browsing": {
            "results": len(flags),
            "unflagged": flags.count(""),
            "noisy": sum("noisy" in f for f in flags),
            "busy": sum("busy" in f for f in flags),
            "busy_other_sessions": sum("other sessions" in r for r in reasons),
            "busy_other_processes": sum("other processes" in r for r in reasons),
        },
        "quiet_224_unflagged": sum(not r["flag"] for r in run["quiet_224"].get("rows", [])),
        "compared": sum(r["compared"] for r in rows),
        "slowdown_tolerance": SLOWDOWN_TOLERANCE,
        "table8": rows,
    }
