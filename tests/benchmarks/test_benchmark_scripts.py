"""Every benchmark script starts: its imports resolve from a plain ``python benchmarks/X.py`` (no pytest
paths), and ``--help`` prints its usage and exits 0 without running it (nothing written to the docs).

Benchmarks are run by hand, not by CI, so a moved helper broke two of them unnoticed once; this runs
each script's own start-up, as a user would, in one subprocess per script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HELPERS = {"report.py", "interleaved.py"}  # imported by the scripts, not run
SCRIPTS = sorted(p for p in (ROOT / "benchmarks").glob("*.py") if p.name not in HELPERS)
DOC = ROOT / "docs" / "benchmarks.md"


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_help_prints_usage_and_runs_nothing(script):
    before = DOC.read_bytes()
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(script), "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage:" in result.stdout and "Traceback" not in result.stderr
    assert DOC.read_bytes() == before
