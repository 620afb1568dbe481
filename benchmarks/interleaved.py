"""Interleaved repeated measurements of configs, each followed by a probe of the machine's level.

``measure_all`` times every config and backend once per round (``LatencyRunner.measure``), probes
the level after each measurement (``quiet.probe_ms``) and times it again while the machine runs
slow; ``reference`` is a config's measured median. ``save_measured`` / ``load_measured`` keep the
repeats as JSON, so a new predictor can be scored on the same measurements
(``predictor_accuracy.py --measured``).
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import time

from explorer.latency.quiet import RETIMES, probe_ms, slowed, usual_level, wait_for_level
from explorer.latency.timing import Timing
from explorer.shufflenet.config import config_from_dict, config_to_dict

MIN_LEVELS = 10  # probes before the machine's usual level is judged


def load_text() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"


def save_measured(measured: dict, directory: str) -> None:
    """Every repeat's median, quartiles, probed speedup and level per config and backend (``--measured`` reads it
    back)."""
    rows = [
        {
            "config": config_to_dict(config),
            "backend": backend,
            "median_ms": [r.median_ms for r in runs],
            "q1_ms": [r.timing.q1_ms for r in runs],
            "q3_ms": [r.timing.q3_ms for r in runs],
            "parallel_speedup": [r.timing.parallel_speedup for r in runs],
            "level_ms": [r.level_ms for r in runs],
            "slow": [r.slow for r in runs],
        }
        for (config, backend), runs in measured.items()
    ]
    path = os.path.join(directory, "measured.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(rows, handle)
    print(f"saved {path}")


def load_measured(path: str, threads: int) -> dict:
    """``save_measured``'s file as ``measure_all`` returns it. A repeat's timing holds its quartiles twice around the
    median, so its ``q1_ms`` and ``q3_ms`` are the saved ones (with one of each, they read halfway to the median, and
    fewer measurements tied in the rank than in the run, before 2026-12-07). A file without quartiles (older)
    gives each repeat a zero IQR, so no two measurements tie; one without levels, unprobed repeats."""
    with open(path, encoding="utf-8") as handle:
        rows = json.load(handle)
    measured = {}
    for row in rows:
        medians = row["median_ms"]
        q1s, q3s = row.get("q1_ms", medians), row.get("q3_ms", medians)
        speedups = row.get("parallel_speedup", [None] * len(medians))
        levels, slows = row.get("level_ms", [None] * len(medians)), row.get("slow", [False] * len(medians))
        measured[(config_from_dict(row["config"]), row["backend"])] = [
            Repeat(m, Timing((q1, q1, m, q3, q3), 3, parallel_speedup=s, parallel_threads=threads), level, slow)
            for m, q1, q3, s, level, slow in zip(medians, q1s, q3s, speedups, levels, slows)
        ]
    print(
        f"loaded {path}: {len(rows)} configs x backends measured before"
        + ("" if "q1_ms" in rows[0] else ", no IQR saved (no ties in the rank)")
    )
    return measured


@dataclasses.dataclass(frozen=True)
class Repeat:
    """One measurement of a config, with the machine's level probed right after it (``quiet.probe_ms``)."""

    median_ms: float
    timing: Timing
    level_ms: float | None = None
    slow: bool = False  # the machine still ran slow when the wait for its level ran out
    level_wait_s: float = 0.0  # seconds waited for the machine to come back to its usual level


def measure_at_level(runner, config, backend: str, levels: list[float], wait_s: float) -> Repeat:
    """``runner.measure``, then the level probed; while the machine runs slow against its usual level (the lower
    quartile of ``levels``, this run's probes so far), wait for it (``wait_s`` in all) and measure again, at most
    ``quiet.RETIMES`` times. The shared threads are handled inside ``runner.measure``."""
    measurement, level = runner.measure(config, backend), probe_ms(runner.threads)
    usual = usual_level(levels) if len(levels) >= MIN_LEVELS else None
    waited = 0.0
    for _ in range(RETIMES):
        if not slowed(level, usual) or waited >= wait_s:
            break
        level, seconds = wait_for_level(runner.threads, usual, wait_s - waited)
        waited += seconds
        if slowed(level, usual):
            break
        measurement, level = runner.measure(config, backend), probe_ms(runner.threads)
    levels.append(level)
    return Repeat(measurement.median_ms, measurement.timing, level, slowed(level, usual), waited)


def measure_all(
    configs: list, backends: list[str], repeats: int, threads: int, min_time: float, wait_s: float, levels: list
) -> dict:
    """{(config, backend): [Repeat, ...]}, every config and backend once per round (interleaved).

    Each measurement waits up to ``wait_s`` for the host to stop sharing the threads (``LatencyRunner(wait_quiet=...)``)
    and for the machine to come back to its usual level (``measure_at_level``; ``levels``: the calibrations' probes,
    this run's are added), and is timed again once it does."""
    from explorer.latency.runner import LatencyRunner

    results: dict = {}
    with LatencyRunner(threads, min_time=min_time, wait_quiet=wait_s) as runner:
        for round_ in range(repeats):
            start, done = time.perf_counter(), []
            for config in configs:
                for backend in backends:
                    try:
                        repeat = measure_at_level(runner, config, backend, levels, wait_s)
                    except Exception as error:  # noqa: BLE001 - a failed measurement is reported, not fatal
                        print(f"  {config.label} {backend}: {type(error).__name__}: {error}")
                        continue
                    results.setdefault((config, backend), []).append(repeat)
                    done.append(repeat)
            print(
                f"  round {round_ + 1}/{repeats}: {time.perf_counter() - start:.0f} s ({load_text()}); "
                f"{sum(r.timing.threads_shared for r in done)} of {len(done)} measurements left on shared threads, "
                f"{sum(r.slow for r in done)} while the machine ran slow; "
                f"{sum(r.timing.parallel_wait_s for r in done):.0f} s waited for parallel threads, "
                f"{sum(r.level_wait_s for r in done):.0f} s for the machine's level",
                flush=True,
            )
    return results


def reference(measurements: list):
    """The median of the repeats' medians, and the repeat that holds it (its IQR for ties).

    Repeats the probes found on shared threads or on a slow machine are left out while any other repeat exists."""
    quiet = [m for m in measurements if not m.timing.threads_shared and not m.slow] or measurements
    ordered = sorted(quiet, key=lambda m: m.median_ms)
    return ordered[len(ordered) // 2]


def spread(measurements: list) -> float:
    values = [m.median_ms for m in measurements]
    return (max(values) - min(values)) / statistics.median(values)
