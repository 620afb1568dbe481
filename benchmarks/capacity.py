"""Benchmark: the server's own CPU per student action, and how many students one server core holds.

Issue 20, item 1. One ``streamlit run streamlit_app.py`` on 127.0.0.1 (its cache warm-up as the app
does it by default; ``EXPLORER_WARMUP`` in this environment is passed on), then, once its CPU time
has stopped growing and one page has gone through every action once (not counted, as a teacher
clicks through before the class looks), a class of 1 and then of N headless Chromium pages (one browser context
each: its own Streamlit session) does, all together, one action at a time:

* **open the app**: every page loads the Overview (a new session each time);
* **page switch**: every page clicks a link in the sidebar (Architecture, Complexity, ...);
* **sidebar change**: on Architecture, every page clicks another g in the sidebar;
* **Lecture step**: on the Lecture, every page presses Next.

Around each class-wide action the server process's CPU time (``utime + stime`` from
``/proc/PID/stat``, plus its children's, living or waited for) is read before the first click and
after the last page is quiet again (its change shown, nothing running or stale, every chart
drawn); the difference divided by the pages is that action's **server CPU per student**. Printed
per action: median and p95 of that (1 page beside N pages, the same run), and the wall time of
a class step, which is **the pages sharing this machine's cores** (Chromium draws every page on
the same CPUs as the server: not what a class on its own devices would see).

From the worst action's p95 at N pages: the students one server core holds at one action per
student every 10 s (10 s / CPU per action), and a queueing estimate for 30 students on 1 and
2 cores: a simulation of Poisson arrivals (30 students, one action each per 10 s: 3 per second)
served first-come first-served by c cores, with (a) every action costing that p95 (M/D/c) and
(b) costs drawn from all the measured per-student costs of every action (M/G/c); plus the
burst when all 30 press Next at the same moment. One ``streamlit run`` process runs its scripts
under one GIL, so c = 1 is the figure for one process; c = 2 needs two replicas (deploy/nginx.conf.template).
Goal (issue 20): 30 students on one 2-core server, CPU per action <= 50 ms p95 and <= 1 s queueing p95.

    .venv/bin/python benchmarks/capacity.py [--pages 10] [--repeats 5] [--settle 240] [--nginx]

``--nginx`` puts Debian's nginx in front, configured from ``deploy/nginx.conf.template`` (Streamlit's
static files cached): the server's CPU is then streamlit's and nginx's together.

Loopback only (server and browser on 127.0.0.1, Chromium's background networking off); every
wait is bounded. The machine may be shared: the load average at the start is printed; re-run
on a quiet machine for figures to quote.
"""

from __future__ import annotations

import argparse
import contextlib
import heapq
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.nginx import nginx_proxy  # noqa: E402
from tests.servers.streamlit import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
)

