"""The cache warm-up (``ui/shell/warmup.py``): once per process, the paper's configs, within the caches' bounds;
a process exits cleanly while it runs."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import (
    ARTIFACTS,
    ROOT,
    RUN_TIMEOUT_S,
    browser_tab,
    free_port,
    start_server,
    stop_server,
    wait_healthy,
    wait_idle,
)
from test_cache_bounds import cache_counters

from explorer import PAPER_GROUPS, ShuffleNetConfig
from explorer.latency import Measurement
from explorer.latency.timing import summarize
from ui.latency.jobs import result_store
from ui.mixing.measured import MEASURE_ENTRIES, cached_stage_mixing
from ui.shell import warmup
from ui.shell.cache import COUNTS_ENTRIES, cached_counts


def test_the_configs_a_class_meets_first():
    configs = warmup.warm_configs()
    assert len(configs) == len(set(configs)) == 2 * len(PAPER_GROUPS)
    assert configs[0].groups == 3 and configs[0].width == 1.0  # the sidebar's default first
    assert {(c.groups, c.width) for c in configs} == {(g, w) for g in PAPER_GROUPS for w in (0.5, 1.0)}
    assert all(c.input_size == (224, 224) and c.variant == "standard" and c.shuffle for c in configs)
    assert len(configs) <= COUNTS_ENTRIES and 2 * len(configs) <= MEASURE_ENTRIES  # it fits the bounds


def test_turned_off_by_the_environment(monkeypatch):
    monkeypatch.setenv("EXPLORER_WARMUP", "0")
    monkeypatch.setattr(warmup, "_thread", None)
    assert warmup.start() is None


@pytest.mark.slow
def test_warm_up_fills_the_caches_once(monkeypatch):
    """The real thread, run to its end: afterwards every paper config is a cache hit, on both caches, and the
    stored results are decoded."""
    monkeypatch.setenv("EXPLORER_WARMUP", "1")
    monkeypatch.setattr(warmup, "_thread", None)
    cached_counts.clear()
    cached_stage_mixing.clear()
    result_store.clear()  # a new store object, as after a server restart: nothing decoded yet
    store = result_store()
    store.put(Measurement(ShuffleNetConfig(groups=3), "ort", 2, 1, summarize([1.0, 1.1, 1.2]), 1, 1, 1e11))
    assert store.decoded == 0
    thread = warmup.start()
    assert warmup.start() is thread  # once per process
    thread.join(timeout=600)
    assert not thread.is_alive()
    assert result_store() is store and store.decoded >= 1  # the stored results were decoded ahead of any page
    profile_misses, mixing_misses = cache_counters(cached_counts)[0], cache_counters(cached_stage_mixing)[0]
    for config in warmup.warm_configs():
        cached_counts(config)
        cached_stage_mixing(config, warmup.WARM_STAGE)
        cached_stage_mixing(config.with_(shuffle=False), warmup.WARM_STAGE)
    assert cache_counters(cached_counts)[0] == profile_misses  # no new miss: all warm
    assert cache_counters(cached_stage_mixing)[0] == mixing_misses


# --------------------------------------------------------------------------- clean exit

# A page through AppTest with the warm-up on; the process ends while the warm-up is inside torch.
APPTEST_THEN_EXIT = textwrap.dedent("""
    import sys
    from streamlit.testing.v1 import AppTest
    from ui.shell import warmup

    at = AppTest.from_file(sys.argv[1], default_timeout=240)
    at.switch_page("pages/1_Architecture.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    thread = warmup.start()  # the page started it: the same thread
    thread.join(1.0)  # let it get inside its first trace
    print("warm-up running at exit:", thread.is_alive(), flush=True)
""")


def test_a_process_that_ran_a_page_with_the_warm_up_on_exits_cleanly(tmp_path):
    """Before the stop flag the interpreter tore down under the running thread: status 134, "terminate called"."""
    env = {**os.environ, "EXPLORER_WARMUP": "1", "EXPLORER_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run(
        [sys.executable, "-c", APPTEST_THEN_EXIT, str(ROOT / "streamlit_app.py")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "terminate called" not in result.stderr
    assert "warm-up running at exit: True" in result.stdout  # the exit did happen during the warm-up


@pytest.mark.browser
@pytest.mark.slow
def test_ctrl_c_stops_the_server_cleanly_while_the_warm_up_runs(browser):
    """``streamlit run`` with the warm-up on (the default), one page opened, then SIGINT as Ctrl-C sends it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = ARTIFACTS / "ctrl-c-server.log"
    process = start_server(port, log_path)
    try:
        wait_healthy(url, process, timeout=90)
        with browser_tab(browser, {"width": 1400, "height": 1000}) as tab:
            tab.goto(url, timeout=RUN_TIMEOUT_S * 1000)  # the first page run starts the warm-up...
            wait_idle(tab)  # ...which works once the page run is over (it waits for page runs)
            os.kill(process.pid, signal.SIGINT)
            status = process.wait(timeout=180)
    finally:
        stop_server(process)  # (already stopped unless something above failed)
    output = log_path.read_text()
    assert status == 0, output[-2000:]
    assert "terminate called" not in output
