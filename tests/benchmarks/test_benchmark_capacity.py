"""benchmarks/capacity.py's arguments: bad input is one line on stderr and exit status 2, before any
server or browser starts; its queueing simulation agrees with what an M/D/1 queue must give."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "capacity.py"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--pages", "1"], "--pages 1: from 2 to 40"),
        (["--pages", "ten"], "invalid int value: 'ten'"),
        (["--repeats", "100"], "--repeats 100: from 2 to 20"),
        (["--settle", "-5"], "--settle -5: from 0 to 1200 seconds"),
        (["--student"], "unrecognized arguments: --student"),
    ],
)
def test_bad_arguments_are_one_line(argv, expected):
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("capacity.py: ") and expected in result.stderr


def test_queueing_simulation():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import capacity
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    # M/D/1 at 3 arrivals/s, 100 ms each (utilisation 0.3): mean wait rho*D / (2(1-rho)) = 21.4 ms.
    waits = capacity.simulate_waits(30, 1, lambda rng: 0.1)
    assert abs(sum(waits) / len(waits) - 0.3 * 0.1 / (2 * 0.7)) < 0.003
    assert capacity.p95(waits) < 0.2
    # Two cores wait less than one; the same seed gives the same figures.
    assert capacity.p95(capacity.simulate_waits(30, 2, lambda rng: 0.1)) < capacity.p95(waits)
    assert capacity.simulate_waits(30, 1, lambda rng: 0.1) == waits
