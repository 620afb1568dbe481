"""The parallel probe: a measurement taken while the host shares the threads is flagged, and re-timed once they run in parallel."""

from __future__ import annotations

import math

from explorer.latency.quiet import (
    SLOW_LEVEL,
    parallel_speedup,
    probe_ms,
    slowed,
    time_in_parallel,
    usual_level,
    wait_for_level,
    wait_for_parallel,
)
from explorer.latency.timing import Timing, summarize


def _timer(values: list[float]):
    calls: list[float] = []

    def time_once() -> Timing:
        calls.append(values[len(calls)])
        return summarize([calls[-1]] * 5)

    return time_once, calls


def _probe(speedups: list[float]):
    seen: list[int] = []

    def probe(threads: int) -> float:
        seen.append(threads)
        return speedups[min(len(seen), len(speedups)) - 1]

    return probe, seen


def test_one_thread_is_never_probed():
    time_once, calls = _timer([2.0])
    timing = time_in_parallel(time_once, 1, 10.0, probe=lambda threads: 1 / 0)
    assert calls == [2.0] and timing.parallel_speedup is None and not timing.threads_shared


def test_parallel_threads_are_timed_once_and_the_speedup_kept():
    time_once, calls = _timer([2.0, 3.0])
    timing = time_in_parallel(time_once, 2, 10.0, probe=_probe([1.3])[0])
    assert calls == [2.0] and timing.median_ms == 2.0
    assert timing.parallel_speedup == 1.3 and not timing.threads_shared and not timing.contended


def test_a_timing_on_shared_threads_is_timed_again_once_they_run_in_parallel():
    time_once, calls = _timer([4.5, 2.7])
    probe, seen = _probe([0.7, 0.7, 1.3, 1.3])  # after the first timing, two polls of the wait, after the second
    timing = time_in_parallel(time_once, 2, 10.0, probe=probe, sleep=lambda s: None)
    assert calls == [4.5, 2.7] and timing.median_ms == 2.7 and len(seen) == 4
    assert timing.parallel_speedup == 1.3 and not timing.threads_shared


def test_threads_still_shared_when_the_wait_runs_out_keep_the_timing_flagged_busy():
    time_once, calls = _timer([4.5, 4.4, 4.6])
    timing = time_in_parallel(time_once, 2, 0.0, probe=_probe([0.7])[0], sleep=lambda s: None)
    assert calls == [4.5]
    assert timing.threads_shared and timing.contended
    assert "2 threads ran 0.70x as fast as one" in timing.busy_reason


def test_wait_for_parallel_stops_at_its_limit():
    speedup, waited = wait_for_parallel(2, 0.0, probe=lambda threads: 0.6)
    assert speedup == 0.6 and waited >= 0.0


def test_the_usual_level_is_the_lower_quartile_and_a_slower_probe_is_slowed():
    levels = [1.0, 1.0, 1.0, 2.0, None, 2.0, 2.0, 2.0]  # a slow half; None: not probed
    assert usual_level(levels) == 1.0 and usual_level([None]) is None
    assert [slowed(level, 1.0) for level in (1.0, SLOW_LEVEL - 0.01, SLOW_LEVEL + 0.01, None)] == [
        False,
        False,
        True,
        False,
    ]
    assert not slowed(5.0, None)  # nothing to compare with


def test_wait_for_level_polls_until_the_machine_is_back_at_its_level():
    probe, seen = _probe([2.0, 1.6, 1.05, 3.0])
    level, _ = wait_for_level(2, 1.0, 10.0, probe=probe, sleep=lambda s: None)
    assert level == 1.05 and len(seen) == 3
    level, _ = wait_for_level(2, 1.0, 0.0, probe=lambda threads: 2.0)
    assert level == 2.0  # the limit ran out: the last probe, still slow


def test_the_probe_runs_here():
    assert parallel_speedup(1) == 1.0
    speedup = parallel_speedup(2)
    assert math.isfinite(speedup) and speedup > 0
    one, two = probe_ms(1), probe_ms(2)
    assert 0 < two < 10 * one and 0 < one < 1000  # ms: the probe network, ShuffleNet 0.5x at 224x224


def test_a_timing_record_keeps_the_probe_and_older_records_read_as_unprobed():
    timing = Timing((1.0, 1.1, 1.2), 3, parallel_speedup=0.8, parallel_threads=2, parallel_wait_s=1.5)
    again = Timing.from_record(timing.to_record())
    assert again == timing and again.threads_shared and again.to_dict()["threads_shared"]
    old = {k: v for k, v in timing.to_record().items() if not k.startswith("parallel")}
    assert not Timing.from_record(old).threads_shared


def test_bench_says_why_a_measurement_on_shared_threads_is_busy():
    from explorer.commands.bench_report import record_flags

    shared_record = Timing((4.5, 4.6, 4.7), 3, parallel_speedup=0.7, parallel_threads=2).to_dict()
    assert record_flags(shared_record) == (
        "busy (2 threads ran 0.70x as fast as one (the host was running this machine's cores on shared hardware))"
    )
    assert record_flags(Timing((2.7, 2.7, 2.8), 3, parallel_speedup=1.3, parallel_threads=2).to_dict()) == ""
