"""Time to build and count one config (target: median under 0.3 s for 224x224 configs).

Prints, per config, the median of ``explorer.counting.trace_model`` (build the model, one
eager pass for shapes and activations, one fvcore trace for multiply-adds) run as
``explorer.count_model`` runs it (one intra-op thread, ``explorer.concurrency``), and as a
baseline measured in the same run, with the same thread, the straightforward fvcore
recipe (build, then FlopCountAnalysis and ActivationCountAnalysis: two traces), with the
ratio.

    .venv/bin/python benchmarks/sizing.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import torch  # noqa: E402
from fvcore.nn import ActivationCountAnalysis, FlopCountAnalysis  # noqa: E402

from explorer import ShuffleNetConfig, build_model  # noqa: E402
from explorer.concurrency import counting_threads  # noqa: E402
from explorer.counting import trace_model  # noqa: E402

CONFIGS = [
    ShuffleNetConfig(groups=3, width=1.0),
    ShuffleNetConfig(groups=8, width=1.0),
    ShuffleNetConfig(groups=1, width=2.0),
    ShuffleNetConfig(groups=8, width=0.25, variant="arch2"),
    ShuffleNetConfig(groups=3, width=0.5, variant="shallow", shuffle=False),
]
TARGET_S = 0.3


def baseline(config: ShuffleNetConfig) -> None:
    model = build_model(config)
    image = torch.zeros(1, 3, *config.input_size)
    FlopCountAnalysis(model, image).unsupported_ops_warnings(False).uncalled_modules_warnings(False).total()
    ActivationCountAnalysis(model, image).unsupported_ops_warnings(False).uncalled_modules_warnings(False).total()


def median_seconds(fn, config, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(config)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    trace_model(CONFIGS[0])  # warm up torch's lazy initialisation, not part of any config's cost
    print(f"torch threads: {torch.get_num_threads()}, load average: {os.getloadavg()[0]:.2f}")
    print(f"{'config':45} {'trace_model (s)':>12} {'baseline (s)':>13} {'ratio':>6}  target < {TARGET_S}s")
    worst = 0.0
    for config in CONFIGS:
        with counting_threads():
            ours = median_seconds(trace_model, config, args.repeats)
            base = median_seconds(baseline, config, args.repeats)
        worst = max(worst, ours)
        print(f"{config.label:45} {ours:12.3f} {base:13.3f} {ours / base:6.2f}  {'ok' if ours < TARGET_S else 'OVER'}")
    print(f"slowest median: {worst:.3f} s ({'meets' if worst < TARGET_S else 'misses'} the {TARGET_S} s target)")
    return 0


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("sizing", main))