VIEWPORT = {"width": 1280, "height": 720}
ACTIONS = ("open the app", "page switch", "sidebar change", "Lecture step")
SWITCHES = ("Architecture", "Complexity", "Channel_shuffle", "Compare")  # page switch targets, in turn
GROUPS = (2, 3, 4, 8, 1)  # sidebar changes on Architecture, in turn (the app opens on g = 3)
ACTION_TIMEOUT_S = 180.0  # one class-wide action, every page quiet again
LOCATOR_TIMEOUT_S = 60.0  # a page's link or button to click appears
RUN_LIMIT_S = 1800.0  # the whole run: past it the next wait gives up (time.monotonic() deadline set by main)
deadline = float("inf")
QUIET_S = 0.4
POLL_S = 0.05
PERIOD_S = 10.0  # one action per student every 10 s
CLASS = 30  # the class
TARGET_CPU_MS, TARGET_WAIT_S = 50.0, 1.0
BUSY_JS = """() => {
  const why = [];
  for (const s of ['[data-testid="stStatusWidget"]', '[data-testid="stSkeleton"]', '[data-stale="true"]'])
    if (document.querySelector(s)) why.push(s);
  if ([...document.querySelectorAll('.js-plotly-plot')].some(p => !p.querySelector('.main-svg'))) why.push('plotly');
  if ([...document.querySelectorAll('[class*="st-key-diagram_"] img')].some(i => !i.complete)) why.push('diagram');
  if (!document.querySelector('h1')) why.push('no title');
  return why.join(', ');
}"""


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, not argparse's usage block
        raise UsageError(message)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=10, help="pages driven together in the class run (2-40)")
    parser.add_argument("--repeats", type=int, default=5, help="class-wide actions of each kind (2-20)")
    parser.add_argument("--settle", type=float, default=240.0, help="at most this many seconds for the warm-up")
    parser.add_argument(
        "--nginx",
        action="store_true",
        help="put Debian's nginx in front (deploy/nginx.conf.template: Streamlit's static files cached); "
        "its CPU counts as the server's",
    )
    args = parser.parse_args(argv)
    if not 2 <= args.pages <= 40:
        raise UsageError(f"--pages {args.pages}: from 2 to 40 (one page is always measured as the baseline)")
    if not 2 <= args.repeats <= 20:
        raise UsageError(f"--repeats {args.repeats}: from 2 to 20")
    if not 0 <= args.settle <= 1200:
        raise UsageError(f"--settle {args.settle:g}: from 0 to 1200 seconds")
    return args


# --- the server and its CPU time ------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()  # fields from the state on (the name may hold spaces)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError):
                if int(_stat(int(entry))[1]) == pid:
                    found.append(int(entry))
    return found


def cpu_seconds(pid: int | tuple[int, ...]) -> float:
    """utime + stime of ``pid`` (or of each of several), of its children it waited for (cutime + cstime), and of
    living descendants."""
    if isinstance(pid, tuple):
        return sum(cpu_seconds(one) for one in pid)
    ticks = os.sysconf("SC_CLK_TCK")
    fields = _stat(pid)
    total = sum(int(fields[i]) for i in (11, 12, 13, 14)) / ticks
    for child in _children(pid):
        with contextlib.suppress(OSError):
            total += cpu_seconds(child)
    return total


def wait_cpu_flat(
    pid: int | tuple[int, ...], limit_s: float, calm_s: int = 3, rate: float = 0.05
) -> tuple[float, float]:
    """Wait (at most ``limit_s``) until the server used under ``rate`` of a core for ``calm_s`` seconds in a row:
    its warm-up is over. Returns (seconds waited, the idle CPU rate in ms per second over the calm seconds)."""
    started, calm, calm_cpu = time.monotonic(), 0, 0.0
    last = cpu_seconds(pid)
    while time.monotonic() - started < limit_s and calm < calm_s:
        time.sleep(1.0)
        now = cpu_seconds(pid)
        calm, calm_cpu = (calm + 1, calm_cpu + now - last) if now - last < rate else (0, 0.0)
        last = now
    return time.monotonic() - started, 1000 * calm_cpu / max(calm, 1)


# --- the class ------------------------------------------------------------------------------------


@dataclass
class Samples:
    cpu_ms: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})  # per student
    wall_s: dict[str, list[float]] = field(default_factory=lambda: {a: [] for a in ACTIONS})  # per class step


def href(tab) -> str:
    return tab.evaluate("location.href")  # Streamlit's replaceState: page.url may lag behind


