"""A department: two ``streamlit run`` replicas behind nginx sharing one PostgreSQL database (load tier).

A result measured by the CLI in one process (``bench`` with the same EXPLORER_DATABASE_URL) appears on
BOTH replicas' Latency pages (each page pinned to its replica by nginx's cookie, checked by X-Replica)
and in ``results`` from a third process; a device result kept under a class key shows in that class's
view only, on either replica.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import DATAFRAME, ROOT, RUN_TIMEOUT_S, assert_no_exception, table_rows, wait_idle
from store_backends import fresh_database

from explorer.store import ClassRow, open_class_view
from tests.servers.nginx import COOKIE, REPLICA_HEADER, start_replicas

pytestmark = [pytest.mark.load, pytest.mark.browser, pytest.mark.slow]
CLASS_COLUMN = "Device (reported by the browser)"


def explorer(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "explorer", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900
    )


def class_devices(tab) -> list[str] | None:
    """The class view's devices on the page, [] when it says no browser reported, None while not drawn yet."""
    if tab.get_by_text("No visitor's browser has reported a result to this server yet.").count():
        return []
    for index in range(tab.locator(DATAFRAME).count()):
        header, *rows = table_rows(tab, index) or [[]]
        if CLASS_COLUMN in header:
            return [dict(zip(header, row))[CLASS_COLUMN] for row in rows]
    return None


def open_pinned(browser, proxy, replica: str, query: str):
    """A page of the Latency page through nginx, pinned to ``replica`` by nginx's cookie; checks where it landed."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(RUN_TIMEOUT_S * 1000)
    address = replica.removeprefix("http://")
    context.add_cookies([{"name": COOKIE, "value": address, "url": proxy.url}])
    tab = context.new_page()
    response = tab.goto(f"{proxy.url}/Latency{query}")
    assert response.headers.get(REPLICA_HEADER.lower()) == address
    wait_idle(tab)
    return context, tab


def wait_for(check, what: str, timeout: float = RUN_TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(1)
    raise TimeoutError(what)


def test_two_replicas_share_results_and_keep_classes_apart(pg_cluster, browser, tmp_path):
    url = fresh_database(pg_cluster)
    env = {**os.environ, "EXPLORER_DATABASE_URL": url, "EXPLORER_DATA_DIR": str(tmp_path)}
    seeded = explorer(env, "bench", "--groups", "3", "--width", "0.25", "--backends", "ort", "--min-time", "0.05")
    assert seeded.returncode == 0, seeded.stderr
    open_class_view(url, "algo-101").add(
        ClassRow("Course phone (class algo-101)", "ShuffleNet 0.25x (g=3)", "224x224", 9.5, time.time())
    )
    replica_env = {"EXPLORER_DATABASE_URL": url, "EXPLORER_DATA_DIR": str(tmp_path)}
    with start_replicas(2, replica_env, log_dir=tmp_path / "logs") as (proxy, replicas):
        for replica in replicas:
            for query, devices in (("?class=algo-101", ["Course phone (class algo-101)"]), ("?class=other", [])):
                context, tab = open_pinned(browser, proxy, replica, query)
                try:
                    wait_for(
                        lambda: tab.get_by_text("Download the stored results (CSV, 1 rows)").count(),
                        f"the CLI's result on {replica}",
                    )
                    assert tab.get_by_text("shared by every server that is given it").count()
                    assert wait_for(
                        lambda: class_devices(tab) is not None and [class_devices(tab)], f"class view on {replica}"
                    ) == [devices]
                    assert_no_exception(tab)
                finally:
                    context.close()
    listed = explorer({**os.environ, "EXPLORER_DATABASE_URL": url}, "results")  # a third process
    assert listed.returncode == 0 and "1 stored results in postgresql+psycopg://" in listed.stdout
    assert "ShuffleNet 0.25x (g=3)" in listed.stdout and pg_cluster.password not in listed.stdout
