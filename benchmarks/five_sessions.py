"""Benchmark: how much four browsing sessions slow a Table 8 job on the same server.

Runs the load-tier test ``test_browser_concurrent.py`` (one ``streamlit run``, five browser
sessions: one runs the full Table 8 job, four browse other pages meanwhile; then the 224x224
half of the job again with nobody else working), then reads its report
(``test-artifacts/concurrency.json``) and prints, for every 224x224 measurement, the median
while the others browsed, the quiet re-run's median and their ratio, and which ones could be
compared: a ratio means something only when neither run carries a "noisy" or "busy" flag.
The last line says how many rows were compared and whether every compared ratio is within
the tolerance (``SLOWDOWN_TOLERANCE`` in the test), or that none could be compared (on a
2-core machine that also runs the five browsers, most results come out flagged: run it on
a quiet machine).

    .venv/bin/python benchmarks/five_sessions.py [--report-only]

``--report-only`` prints the last report without running the test again.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "test-artifacts" / "concurrency.json"


def test_file() -> Path:
    """The five-session test, wherever tests/ keeps it."""
    [found] = sorted((ROOT / "tests").rglob("test_browser_concurrent.py"))
    return found


def print_report(report: dict) -> int:
    """Print the comparison; returns the number of rows compared."""
    rows = [r for r in report["table8"] if "ratio" in r]
    print(f"{'Model':32} {'Backend':20} {'busy ms':>9} {'quiet ms':>9} {'ratio':>6}  compared (flags)")
    for row in rows:
        flags = f"{row['flag'] or '-'} / {row['quiet_flag'] or '-'}"
        print(
            f"{row['model']:32} {row['backend']:20} {row['median_ms']:9.2f} {row['quiet_median_ms']:9.2f} "
            f"{row['ratio']:6.2f}  {'yes' if row['compared'] else 'no'} ({flags})"
        )
    compared = [r for r in rows if r["compared"]]
    tolerance = report["slowdown_tolerance"]
    print(
        f"render seconds of the browsing sessions: median {report['render_seconds']['median']:.2f}, "
        f"max {report['render_seconds']['max']:.2f} over {report['render_seconds']['renders']} page runs"
    )
    if not compared:
        print(f"0 of {len(rows)} rows compared (every one flagged in one run or the other): slowdown not measured")
    else:
        worst = max(r["ratio"] for r in compared)
        verdict = "met" if worst <= 1 + tolerance else "missed"
        print(
            f"{len(compared)} of {len(rows)} rows compared, worst ratio {worst:.2f} "
            f"(target <= {1 + tolerance:.2f}): {verdict}"
        )
    return len(compared)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--report-only", action="store_true", help="print the last report, do not run the test")
    args = parser.parse_args(argv)
    status = 0
    if not args.report_only:
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "load", str(test_file())]
        status = subprocess.run(command, cwd=ROOT).returncode
    print_report(json.loads(REPORT.read_text()))
    return status


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("five_sessions", main))