def wait_class_quiet(tabs, changed, timeout_s: float = ACTION_TIMEOUT_S) -> None:
    """Until every tab shows its change (``changed(tab)``) and has been quiet for QUIET_S."""
    until = min(time.monotonic() + timeout_s, deadline)
    quiet_since: dict[int, float | None] = {i: None for i in range(len(tabs))}
    done: set[int] = set()
    while len(done) < len(tabs):
        if time.monotonic() > until:
            raise TimeoutError(
                f"{len(tabs) - len(done)} of {len(tabs)} pages still busy after {timeout_s:.0f} s "
                f"(or the run's {RUN_LIMIT_S:.0f} s are over)"
            )
        for i, tab in enumerate(tabs):
            if i in done:
                continue
            busy = not changed(tab) or tab.evaluate(BUSY_JS)
            now = time.monotonic()
            if busy:
                quiet_since[i] = None
            elif quiet_since[i] is None:
                quiet_since[i] = now
            elif now - quiet_since[i] >= QUIET_S:
                done.add(i)
        time.sleep(POLL_S)


def class_action(samples: Samples, action: str, server_pid: int | tuple[int, ...], tabs, act, changed) -> None:
    """``act(tab)`` on every tab in turn, wait until all are quiet; record server CPU per tab and the wall time."""
    before, started = cpu_seconds(server_pid), time.monotonic()
    for tab in tabs:
        act(tab)
    wait_class_quiet(tabs, changed)
    wall, after = time.monotonic() - started, cpu_seconds(server_pid)
    samples.cpu_ms[action].append(1000 * (after - before) / len(tabs))
    samples.wall_s[action].append(wall)
    time.sleep(0.5)  # the teacher says a sentence


def sidebar_link(tab, path: str):
    return tab.locator(f'[data-testid="stSidebar"] a[data-testid="stPageLink-NavLink"][href="{path}"]').first


def on_path(path: str):
    """The change of a page switch: the address bar's path is ``path``."""
    return lambda tab: href(tab).split("?")[0].rstrip("/").endswith("/" + path)


def lecture_step(tab) -> int:
    query = dict(part.split("=", 1) for part in href(tab).split("?", 1)[-1].split("&") if "=" in part)
    return int(query.get("step", 1))


def groups_radio(tab, groups: int):
    radio = tab.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').nth(0)
    return radio.get_by_text(f"g = {groups}", exact=True)


def switch_all(tabs, path: str) -> None:
    for tab in tabs:
        sidebar_link(tab, path).click()
    wait_class_quiet(tabs, on_path(path))


def run_class(browser, url: str, server_pid: int | tuple[int, ...], pages: int, repeats: int) -> Samples:
    """``pages`` sessions do every action together, ``repeats`` times each (fewer Lecture steps if it ends)."""
    samples = Samples()
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(pages)]
    try:
        tabs = [context.new_page() for context in contexts]
        for tab in tabs:
            tab.set_default_timeout(LOCATOR_TIMEOUT_S * 1000)

        def overview(tab) -> bool:
            return href(tab).split("?")[0].rstrip("/") == url

        for _ in range(repeats):
            class_action(
                samples,
                "open the app",
                server_pid,
                tabs,
                lambda tab: tab.goto(url + "/", wait_until="commit"),
                overview,
            )
        for i in range(repeats):
            target = SWITCHES[i % len(SWITCHES)]
            class_action(
                samples,
                "page switch",
                server_pid,
                tabs,
                lambda tab, t=target: sidebar_link(tab, t).click(),
                on_path(target),
            )
        if not on_path("Architecture")(tabs[0]):
            switch_all(tabs, "Architecture")
        for i in range(repeats):
            groups = GROUPS[i % len(GROUPS)]
            class_action(
                samples,
                "sidebar change",
                server_pid,
                tabs,
                lambda tab, g=groups: groups_radio(tab, g).click(),
                lambda tab, g=groups: f"groups={g}" in href(tab),
            )
        switch_all(tabs, "Lecture")
        for _ in range(repeats):
            button = tabs[0].locator(".st-key-lecture_next button")
            if button.count() == 0 or button.is_disabled():
                break  # the last step
            targets = {id(tab): lecture_step(tab) + 1 for tab in tabs}
            class_action(
                samples,
                "Lecture step",
                server_pid,
                tabs,
                lambda tab: tab.locator(".st-key-lecture_next button").click(),
                lambda tab, targets=targets: lecture_step(tab) == targets[id(tab)],
            )
    finally:
        for context in contexts:
            context.close()
    return samples


