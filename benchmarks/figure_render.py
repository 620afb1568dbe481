"""Benchmark: the browser's own work to draw each Lecture step and the Channel shuffle page (one Chromium).

For issue 20's light pages: what a weak device pays per step is the browser's main-thread time, not the
wall time on this shared machine. Chromium's DevTools ``Performance.getMetrics`` gives the renderer's
``TaskDuration`` (all main-thread tasks: script, style, layout, paint) and ``ScriptDuration``; this reads
them before a click and once the page is quiet again, and prints the median per step over ``--rounds``
visits (Next from step 1 to 8, then back to step 1 by its button: each figure drawn anew). The Channel shuffle row is a
first load in a new browser context. ``--throttle 4`` slows the page's CPU down 4x (DevTools' emulation of a weak
device). Compare two versions of the app by running this on each.

    .venv/bin/python benchmarks/figure_render.py [--rounds 5] [--query "groups=8&width=0.5"] [--throttle 4]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # conftest imports tests.servers
sys.path.insert(0, str(ROOT / "benchmarks"))

from classroom_speed import VIEWPORT, href, wait_quiet  # noqa: E402
from conftest import (  # noqa: E402
    CHROMIUM,
    CHROMIUM_ARGS,
    served_app,
)

STEPS = range(1, 9)
THROTTLE = 1.0  # Chromium's CPU slow-down (DevTools' "4x slowdown" for a weak laptop or phone): --throttle


def metrics(session) -> dict[str, float]:
    return {m["name"]: m["value"] for m in session.send("Performance.getMetrics")["metrics"]}


def step_costs(browser, url: str, query: str, rounds: int) -> dict[int, list[tuple[float, float]]]:
    """(task seconds, script seconds) of the renderer per visit of each Lecture step."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    session = context.new_cdp_session(tab)
    session.send("Performance.enable")
    session.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    costs: dict[int, list[tuple[float, float]]] = {}
    try:
        tab.goto(f"{url}/Lecture?step=1&{query}", timeout=120_000)
        wait_quiet(tab, time.monotonic(), lambda: "step=1" in href(tab))
        for _ in range(rounds):
            for step in STEPS[1:]:  # Next from step 1 to 8: each step's figure drawn anew
                before = metrics(session)
                tab.locator(".st-key-lecture_next button").click()
                pattern = re.compile(rf"[?&]step={step}(&|$)")
                title = "t => document.querySelector('h1')?.textContent.startsWith(t)"
                wait_quiet(
                    tab, time.monotonic(), lambda: bool(pattern.search(href(tab))) and tab.evaluate(title, f"{step} ·")
                )
                after = metrics(session)
                costs.setdefault(step, []).append(
                    (after["TaskDuration"] - before["TaskDuration"], after["ScriptDuration"] - before["ScriptDuration"])
                )
            tab.locator(".st-key-lecture_jump").get_by_text("1", exact=True).click()
            wait_quiet(tab, time.monotonic(), lambda: "step=1&" in href(tab) or href(tab).endswith("step=1"))
        return costs
    except TimeoutError:
        tab.screenshot(path=str(ROOT / "test-artifacts" / "figure-render-timeout.png"))
        raise
    finally:
        context.close()


def first_load_cost(browser, url: str, page: str) -> tuple[float, float]:
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    session = context.new_cdp_session(tab)
    session.send("Performance.enable")
    session.send("Emulation.setCPUThrottlingRate", {"rate": THROTTLE})
    try:
        tab.goto(f"{url}/{page}", timeout=120_000)
        wait_quiet(tab, time.monotonic(), lambda: True)
        done = metrics(session)
        return done["TaskDuration"], done["ScriptDuration"]
    finally:
        context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--loads", type=int, default=3)
    parser.add_argument("--query", default="groups=8&width=0.5")
    parser.add_argument("--throttle", type=float, default=1.0, help="CPU slow-down of the page (4: a weak device)")
    args = parser.parse_args()
    global THROTTLE
    THROTTLE = args.throttle
    from playwright.sync_api import sync_playwright

    print(
        "machine load (1, 5, 15 min): "
        + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        + f"; page CPU throttled {args.throttle:g}x",
        flush=True,
    )
    with (
        served_app(ROOT / "test-artifacts" / "figure-render-server.log") as (url, _),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            first_load_cost(browser, url, "Channel_shuffle")  # the server's caches: not counted
            print(f"{'renderer main thread, median':32} {'task':>8} {'script':>8}  n", flush=True)
            loads = [first_load_cost(browser, url, "Channel_shuffle") for _ in range(args.loads)]
            print(
                f"{'Channel shuffle, first load':32} {statistics.median(t for t, _ in loads):7.3f}s "
                f"{statistics.median(s for _, s in loads):7.3f}s  {len(loads)}",
                flush=True,
            )
            for step, values in step_costs(browser, url, args.query, args.rounds).items():
                print(
                    f"{f'Lecture step {step} ({args.query})':32} {statistics.median(t for t, _ in values):7.3f}s "
                    f"{statistics.median(s for _, s in values):7.3f}s  {len(values)}",
                    flush=True,
                )
        finally:
            browser.close()
    print("machine load (1, 5, 15 min): " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))
    return 0


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("figure_render", main))
