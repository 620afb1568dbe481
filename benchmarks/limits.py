"""How good is ``explorer.counting.estimate``' estimate? Measured memory and time of counting against it.

Each config is counted in a fresh Python process (so its peak resident memory is its
own): the growth of peak RSS (VmHWM) over the RSS after imports, and the median wall time
of three counts (``explorer.counting.trace_model``: build, one eager pass, one fvcore trace),
next to ``counting_cost``'s estimate. A ratio below 1 means the estimate is an upper
bound, which is what a refusal threshold needs.

    .venv/bin/python benchmarks/limits.py
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = [  # (groups, width, variant, height, width px)
    (3, 1.0, "standard", 224, 224),
    (8, 0.5, "arch2", 224, 224),
    (1, 2.0, "standard", 224, 224),
    (3, 1.0, "standard", 480, 640),
    (3, 1.0, "standard", 720, 1280),
    (8, 1.0, "standard", 720, 1280),
    (1, 4.0, "arch2", 720, 1280),
    (3, 1.0, "standard", 1024, 1024),
    (4, 0.5, "shallow", 1536, 1536),
]
CHILD = """
import json, resource, statistics, sys, time
from explorer import ShuffleNetConfig
from explorer.concurrency import counting_threads
from explorer.counting import counting_cost, trace_model

def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024

g, w, variant, h, wd = json.loads(sys.argv[1])
config = ShuffleNetConfig(groups=g, width=w, variant=variant, input_size=(h, wd))
cost = counting_cost(config)
trace_model(ShuffleNetConfig(input_size=(32, 32)))  # imports and first-call set-up, not the config's cost
before = rss("VmRSS:")
times = []
with counting_threads():
    for _ in range(3):
        start = time.perf_counter()
        trace_model(config)
        times.append(time.perf_counter() - start)
print(json.dumps({"growth": rss("VmHWM:") - before, "seconds": statistics.median(times),
                  "estimated_bytes": cost.memory_bytes, "estimated_seconds": cost.seconds}))
"""


def run(config: tuple) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(config)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()  # --help, and no stray arguments
    print(f"{'config':<34}{'est. MB':>9}{'peak MB':>9}{'ratio':>7}{'est. s':>8}{'median s':>10}{'ratio':>7}")
    memory_ratios, time_ratios = [], []
    for config in CONFIGS:
        result = run(config)
        memory_ratio = result["growth"] / result["estimated_bytes"]
        time_ratio = result["seconds"] / result["estimated_seconds"]
        memory_ratios.append(memory_ratio)
        time_ratios.append(time_ratio)
        name = f"g={config[0]} {config[1]:g}x {config[2]} {config[3]}x{config[4]}"
        print(
            f"{name:<34}{result['estimated_bytes'] / 2**20:>9.0f}{result['growth'] / 2**20:>9.0f}"
            f"{memory_ratio:>7.2f}{result['estimated_seconds']:>8.2f}{result['seconds']:>10.2f}{time_ratio:>7.2f}"
        )
    print(
        f"\nmeasured / estimated, memory: median {statistics.median(memory_ratios):.2f}, max {max(memory_ratios):.2f}"
    )
    print(f"measured / estimated, time:   median {statistics.median(time_ratios):.2f}, max {max(time_ratios):.2f}")
    print("(below 1: the estimate is an upper bound; a busy machine raises the time ratios)")


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("limits", main))
