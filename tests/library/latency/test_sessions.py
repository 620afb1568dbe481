"""Several sessions in one process: foreground work has priority, and shared library state is safe.

Other sessions of the app run in the same process as a latency measurement, so the
harness's check against other processes cannot see them (``explorer/threads.py``). These
tests run real foreground work (a ``counting_threads()`` block running torch operations)
in another thread while ``time_function`` times a tiny model, and check what the
harness did with it: waited, discarded the overlapped blocks, or flagged the result.
Threads hand over through events, never through sleeps, and nothing asserts on a time.

Library state shared between threads: channel-mixing measurements of several sessions
at once (PyTorch's forward-mode AD levels are process-wide; found by
``test_browser_concurrent.py``).
"""

from __future__ import annotations

import threading
from typing import Self

import pytest
import torch
from torch import nn

from explorer.concurrency import (
    FOREGROUND,
    MEASUREMENT_LOCK,
    STREAMLIT_SCRIPT_THREAD,
    counting_threads,
    foreground_state,
    foreground_work,
    mark_foreground_thread,
    torch_threads,
)
from explorer.latency import timing as latency_timing
from explorer.latency.timing import time_function

JOIN_S = 120


class BusyForeground:
    """A thread inside a real ``counting_threads()`` block, running torch ops until released."""

    def __init__(self) -> None:
        self.entered, self.release, self.left = threading.Event(), threading.Event(), threading.Event()
        self.operations = 0
        self.thread = threading.Thread(target=self._run, name="foreground-user", daemon=True)

    def _run(self) -> None:
        a = torch.randn(128, 128)
        with counting_threads():
            self.entered.set()
            while not self.release.is_set():
                torch.mm(a, a)
                self.operations += 1
        self.left.set()

    def __enter__(self) -> Self:
        self.thread.start()
        assert self.entered.wait(JOIN_S)
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.thread.join(JOIN_S)
        assert not self.thread.is_alive()


def tiny_model():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()).eval()
    image = torch.randn(1, 3, 16, 16)

    def run():
        with torch.inference_mode():
            return model(image)

    return run


def test_foreground_work_is_seen_by_other_threads_only():
    with BusyForeground() as user:
        assert foreground_state().busy  # the user's block, seen from here
        assert FOREGROUND.state(exclude=user.thread.ident).busy is False  # not its own
    assert not foreground_state().busy
    assert user.operations > 0


def test_generation_counts_every_start_and_blocks_nest():
    start = foreground_state()
    with foreground_work():
        with foreground_work():
            inside = foreground_state(exclude_current=False)
        assert foreground_state(exclude_current=False).busy  # the outer one is still in flight
    after = foreground_state(exclude_current=False)
    assert inside.busy and not after.busy
    assert after.generation == start.generation + 2
    assert not start.quiet_until(after)  # work started in between
    assert after.quiet_until(foreground_state())


def test_counting_beside_a_measurement_uses_one_thread_and_leaves_the_measurements_alone():
    seen: list[int] = []
    with MEASUREMENT_LOCK, torch_threads(2):  # a measurement in progress in this thread

        def count() -> None:
            with counting_threads():
                torch.mm(torch.randn(64, 64), torch.randn(64, 64))
                seen.append(torch.get_num_threads())

        user = threading.Thread(target=count)
        user.start()
        user.join(JOIN_S)
        assert torch.get_num_threads() == 2  # the measuring thread keeps its count
    assert seen == [1]


def test_block_is_cleared_when_the_work_raises():
    with pytest.raises(RuntimeError), counting_threads():
        raise RuntimeError("boom")
    assert not foreground_state(exclude_current=False).busy


def test_a_marked_thread_is_foreground_until_it_ends_and_is_then_forgotten():
    marked, finish = threading.Event(), threading.Event()

    def page_run() -> None:
        mark_foreground_thread()
        marked.set()
        finish.wait(JOIN_S)

    tracked = FOREGROUND.tracked_threads()
    runs = [threading.Thread(target=page_run) for _ in range(20)]
    for run in runs[:-1]:  # nineteen finished page runs...
        marked.clear()
        finish.set()
        run.start()
        run.join(JOIN_S)
    finish.clear()
    marked.clear()
    runs[-1].start()  # ...and one in flight
    assert marked.wait(JOIN_S)
    assert foreground_state().busy
    assert FOREGROUND.tracked_threads() == tracked + 1  # finished runs are not kept
    finish.set()
    runs[-1].join(JOIN_S)
    assert not foreground_state().busy
    assert FOREGROUND.tracked_threads() == tracked


def test_a_streamlit_script_run_is_foreground_work():
    """A page or fragment run is recognised by Streamlit's script-thread name, pinned here."""
    from streamlit.testing.v1 import AppTest

    def script():
        import threading

        import streamlit as st

        from explorer.concurrency import foreground_state, script_threads

        st.text(f"{threading.get_ident() in script_threads()} {foreground_state(exclude_current=False).busy}")

    at = AppTest.from_function(script).run()
    assert at.text[0].value == "True True"
    for thread in threading.enumerate():  # the run is over: once its thread has ended, so is the work
        if thread.name == STREAMLIT_SCRIPT_THREAD:
            thread.join(JOIN_S)
    assert not foreground_state().busy


