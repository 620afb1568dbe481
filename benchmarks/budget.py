"""How long a budget answer takes: the latency-budget search cold (empty store) and warm, and the closed forms.

    .venv/bin/python benchmarks/budget.py [--ms 5] [--backend ort] [--repeat 3] [--only predicted]

Targets (issue 12): the five paper g values within N ms searched in <= 120 s with
nothing stored, and answered from the store in < 1 s the second time; a multiply-add or
parameter budget (closed form) is instant. Each cold search uses a fresh, empty result
store in a temporary directory, so nothing measured before is reused; the warm search
asks the same store again. Printed: medians over ``--repeat`` runs, the number of
measurements, the median seconds per measurement (the baseline the cold time is made
of), and the ratios. Timings on a shared machine are noisy: the search's own "busy"
count says how many measurements were taken while other processes used the CPUs.

With a calibration kept for the backend and threads (``python -m explorer calibrate``),
the search from the prediction (issue 19: pick by the predictor, confirm with at most two
measurements per g) is timed the same way, cold (fresh result store; the predictor fitted
from the kept calibration, its fit included) and warm. Targets: cold <= 20 s over the
paper's five g, warm < 1 s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from explorer.latency.predictor import kept, kept_predictor  # noqa: E402
from explorer.latency.stored import open_store  # noqa: E402
from explorer.latency.threads import default_threads  # noqa: E402
from explorer.sizing import (
    decide,  # noqa: E402
    search_latency_budget,  # noqa: E402
)
from explorer.sizing.predicted import missing_text, note_text  # noqa: E402
from explorer.sizing.predicted_search import predicted_latency_budget  # noqa: E402

COLD_TARGET_S = 120.0
WARM_TARGET_S = 1.0
PREDICTED_COLD_TARGET_S = 20.0


def closed_form(repeat: int) -> None:
    for kind, budget in (("mflops", 40.0), ("mflops", 140.0), ("params", 1.5)):
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            decision = decide(kind, budget)
            times.append(time.perf_counter() - start)
        print(
            f"closed form {kind} {budget:g}: median {statistics.median(times):.3f} s over {repeat} "
            f"({len(decision.candidates)} candidates, 5 g x 3 variants)"
        )


def latency_search(budget_ms: float, backend: str, repeat: int) -> None:
    cold, warm, counts, per_measurement = [], [], [], []
    for run in range(repeat):
        with tempfile.TemporaryDirectory(prefix="explorer-bench-budget-") as directory:
            store = open_store(directory)
            first = search_latency_budget(budget_ms, store, backend=backend)
            second = search_latency_budget(budget_ms, store, backend=backend)
        cold.append(first.seconds)
        warm.append(second.seconds)
        counts.append(first.measured)
        per_measurement.append(first.seconds / max(first.measured, 1))
        fits = ", ".join(
            f"g={s.groups}: {s.fit.config.width:g}x {s.fit.ms:.2f} ms" if s.fit else f"g={s.groups}: none"
            for s in first.searches
        )
        print(
            f"run {run + 1}: cold {first.seconds:.1f} s ({first.measured} measured, {first.busy} busy"
            f"{', stopped: ' + first.stopped if first.stopped else ''}); warm {second.seconds:.3f} s "
            f"({second.measured} measured, {second.reused} from the store); {fits}"
        )
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"\nlatency budget {budget_ms:g} ms, {backend}, five paper g, standard, 224x224, {first.holds_for}:")
    print(
        f"  cold median {cold_s:.1f} s (target <= {COLD_TARGET_S:g} s: {'met' if cold_s <= COLD_TARGET_S else 'MISSED'})"
        f"; {statistics.median(counts):g} measurements, {statistics.median(per_measurement):.2f} s each (baseline)"
    )
    print(
        f"  warm median {warm_s:.3f} s (target < {WARM_TARGET_S:g} s: {'met' if warm_s < WARM_TARGET_S else 'MISSED'})"
        f"; warm / cold = {warm_s / cold_s:.4f}"
    )


def predicted_search(budget_ms: float, backend: str, repeat: int) -> None:
    """The search from the prediction, cold (fresh store, predictor fitted from the kept calibration) and warm."""
    threads = default_threads()
    if kept_predictor(backend, threads) is None:
        print("\n" + missing_text(backend, threads) + " The search from the prediction is not timed.")
        return
    cold, warm, counts = [], [], []
    for run in range(repeat):
        kept._fitted.cache_clear()  # cold: the predictor is fitted again from the kept calibration
        with tempfile.TemporaryDirectory(prefix="explorer-bench-budget-") as directory:
            store = open_store(directory)
            start = time.perf_counter()
            predictor = kept_predictor(backend, threads)
            first = predicted_latency_budget(budget_ms, store, predictor)
            cold_s = time.perf_counter() - start
            start = time.perf_counter()
            second = predicted_latency_budget(budget_ms, store, kept_predictor(backend, threads))
            warm_s = time.perf_counter() - start
        cold.append(cold_s)
        warm.append(warm_s)
        counts.append(first.measured)
        fits = "; ".join(
            f"g={s.groups}: picked {', '.join(f'{w:g}x ({ms:.2f} pred.)' for w, ms in s.picks)}, "
            f"measured {', '.join(f'{p.ms:.2f}' for p in s.probes)} -> {s.status}"
            for s in first.searches
        )
        print(
            f"run {run + 1}: cold {cold_s:.1f} s ({first.measured} measured, {first.busy} busy"
            f"{', stopped: ' + first.stopped if first.stopped else ''}); warm {warm_s:.3f} s "
            f"({second.measured} measured, {second.reused} from the store)\n  {fits}"
        )
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"\nlatency budget {budget_ms:g} ms from the prediction ({note_text(predictor)}), five paper g, standard:")
    met = "met" if cold_s <= PREDICTED_COLD_TARGET_S else "MISSED"
    print(
        f"  cold median {cold_s:.1f} s (target <= {PREDICTED_COLD_TARGET_S:g} s: {met}); "
        f"{statistics.median(counts):g} measurements (at most 2 per g)"
    )
    print(
        f"  warm median {warm_s:.3f} s (target < {WARM_TARGET_S:g} s: {'met' if warm_s < WARM_TARGET_S else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ms", type=float, default=5.0, help="latency budget in ms (default 5)")
    parser.add_argument("--backend", default="ort")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--only",
        choices=("closed", "measured", "predicted"),
        default=None,
        help="time only the closed forms, the measured search, or the search from the prediction",
    )
    args = parser.parse_args()
    if args.only in (None, "closed"):
        closed_form(args.repeat)
    if args.only in (None, "measured"):
        latency_search(args.ms, args.backend, args.repeat)
    if args.only in (None, "predicted"):
        predicted_search(args.ms, args.backend, args.repeat)


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("budget", main))
