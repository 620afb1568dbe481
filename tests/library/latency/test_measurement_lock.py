"""The measurement lock across processes on one host: replicas sharing a data directory never time at once."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import ROOT

from explorer.concurrency import MEASUREMENT_LOCK, measurement_running
from explorer.latency.timing import LOCK_FILE_NAME

TIMER = """
import json, sys, time
from explorer.latency.timing import measurement_lock
print("ready", flush=True)
sys.stdin.readline()  # start together
spans = []
for _ in range(4):
    with measurement_lock():
        start = time.time()
        time.sleep(0.25)  # stands for a timed block
        spans.append((start, time.time()))
print(json.dumps(spans), flush=True)
"""

HOLDER = """
import sys, time
from explorer.concurrency import MEASUREMENT_LOCK
import explorer.latency.timing  # sets the lock file
with MEASUREMENT_LOCK:
    print("held", flush=True)
    sys.stdin.readline()
"""


def spawn(code: str, data_dir) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        text=True,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env={**os.environ, "EXPLORER_DATA_DIR": str(data_dir)},
    )


def test_two_processes_never_hold_the_measurement_lock_at_once(tmp_path):
    timers = [spawn(TIMER, tmp_path) for _ in range(2)]
    for timer in timers:
        assert timer.stdout.readline().strip() == "ready"
    for timer in timers:
        timer.stdin.write("go\n")
        timer.stdin.flush()
    spans = sorted(span for timer in timers for span in json.loads(timer.communicate(timeout=120)[0]))
    assert len(spans) == 8
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end, spans  # each block starts after the previous one ended, whichever process
    assert (tmp_path / LOCK_FILE_NAME).exists()


def test_another_process_measuring_is_seen_and_waited_for(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    holder = spawn(HOLDER, tmp_path)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert measurement_running()
        assert not MEASUREMENT_LOCK.acquire(timeout=0.2)
    finally:
        holder.communicate("done\n", timeout=60)
    assert not measurement_running()
    with MEASUREMENT_LOCK, MEASUREMENT_LOCK:  # re-entrant within a thread
        pass
