"""Benchmark: resident memory of the app process over 300 distinct configs.

Each config is opened as a new browser session would open a shared link: a fresh
``AppTest`` of the whole app with the config in the URL query parameters, on one of the
six pages in turn (Overview, Architecture, Complexity, Channel shuffle, Latency,
Compare). The pages go through the app's real caches: ``explorer.count_model``'s lru_cache,
``ui/shell/cache.py``'s ``st.cache_data`` / ``st.cache_resource``, ``ui/mixing/measured.py``'s and
``ui/figures/mixing.py``'s. The 300 configs are every combination of g (1, 2, 3, 4, 8), width
(0.25, 0.5, 0.75, 1, 1.25), variant (standard, arch2, shallow), shuffle (on, off) and input
(224x224, 160x160), in a fixed shuffled order.

After 0, 50, 100, ..., 300 configs it prints the resident set size (``VmRSS`` in
/proc/self/status), the peak so far (``VmHWM``) and how many entries each cache holds.
Before each reading it runs ``gc.collect()`` and glibc's ``malloc_trim(0)`` (through
ctypes): without them the reading includes freed memory that the allocator has not yet
handed back to the kernel, which grows and shrinks with the last page run rather than
with what the process keeps. Both readings are printed (before and after the trim).

    .venv/bin/python benchmarks/memory.py [--configs 300] [--every 50] 2>/dev/null

(stderr only carries Streamlit's "missing ScriptRunContext" notes of bare-mode AppTest.)
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import itertools
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The warm-up's paper configs (ui/shell/warmup.py) would blur the per-config growth.
os.environ.setdefault("EXPLORER_WARMUP", "0")

from streamlit.runtime.caching import cache_data_api
from streamlit.runtime.caching.cache_metrics import get_cache_metrics
from streamlit.testing.v1 import AppTest

from explorer import ShuffleNetConfig, count_model
from explorer.concurrency import FOREGROUND
from ui.shell.controls import query_values

ENTRY = "streamlit_app.py"
PAGES = (
    ENTRY,
    "pages/1_Architecture.py",
    "pages/2_Complexity.py",
    "pages/3_Channel_shuffle.py",
    "pages/4_Latency.py",
    "pages/5_Compare.py",
)
TIMEOUT = 300
MB = 2**20


def distinct_configs(count: int) -> list[ShuffleNetConfig]:
    grid = [
        ShuffleNetConfig(groups=g, width=w, variant=v, shuffle=s, input_size=size)
        for g, w, v, s, size in itertools.product(
            (1, 2, 3, 4, 8),
            (0.25, 0.5, 0.75, 1.0, 1.25),
            ("standard", "arch2", "shallow"),
            (True, False),
            ((224, 224), (160, 160)),
        )
    ]
    random.Random(0).shuffle(grid)
    if count > len(grid):
        raise ValueError(f"configs={count} is not allowed: at most {len(grid)} distinct ones are defined")
    return grid[:count]


def open_config(page: str, config: ShuffleNetConfig) -> None:
    """One new session opening ``page`` from a link to ``config``; fails on any exception on the page."""
    at = AppTest.from_file(str(ROOT / ENTRY), default_timeout=TIMEOUT)
    for key, value in query_values(config).items():
        at.query_params[key] = value
    if page != ENTRY:
        at.switch_page(page)
    at.run()
    if at.exception:
        raise RuntimeError(f"{page} with {config.label}: {[e.value for e in at.exception]}")
    size = f"input {config.input_size[0]}×{config.input_size[1]}"
    if not any(config.label in c.value and size in c.value for c in at.sidebar.caption):
        raise RuntimeError(f"{page}: the sidebar does not show {config.label}, {size}")


def status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024 / MB
    raise RuntimeError(f"no {field} in /proc/self/status")


def trim() -> None:
    """Collect garbage and ask glibc to return freed heap pages to the kernel."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: the reading then includes the allocator's free lists
        pass


def cache_entries() -> dict[str, int]:
    """Entries of every Streamlit cache (stored minus evicted, from Streamlit's metrics) and the lru."""
    stats = get_cache_metrics().get_stats(["cache_lookups", "cache_evictions"])
    entries: dict[str, int] = {}
    for stat in stats.get("cache_lookups", []):
        if stat.labels["result"] == "miss":
            name = stat.labels["cache"].rsplit(".", 1)[-1]
            entries[name] = entries.get(name, 0) + stat.value
    for stat in stats.get("cache_evictions", []):
        name = stat.labels["cache"].rsplit(".", 1)[-1]
        entries[name] = entries.get(name, 0) - stat.value
    entries["explorer.count_model"] = count_model.cache_info().currsize
    return entries


def cache_data_mb() -> float:
    """Serialized size of every st.cache_data entry (Streamlit's own cache_memory_bytes stats)."""
    stats = cache_data_api.get_data_cache_stats_provider().get_stats()
    return sum(s.byte_length for family in stats.values() for s in family) / MB


def reading(done: int, started: float) -> dict:
    before = status_mb("VmRSS")
    trim()
    return {
        "configs": done,
        "rss_mb": status_mb("VmRSS"),
        "rss_before_trim_mb": before,
        "peak_mb": status_mb("VmHWM"),
        "cache_data_mb": cache_data_mb(),
        "seconds": time.perf_counter() - started,
        "entries": cache_entries(),
        "foreground_threads": FOREGROUND.tracked_threads(),
    }


def show(r: dict) -> None:
    print(
        f"{r['configs']:>7} {r['rss_mb']:>8.0f} {r['rss_before_trim_mb']:>11.0f} {r['peak_mb']:>8.0f} "
        f"{r['cache_data_mb']:>13.1f} {r['seconds']:>8.0f}  "
        + ", ".join(f"{k} {v}" for k, v in sorted(r["entries"].items()))
        + f"; foreground threads {r['foreground_threads']}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", type=int, default=300, help="distinct configs to open (at most 300)")
    parser.add_argument("--every", type=int, default=50, help="print a reading after this many configs")
    args = parser.parse_args()
    configs = distinct_configs(args.configs)

    started = time.perf_counter()
    for page in PAGES:  # imports, torch start-up, one run of every page: the baseline
        open_config(page, ShuffleNetConfig())
    readings = [reading(0, started)]
    print(
        f"{'configs':>7} {'RSS MB':>8} {'(untrimmed)':>11} {'peak MB':>8} {'cache_data MB':>13} {'seconds':>8}  "
        "cache entries"
    )
    show(readings[0])
    for index, config in enumerate(configs, start=1):
        open_config(PAGES[index % len(PAGES)], config)
        if index % args.every == 0 or index == len(configs):
            readings.append(reading(index, started))
            show(readings[-1])
    by_count = {r["configs"]: r for r in readings}
    baseline = readings[0]["rss_mb"]
    print(f"baseline (imports and one run of every page): {baseline:.0f} MB")
    print(
        f"after {readings[-1]['configs']} configs: {readings[-1]['rss_mb']:.0f} MB "
        f"({readings[-1]['rss_mb'] - baseline:+.0f} MB), peak {readings[-1]['peak_mb']:.0f} MB"
    )
    for start in (100, 200):
        if start in by_count and readings[-1]["configs"] > start:
            growth = readings[-1]["rss_mb"] - by_count[start]["rss_mb"]
            print(
                f"growth from config {start} to {readings[-1]['configs']}: {growth:+.0f} MB "
                f"({growth / (readings[-1]['configs'] - start) * 1024:+.0f} KB per config)"
            )
    return 0


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("memory", main))