def test_a_thread_queued_on_the_measurement_lock_is_waiting_not_working():
    queued, got_it = threading.Event(), threading.Event()

    def queued_page_run() -> None:
        mark_foreground_thread()
        queued.set()
        with MEASUREMENT_LOCK:
            got_it.set()

    with MEASUREMENT_LOCK:
        thread = threading.Thread(target=queued_page_run)
        thread.start()
        assert queued.wait(JOIN_S)
        while FOREGROUND.state(exclude=threading.get_ident()).busy:  # until it blocks on the lock
            assert thread.is_alive() and not got_it.is_set()
            threading.Event().wait(0.01)
        assert not got_it.is_set()
    thread.join(JOIN_S)
    assert got_it.is_set()


def test_harness_waits_for_foreground_work_then_times_only_quiet_blocks():
    run = tiny_model()
    seen_busy: list[bool] = []

    def recorded():
        seen_busy.append(foreground_state().busy)
        return run()

    with BusyForeground() as user:
        waits: list[float] = []

        def sleep(seconds: float) -> None:  # the harness yields: let the user finish
            waits.append(seconds)
            user.release.set()
            user.left.wait(JOIN_S)

        timing = time_function(recorded, min_time=0.02, warmup=0.0, min_samples=5, yield_limit=60, sleep=sleep)
    assert waits, "the harness must wait while another thread's foreground work is in flight"
    assert not any(seen_busy)  # no call, warm-up included, ran beside the user's work
    assert timing.retimed == 0 and not timing.sessions_busy  # (other processes may still make it "busy")
    assert "other sessions" not in timing.busy_reason


def test_harness_discards_a_block_that_foreground_work_overlapped():
    run = tiny_model()
    user = BusyForeground()
    calls = [0]

    def run_and_let_a_user_start():
        calls[0] += 1
        if calls[0] == 6:  # in the middle of timing, another session starts working
            user.thread.start()
            assert user.entered.wait(JOIN_S)
        return run()

    def sleep(seconds: float) -> None:
        user.release.set()
        user.left.wait(JOIN_S)

    timing = time_function(
        run_and_let_a_user_start, min_time=0.0, warmup=0.0, min_samples=8, block_ms=0.0, yield_limit=60, sleep=sleep
    )
    user.thread.join(JOIN_S)
    assert timing.block == 1
    assert timing.retimed == 1  # the sixth call's block, timed again after the user left
    assert len(timing.samples_ms) == 8 and not timing.sessions_busy


def test_harness_flags_the_result_when_other_sessions_never_go_quiet():
    run = tiny_model()
    with BusyForeground():
        timing = time_function(run, min_time=0.01, warmup=0.0, min_samples=5, max_time=0.05, yield_limit=0)
    assert timing.sessions_busy and timing.contended
    assert timing.retimed == len(timing.samples_ms) >= latency_timing.MIN_SAMPLES_FLOOR
    record = timing.to_dict()
    assert record["sessions_busy"] is True and record["retimed_blocks"] == timing.retimed
    assert "other sessions in this server were working" in record["busy_reason"]


def test_harness_flags_after_waiting_at_most_its_yield_limit():
    run = tiny_model()
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # the clock of the wait is real; each poll is recorded
        waits.append(seconds)
        threading.Event().wait(seconds)

    with BusyForeground():
        timing = time_function(
            run, min_time=0.01, warmup=0.0, min_samples=3, max_time=0.05, yield_limit=0.1, sleep=sleep
        )
    assert waits and timing.yielded_s >= 0.1  # it waited its limit, then timed anyway...
    assert timing.sessions_busy  # ...and said so


# --------------------------------------------------------------------------- shared library state


def test_mixing_measurements_of_several_sessions_at_once():
    """Forward-mode AD levels are process-wide in PyTorch: concurrent ``jvp`` passes must take turns."""
    from explorer import ShuffleNetConfig, build_model
    from explorer.mixing import measure_stage

    configs = [ShuffleNetConfig(groups=g, width=w) for g, w in ((2, 0.5), (8, 0.5), (4, 0.25), (1, 0.25))]
    models = [build_model(c) for c in configs]
    alone = [[measure_stage(c, stage, m) for stage in (2, 3, 4)] for c, m in zip(configs, models)]
    together: list = [None] * len(configs)
    errors: list[str] = []
    start = threading.Barrier(len(configs))

    def session(index: int) -> None:
        start.wait(JOIN_S)
        try:
            together[index] = [measure_stage(configs[index], stage, models[index]) for stage in (2, 3, 4)]
        except Exception as error:  # noqa: BLE001 - collected and reported by the assertion
            errors.append(f"{configs[index].label}: {error!r}")

    threads = [threading.Thread(target=session, args=(i,)) for i in range(len(configs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_S)
    assert not errors, errors
    for mine, reference in zip(together, alone):
        for measured, expected in zip(mine, reference):
            assert (measured.first_unit == expected.first_unit).all()
            assert all((a == b).all() for a, b in zip(measured.stride1, expected.stride1))
