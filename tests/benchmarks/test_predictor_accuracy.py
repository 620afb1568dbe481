"""benchmarks/predictor_accuracy.py: whether a run timed the machine at its usual level, and its arguments.

The benchmark's own probes cannot see a slowdown that lasts the whole run (their lower quartile is
the run's usual level), so it judges the run against this machine's usual level from outside it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "predictor_accuracy.py"


@pytest.fixture(scope="module")
def benchmark():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import predictor_accuracy
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return predictor_accuracy


def test_a_run_at_the_usual_level_is_quiet(benchmark):
    quiet, text = benchmark.quiet_verdict({"ort calibration": 0.87, "measurements": 0.95}, 0.85, "--usual-level")
    assert quiet is True
    assert text == (
        "quiet: ort calibration 0.870 ms (+2%), measurements 0.950 ms (+12%), "
        "against this machine's usual level 0.850 ms (--usual-level)"
    )


def test_a_run_slower_than_usual_says_it_does_not_measure_the_target(benchmark):
    levels = {"ort calibration": 1.78, "openvino calibration": 0.9, "measurements": 1.59}
    quiet, text = benchmark.quiet_verdict(levels, 0.85, "--usual-level")
    assert quiet is False
    assert text.startswith("NOT QUIET: ort calibration and measurements ran over 15% slower than")
    assert "measurements 1.590 ms (+87%)" in text and "openvino calibration 0.900 ms (+6%)" in text
    assert text.endswith("this run does not measure it")


@pytest.mark.parametrize(
    ("levels", "usual", "why"),
    [
        ({"measurements": 1.6}, None, "no calibration is kept here; --usual-level MS gives it"),
        ({"measurements": None}, 0.85, "no level was probed"),
    ],
)
def test_without_a_usual_level_or_a_probe_quiet_is_unknown(benchmark, levels, usual, why):
    quiet, text = benchmark.quiet_verdict(levels, usual, "its calibrations kept in the store at 2 threads")
    assert quiet is None
    assert text.startswith(f"quiet: unknown ({why})")


def test_a_probe_still_slow_after_the_wait_stops_the_run(benchmark):
    why = benchmark.slow_start(1.02, 0.85, "--usual-level", 180.4)
    assert why.startswith("NOT QUIET: after waiting 180 s the probe read 1.020 ms (+20%), over 15% slower than")
    assert why.endswith("so it stops before calibrating (--even-if-slow runs it anyway)")


def test_a_probe_back_at_the_usual_level_lets_the_run_start(benchmark):
    assert benchmark.slow_start(0.97, 0.85, "--usual-level", 3.0) is None


def test_the_run_stops_before_calibrating_when_the_machine_stays_slow(tmp_path):
    """An unreachable usual level: the real probe reads slower, so the run says why and stops (exit 1), without
    calibrating and without writing its section of docs/benchmarks.md."""
    env = {**os.environ, "EXPLORER_DATA_DIR": str(tmp_path), "EXPLORER_BENCH_REPORT": "on"}
    argv = [sys.executable, str(SCRIPT), "--usual-level", "0.001", "--wait-quiet", "0.5"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, env=env)
    assert result.returncode == 1, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("NOT QUIET: after waiting") and "(--usual-level)" in last
    assert "calibrating at" not in result.stdout and "written to" not in result.stderr


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--usual-level", "-1"], "--usual-level: '-1' is not allowed: give a probe time in ms above 0"),
        (["--usual-level", "fast"], "--usual-level: 'fast' is not allowed"),
        (["--repeats", "0"], "--repeats: '0' is not allowed: give an integer from 1"),
        (["--wait-quiet", "-3"], "--wait-quiet: '-3' is not allowed: give seconds from 0"),
    ],
)
def test_bad_arguments_are_one_line(argv, expected):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and expected in result.stderr
