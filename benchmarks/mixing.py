"""Benchmark: time of the measured channel-dependency matrices.

For every paper group count g and every stage of a 1x model at 224x224, times
``explorer.mixing.measure_stage`` (one call gives both scopes: the stride-2
unit, then every stride-1 unit) and prints medians, in seconds:

* ``1 thread``: a model already built (the app caches one per config), one intra-op
  thread, as the CLI and the app run it;
* ``+build``: the same including ``build_model`` (the CLI's cost, minus start-up);
* ``2 threads``: PyTorch's default thread count on this 2-core machine, model built.
  With other work on the machine, 2 spinning OpenMP threads are often 3-8x slower.

The measurement does not depend on the input size (1x1 probes, see
``explorer/mixing_network.py``), so 224x224 only fixes the config. Target: < 2 s.

    .venv/bin/python benchmarks/mixing.py [--repeats 5] [--groups 1 2 3 4 8] [--width 1.0]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from explorer import ShuffleNetConfig, build_model  # noqa: E402
from explorer.mixing import measure_stage
from explorer.shufflenet.plan import STAGES  # noqa: E402

TARGET_SECONDS = 2.0


def seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--groups", type=int, nargs="+", default=[1, 2, 3, 4, 8])
    parser.add_argument("--width", type=float, default=1.0)
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    print(
        f"torch {torch.__version__}, default {default_threads} intra-op threads; medians of {args.repeats} runs, "
        "seconds"
    )
    print(
        f"{'g':>2} {'shuffle':>7} {'stage':>5} {'C_in':>5} {'C':>5} {'units':>5} {'1 thread':>9} {'+build':>7} "
        f"{f'{default_threads} threads':>10}"
    )
    worst = 0.0
    for groups in args.groups:
        for shuffle in (True, False):
            config = ShuffleNetConfig(groups=groups, width=args.width, shuffle=shuffle, input_size=(224, 224))
            model = build_model(config)
            for stage in STAGES:  # warm-up: torch.func's first call, oneDNN primitives for these shapes
                measure_stage(config, stage, model, threads=1)
            for stage in STAGES:
                result = measure_stage(config, stage, model, threads=1)
                one = seconds(lambda: measure_stage(config, stage, model, threads=1), args.repeats)
                built = seconds(lambda: measure_stage(config, stage, build_model(config), threads=1), args.repeats)
                default = seconds(lambda: measure_stage(config, stage, model), args.repeats)
                worst = max(worst, built)
                print(
                    f"{groups:>2} {str(shuffle):>7} {stage:>5} {result.stage_in_channels:>5} {result.channels:>5} "
                    f"{result.repeats:>5} {one:>9.3f} {built:>7.3f} {default:>10.3f}"
                )
    verdict = "OK" if worst < TARGET_SECONDS else "OVER"
    print(f"worst median with build, 1 thread: {worst:.3f} s (target < {TARGET_SECONDS:g} s): {verdict}")
    return 0


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("mixing", main))
