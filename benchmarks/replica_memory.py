"""Benchmark: resident memory of one replica of a department deployment, after opening each page.

Starts a throw-away PostgreSQL cluster (tests/servers/postgres.py) and N ``streamlit run``
replicas behind nginx (tests/servers/nginx.py, deploy/nginx.conf.template) sharing it through
EXPLORER_DATABASE_URL, then opens every page in turn in one Chromium page pinned to the first
replica, and prints that replica's resident set size (``VmRSS``, /proc/PID/status) and peak
(``VmHWM``) after each page has finished drawing.

    .venv/bin/python benchmarks/replica_memory.py [--replicas 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from conftest import CHROMIUM, CHROMIUM_ARGS, wait_idle  # noqa: E402

from tests.servers.nginx import COOKIE, start_replicas  # noqa: E402
from tests.servers.postgres import postgres_cluster  # noqa: E402

PAGES = ("", "Lecture", "Architecture", "Complexity", "Channel_shuffle", "Latency", "Compare")


def replica_pid(port: int) -> int:
    """The ``streamlit run`` process serving ``port`` (by its command line)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                words = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"streamlit" in b" ".join(words) and str(port).encode() in words:
                return int(entry.name)
    raise LookupError(f"no streamlit process on port {port}")


def memory_mb(pid: int) -> tuple[float, float]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with postgres_cluster() as pg, tempfile.TemporaryDirectory() as data:
        env = {"EXPLORER_DATABASE_URL": pg.url, "EXPLORER_DATA_DIR": data}
        with start_replicas(args.replicas, env) as (proxy, replicas), sync_playwright() as playwright:
            address = replicas[0].removeprefix("http://")
            pid = replica_pid(int(address.rsplit(":", 1)[1]))
            print(
                f"{args.replicas} replicas behind nginx, PostgreSQL {pg.host}:{pg.port}; measuring replica "
                f"{address} (pid {pid}); measured here, {os.cpu_count()} cores"
            )
            print(f"{'after':<22}{'RSS MB':>8}{'peak MB':>9}")
            print(f"{'healthy, no page yet':<22}{memory_mb(pid)[0]:>8.0f}{memory_mb(pid)[1]:>9.0f}")
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.set_default_timeout(300_000)
            context.add_cookies([{"name": COOKIE, "value": address, "url": proxy.url}])
            tab = context.new_page()
            for page in PAGES:
                tab.goto(f"{proxy.url}/{page}")
                wait_idle(tab, 300)
                rss, peak = memory_mb(pid)
                print(f"{page or 'Overview':<22}{rss:>8.0f}{peak:>9.0f}")
            browser.close()


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("replica_memory", main))
