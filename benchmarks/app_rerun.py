"""Benchmark: how long a page rerun takes after one sidebar control changes.

Runs each page in Streamlit's AppTest (the same script runner as the server, without the
browser) and times ``at.run()`` after changing one control:

* **cold**: the width is set to a value no earlier run used, so the model is built,
  traced and counted from scratch (nothing cached for it, in Streamlit or the library);
* **warm**: the groups radio flips between two models that were both shown before, so
  every model, table and figure comes from the caches.

Models are 224x224. Medians (and min/max) over several runs per page are printed. The
first run of the process (imports, torch start-up) is done before timing and not counted.

    .venv/bin/python benchmarks/app_rerun.py [--runs 5] [--pages pages/1_Architecture.py ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

os.environ.setdefault(
    "EXPLORER_WARMUP", "0"
)  # a background warm-up (ui/shell/warmup.py) would compete with the timed runs

from streamlit.testing.v1 import AppTest  # noqa: E402

ENTRY = "streamlit_app.py"
TIMEOUT = 300


def default_pages() -> list[str]:
    return [ENTRY, *sorted(f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py"))]


def open_page(page: str, width: str) -> AppTest:
    at = AppTest.from_file(str(ROOT / ENTRY), default_timeout=TIMEOUT)
    at.query_params["width"] = width  # a custom width: the sidebar shows its number input
    if page != ENTRY:
        at.switch_page(page)
    at.run()
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    return at


def timed_run(at: AppTest) -> float:
    start = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - start
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])
    return elapsed


def measure(page: str, page_index: int, runs: int) -> tuple[list[float], list[float]]:
    # Widths unique to this page and run, so a "cold" model was never built before.
    widths = [round(0.61 + 0.01 * (page_index * (runs + 2) + i), 2) for i in range(runs + 2)]
    at = open_page(page, str(widths[0]))
    cold = []
    for width in widths[1 : runs + 1]:
        at.sidebar.number_input(key="ctl_width_custom").set_value(width)
        cold.append(timed_run(at))
    # Warm: two models already seen (g = 3 and g = 8 at the last width), flipped back and forth.
    at.sidebar.radio[0].set_value(8)
    at.run()
    at.sidebar.radio[0].set_value(3)
    at.run()
    warm = []
    for i in range(runs + 2):
        at.sidebar.radio[0].set_value(8 if i % 2 == 0 else 3)
        warm.append(timed_run(at))
    return cold, warm


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold runs per page (warm: runs + 2)")
    parser.add_argument("--pages", nargs="*", default=None, help="page files (default: every page)")
    args = parser.parse_args()
    pages = args.pages or default_pages()

    start = time.perf_counter()
    open_page(ENTRY, "0.6")  # imports, torch start-up: not part of any rerun
    print(f"first run of the process (imports, start-up; not counted): {time.perf_counter() - start:.2f} s")
    print(f"{'page':32} {'cold median':>12} {'cold min-max':>15} {'warm median':>12} {'warm min-max':>15}")
    for index, page in enumerate(pages):
        cold, warm = measure(page, index, args.runs)
        print(
            f"{page:32} {statistics.median(cold):>10.3f} s {min(cold):>6.2f}-{max(cold):<6.2f} s "
            f"{statistics.median(warm):>10.3f} s {min(warm):>6.2f}-{max(warm):<6.2f} s",
            flush=True,
        )
    print(f"cold: {args.runs} runs, each a new 224x224 model; warm: {args.runs + 2} runs between two cached models.")
    return 0


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("app_rerun", main))