# --- the figures ----------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * (len(ordered) - 1))))]


def simulate_waits(students: int, cores: int, service_s, seed: int = 20, actions: int = 60_000) -> list[float]:
    """Queueing delays (s) of Poisson arrivals (``students`` / PERIOD_S per s), FCFS on ``cores``; service_s(rng)."""
    rng = random.Random(seed)
    free_at = [0.0] * cores
    now, waits = 0.0, []
    for _ in range(actions):
        now += rng.expovariate(students / PERIOD_S)
        start = max(now, heapq.heappop(free_at))
        waits.append(start - now)
        heapq.heappush(free_at, start + service_s(rng))
    return waits[actions // 10 :]  # the queue's start-up left out


def report(single: Samples, many: Samples, pages: int) -> bool:
    def cell(values: list[float], scale: float = 1, fmt: str = "{:7.0f}") -> str:
        if not values:
            return f"{'-':>7} {'-':>7}"
        return fmt.format(statistics.median(values) * scale) + " " + fmt.format(p95(values) * scale)

    print(f"\n{'':16} {'server CPU ms per student':^33}   wall s per class step")
    print(f"{'':16} {'1 page':>15}   {f'{pages} pages':>15}   (pages sharing this machine's cores)")
    print(
        f"{'action':16} {'p50':>7} {'p95':>7}   {'p50':>7} {'p95':>7}   {'1 page p50':>11} {f'{pages} pages p50':>12}"
        f" {'p95':>7}   n"
    )
    for action in ACTIONS:
        wall = "{:7.2f}"
        print(
            f"{action:16} {cell(single.cpu_ms[action])}   {cell(many.cpu_ms[action])}   "
            f"{statistics.median(single.wall_s[action]) if single.wall_s[action] else float('nan'):11.2f} "
            f"{cell(many.wall_s[action], fmt=wall).replace(' ', '     ', 1)}   "
            f"{len(single.cpu_ms[action])}/{len(many.cpu_ms[action])}"
        )
    measured = {a: v for a, v in many.cpu_ms.items() if v}
    worst = max(measured, key=lambda a: p95(measured[a]))
    worst_ms = max(p95(measured[worst]), 1.0)
    per_core = PERIOD_S * 1000 / worst_ms
    print(f"\nworst action at {pages} pages: {worst}, p95 {worst_ms:.0f} ms of server CPU per student")
    print(
        f"one server core holds {per_core:.0f} students at one such action per student every {PERIOD_S:g} s "
        f"(10 s / {worst_ms:.0f} ms, the core 100% busy; {0.7 * per_core:.0f} at 70%)"
    )
    pooled = [v / 1000 for values in measured.values() for v in values]
    print(
        f"queueing at {CLASS} students, one action each per {PERIOD_S:g} s (Poisson arrivals, {CLASS / PERIOD_S:g}/s,"
        " first come first served; simulated):"
    )
    queue_p95 = {}
    for cores in (1, 2):
        if CLASS / PERIOD_S * worst_ms / 1000 / cores >= 1:
            queue_p95[cores] = float("inf")
            md = mg = "unbounded (the cores would be over 100% busy)"
        else:
            d = simulate_waits(CLASS, cores, lambda rng: worst_ms / 1000)
            g = simulate_waits(CLASS, cores, lambda rng: rng.choice(pooled))
            queue_p95[cores] = p95(d)
            md = f"p95 {p95(d):.3f} s (mean {statistics.mean(d):.3f})"
            mg = f"p95 {p95(g):.3f} s (mean {statistics.mean(g):.3f})"
        print(
            f"  {cores} core{'s' if cores > 1 else ' '}: M/D/{cores}, every action {worst_ms:.0f} ms: {md}; "
            f"M/G/{cores}, costs drawn from every measured action: {mg}"
        )
    print(
        f"  all {CLASS} act at the same moment ({worst_ms:.0f} ms each): the last is served after "
        f"{CLASS * worst_ms / 1000:.2f} s on 1 core, {CLASS * worst_ms / 2000:.2f} s on 2"
    )
    met = worst_ms <= TARGET_CPU_MS and queue_p95[2] <= TARGET_WAIT_S
    print(
        f"goal (issue 20): {CLASS} students on one 2-core server, <= {TARGET_CPU_MS:g} ms p95 per action and "
        f"<= {TARGET_WAIT_S:g} s queueing p95 (M/D/2): {'met' if met else 'MISSED'}"
    )
    return met


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
    except UsageError as error:
        print(f"capacity.py: {error}", file=sys.stderr)
        return 2
    if not Path(CHROMIUM).exists():
        print(
            f"capacity.py: no Chromium at {CHROMIUM} (scripts/install-system-deps.sh installs Debian's)",
            file=sys.stderr,
        )
        return 2
    from playwright.sync_api import sync_playwright

    global deadline
    deadline = time.monotonic() + RUN_LIMIT_S
    load = os.getloadavg()
    print(
        f"capacity: {os.cpu_count()} cores, load average at the start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"(other work on these cores counts in every wall time, not in the server's CPU)",
        flush=True,
    )
    scratch = Path(tempfile.mkdtemp(prefix="explorer-capacity-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port, scratch / "server.log", {"EXPLORER_DATA_DIR": str(scratch / "data")})
    try:
        wait_healthy(url, server)
        with contextlib.ExitStack() as stack, sync_playwright() as playwright:
            serving = server.pid
            if args.nginx:
                proxy = stack.enter_context(nginx_proxy([f"127.0.0.1:{port}"]))
                url, serving = proxy.url, (server.pid, int((proxy.root / "nginx.pid").read_text()))
                print(f"through nginx at {url}: the server's CPU is streamlit's and nginx's together", flush=True)
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                tab = browser.new_page(viewport=VIEWPORT)  # the server's first page: imports, caches; not counted
                tab.goto(url + "/", wait_until="commit")
                wait_class_quiet([tab], lambda _: True)
                tab.close()
                waited, idle = wait_cpu_flat(serving, args.settle)
                print(
                    f"server warm-up ({os.environ.get('EXPLORER_WARMUP', 'default')}): CPU flat after {waited:.0f} s; "
                    f"idle CPU {idle:.1f} ms/s (counted in every action)",
                    flush=True,
                )
                # A teacher clicks through once before the class looks: every page and step the class will see
                # is drawn once (its caches filled), so neither the 1-page nor the N-page figures pay first draws.
                run_class(browser, url, serving, 1, args.repeats)
                print("warm pass (1 page through every action, not counted) done", flush=True)
                single = run_class(browser, url, serving, 1, args.repeats)
                print("1 page done", flush=True)
                many = run_class(browser, url, serving, args.pages, args.repeats)
            finally:
                browser.close()
    except Exception as error:  # noqa: BLE001 (a timeout, a page that never showed its change, a server that died: one line)
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        print(f"capacity.py: {type(error).__name__}: {first} (server log: {scratch / 'server.log'})", file=sys.stderr)
        stop_server(server)
        return 1
    stop_server(server)
    shutil.rmtree(scratch, ignore_errors=True)
    report(single, many, args.pages)
    print(
        f"Chromium headless {VIEWPORT['width']}x{VIEWPORT['height']}, every page on this machine; {args.repeats} "
        "class-wide actions of each kind (fewer Lecture steps if the lecture ends); one streamlit run process on "
        f"127.0.0.1{' behind nginx (its CPU counted in)' if args.nginx else ''}; CPU read in 1/{os.sysconf('SC_CLK_TCK')} s ticks, divided by the pages."
    )
    return 0


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("capacity_nginx" if "--nginx" in sys.argv else "capacity", main))
