"""How well the latency predictor predicts this machine: held-out configs, rank of the paper's g, speed.

    .venv/bin/python benchmarks/predictor_accuracy.py [--backends ort,openvino] [--threads N]
        [--calibration FILE ...] [--save-dir DIR] [--keep] [--configs 40] [--repeats 5] [--seed 19]
        [--min-time 1.0] [--wait-quiet SECONDS] [--wait-shared 60] [--measured DIR/measured.json]
        [--usual-level MS] [--even-if-slow]

1. Per backend: calibrates (timed; target <= 3 min) or loads a calibration JSON
   (``--calibration``, its backend read from the file); ``--save-dir`` writes
   ``calib-<backend>.json`` there (and, after step 2, ``measured.json``: every repeat's median);
   ``--keep`` keeps each calibration with its held-out error in the result store
   (``EXPLORER_DATA_DIR``), where ``predict`` and the app show that error. A calibration made
   here at a slow level against the others (``Calibration.level_ms``) is made once more.
2. ``--configs`` random held-out configs (g 1-64, width 0.1-4.0 log-uniform, all three
   variants, shuffle on or off, inputs from 224x224 to 720x1280), each measured end to end
   by ``LatencyRunner.measure`` ``--repeats`` times, interleaved (every config and backend
   once, then again), the reference being the median of those medians (``--measured`` scores
   a saved ``measured.json`` instead, e.g. a new predictor on the same calibrations). Prints the share
   within +-10% (target >= 90%), the error distribution, the same share with the common
   level taken off (the median predicted/measured ratio: how much is the machine's drift
   between calibration and measurement), the worst five, how many predictions extrapolate,
   and the measurements' own repeatability (spread of the repeats / their median, and how
   often the odd rounds' reference agrees with the even rounds' within +-10%).
3. Rank: the paper's five g (1, 2, 3, 4, 8) at 1x and 0.5x, 224x224, ordered by predicted
   and by measured latency: Kendall's tau-b, two measurements within each other's IQR
   counting as a tie (target >= 0.8), with multiply-adds' tau beside it.
4. Speed, caches warm: one prediction (target < 5 ms) and a 5 g x 40 width sweep (< 1 s).

The machine may be shared: the load average is printed at the start and the end, and
targets are reported, not asserted. A virtual machine's host may also run its threads on
shared hardware for minutes (``explorer.latency.quiet``): the calibration and every
measurement are probed for it, timed again once it stops (``--wait-shared``), and the
rounds print how often it happened. The host can also slow every thread alike: after each
measurement the probe network alone gives the machine's level (``quiet.probe_ms``), and a
measurement taken while it ran slow against the run's usual level is timed again once it is
back (the same wait), or left out of the reference while another repeat was not slow.
A slowdown of the whole run is invisible to its own probes, so the calibrations' and the
measurements' levels are also judged against this machine's usual level (``--usual-level``,
else its calibrations kept in the store): the run says NOT QUIET when one is over 15% slower,
and with ``--wait-quiet`` first waits for that level; still slow when the wait runs out, it
says so and stops before calibrating (exit 1), unless ``--even-if-slow``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from interleaved import load_measured, load_text, measure_all, reference, save_measured, spread

from explorer.cli import OneLineParser
from explorer.commands.common import integer, number
from explorer.counting.estimate import MEMORY_ENV
from explorer.latency.predictor import Calibration, Predictor, calibrate, keep_new
from explorer.latency.predictor.calibration import SLOW_CALIBRATION, level_of
from explorer.latency.predictor.kept import kept_level
from explorer.latency.predictor.kernels import cached_kernels, total_macs
from explorer.latency.predictor.labels import noisy_text, stays_text
from explorer.latency.quiet import SLOW_LEVEL, slowed, usual_level, wait_for_level, wait_until_quiet
from explorer.latency.threads import default_threads
from explorer.shufflenet import ShuffleNetConfig
from explorer.shufflenet.config import VARIANTS

PAPER_GROUPS = (1, 2, 3, 4, 8)
WITHIN = 0.10


def random_configs(count: int, seed: int) -> list[ShuffleNetConfig]:
    generator = random.Random(seed)
    configs = []
    for _ in range(count):
        width = round(math.exp(generator.uniform(math.log(0.1), math.log(4.0))), 3)
        size = (generator.randint(224, 720), generator.randint(224, 1280))
        configs.append(
            ShuffleNetConfig(
                generator.randint(1, 64), width, generator.choice(VARIANTS), generator.random() > 0.2, size
            )
        )
    return configs


def save(calibration: Calibration, directory: str) -> None:
    path = os.path.join(directory, f"calib-{calibration.backend}.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(calibration.to_dict(), handle)
    print(f"{calibration.backend}: saved {path}")


def calibrate_and_report(backend: str, args) -> Calibration:
    print(f"{backend}: calibrating at {args.threads} threads ({load_text()})", flush=True)

    def step(done: int, total: int, text: str) -> None:
        if done % 25 == 0 or done == total:
            print(f"  {done}/{total} {text}", flush=True)

    calibration = calibrate(backend, args.threads, progress=step)
    extra = calibration.extra
    print(
        f"{backend}: calibration took {calibration.seconds:.1f} s (target <= 180 s), "
        f"{calibration.noisy_networks} of {len(calibration.networks)} networks noisy; "
        f"{extra.get('threads_shared', 0)} timed while the host shared the threads "
        f"({extra.get('shared_wait_s', 0):.0f} s waited for it to stop), "
        f"{extra.get('slow', 0)} while the machine ran slow; its level {level_text(calibration.level_ms)}",
        flush=True,
    )
    predictor = Predictor(calibration)
    cv = predictor.expected_error
    print(f"  in-network correction: {', '.join(f'{k} {v:.4g}' for k, v in predictor.correction.to_dict().items())}")
    if cv:
        print(
            f"  cross-validated on its {cv['configs']} networks: {cv['within_10_percent']:.0%} within +-10%, "
            f"|error| median {cv['median_abs_error']:.0%}, max {cv['max_abs_error']:.0%}"
        )
    return calibration


def level_text(level: float | None) -> str:
    return "not probed" if level is None else f"{level:.3f} ms (the probe network's lower quartile)"


def machine_usual(args) -> tuple[float | None, str]:
    """This machine's usual level (ms) and where it comes from: ``--usual-level``, else the calibrations kept in the
    store before this run (``kept_level``); None when neither gives it."""
    if args.usual_level is not None:
        return args.usual_level, "--usual-level"
    return kept_level(args.threads), f"its calibrations kept in the store at {args.threads} threads"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def quiet_verdict(levels: dict[str, float | None], usual: float | None, source: str) -> tuple[bool | None, str]:
    """Whether the run timed this machine at its usual level, and a line saying so: each of ``levels`` (the
    calibrations', the measurements') against ``usual`` (``quiet.slowed``). None when either is unknown: a whole
    run at one slow level looks quiet against its own probes."""
    known = {name: level for name, level in levels.items() if level is not None}
    if usual is None or not known:
        why = "no level was probed" if usual is not None else "no calibration is kept here; --usual-level MS gives it"
        return None, f"quiet: unknown ({why}), so this run cannot tell whether it timed the machine at its usual speed"
    shown = ", ".join(f"{name} {level:.3f} ms ({level / usual - 1:+.0%})" for name, level in known.items())
    against = f"this machine's usual level {usual:.3f} ms ({source})"
    slow = [name for name, level in known.items() if slowed(level, usual)]
    if slow:
        return False, (
            f"NOT QUIET: {_and(slow)} ran over {SLOW_LEVEL - 1:.0%} slower than {against}: {shown}. The "
            "accuracy target is for a quiet machine, so this run does not measure it"
        )
    return True, f"quiet: {shown}, against {against}"


def slow_start(level: float, usual: float, source: str, waited_s: float) -> str | None:
    """Why the run should not start, when the probe after ``--wait-quiet`` still reads the machine slow against
    ``usual``; None when it does not."""
    if not slowed(level, usual):
        return None
    return (
        f"NOT QUIET: after waiting {waited_s:.0f} s the probe read {level:.3f} ms ({level / usual - 1:+.0%}), over "
        f"{SLOW_LEVEL - 1:.0%} slower than this machine's usual level {usual:.3f} ms ({source}). A run now would not "
        "measure the accuracy target, so it stops before calibrating (--even-if-slow runs it anyway)"
    )


def calibrations(args) -> dict[str, Calibration]:
    """Loaded (``--calibration``) or made here. A calibration made here whose level is more than ``SLOW_CALIBRATION``
    times the others' (a slowdown of the whole calibration, which its own probes cannot see) is made once more, and
    the one that did not run slow is kept, else the one with more quiet networks (a slow host also cuts a calibration
    short: fewer noisy networks can be fewer networks)."""
    found: dict[str, Calibration] = {}
    for path in args.calibration or []:
        with open(path, encoding="utf-8") as handle:
            loaded = Calibration.from_dict(json.load(handle))
        found[loaded.backend] = loaded
        print(f"{loaded.backend}: loaded {path} (calibrated in {loaded.seconds:.0f} s, {loaded.contents()})")
    made = [backend for backend in args.backends if backend not in found]
    for backend in made:
        found[backend] = calibrate_and_report(backend, args)
    for backend in made:
        usual = level_of(found.values())
        if slowed(found[backend].level_ms, usual, SLOW_CALIBRATION):
            print(f"{backend}: calibrated at a slow level against the usual {usual:.3f} ms: calibrating again")
            again = calibrate_and_report(backend, args)
            found[backend] = min(
                (found[backend], again), key=lambda c: (slowed(c.level_ms, usual, SLOW_CALIBRATION), -c.quiet_networks)
            )
            kept = found[backend]
            print(
                f"{backend}: kept the calibration at level {level_text(kept.level_ms)}, "
                f"{kept.quiet_networks} of {len(kept.networks)} networks quiet"
            )
    if args.save_dir:
        for backend in made:
            save(found[backend], args.save_dir)
    return found


def halves(configs: list, measured: dict, backend: str) -> str:
    """How far the reference reproduces itself: the odd rounds' reference against the even rounds'."""
    pairs = [
        (reference(runs[0::2]).median_ms, reference(runs[1::2]).median_ms)
        for runs in (measured.get((c, backend)) for c in configs)
        if runs and len(runs) >= 2
    ]
    if not pairs:
        return "one repeat: no halves to compare"
    agree = sum(abs(odd / even - 1) <= WITHIN for odd, even in pairs)
    return (
        f"the odd rounds' reference within +-10% of the even rounds' for {agree}/{len(pairs)} = "
        f"{agree / len(pairs):.0%} of the configs (how well a reference of half the repeats reproduces itself)"
    )


def quantiles(values: list[float]) -> str:
    if len(values) < 2:
        return "n/a"
    q = statistics.quantiles(values, n=10, method="inclusive")
    return f"p10 {q[0]:+.0%}, median {statistics.median(values):+.0%}, p90 {q[-1]:+.0%}"


def accuracy(backend: str, predictor: Predictor, configs: list, measured: dict, quiet: bool | None) -> dict | None:
    """Prints the held-out accuracy; returns it as the record ``expected_error`` is read from."""
    rows = []
    for config in configs:
        runs = measured.get((config, backend))
        if not runs:
            continue
        ref = reference(runs)
        prediction = predictor.predict(config)
        rows.append((config, prediction, ref.median_ms, prediction.predicted_ms / ref.median_ms - 1, spread(runs)))
    if not rows:
        print(f"{backend}: nothing measured")
        return None
    errors = [row[3] for row in rows]
    inside = sum(abs(e) <= WITHIN for e in errors)
    where = {True: "", False: "; NOT QUIET, see above", None: "; quiet unknown, see above"}[quiet]
    print(f"\n{backend}: {inside}/{len(rows)} = {inside / len(rows):.0%} within +-10% (target >= 90%{where})")
    print(
        f"  signed error (predicted/measured - 1): {quantiles(errors)}; "
        f"|error| median {statistics.median(map(abs, errors)):.0%}, max {max(map(abs, errors)):.0%}"
    )
    level = statistics.median(1 + e for e in errors)
    shape = sum(abs((1 + e) / level - 1) <= WITHIN for e in errors)
    print(
        f"  with the calibration's level against the measurements' taken off (their median ratio, {level:.3f}): "
        f"{shape}/{len(rows)} = {shape / len(rows):.0%} within +-10% (not the target: it separates the machine's "
        "drift between calibration and measurement from the predictor's error across configs)"
    )
    print(f"  extrapolated: {sum(row[1].extrapolated for row in rows)} of {len(rows)}")
    spreads = [row[4] for row in rows]
    print(
        f"  repeatability of the measurements (max-min of the repeats / median): median "
        f"{statistics.median(spreads):.0%}, max {max(spreads):.0%}; {halves(configs, measured, backend)}"
    )
    print("  worst five:")
    for config, prediction, ms, error, rep in sorted(rows, key=lambda r: -abs(r[3]))[:5]:
        size = "x".join(map(str, config.input_size))
        print(
            f"    {config.label} at {size}: predicted {prediction.predicted_ms:.2f} ms, measured {ms:.2f} ms "
            f"({error:+.0%}; repeats spread {rep:.0%}){' [extrapolated]' if prediction.extrapolated else ''}"
        )
    return {
        "configs": len(rows),
        "within_10_percent": inside / len(rows),
        "median_abs_error": statistics.median(map(abs, errors)),
        "max_abs_error": max(map(abs, errors)),
        "repeat_spread_median": statistics.median(spreads),
        "load_average": os.getloadavg()[0],
        "measured_at": time.time(),
    }


def _tied(a, b) -> bool:
    return a.timing.q1_ms <= b.median_ms <= a.timing.q3_ms or b.timing.q1_ms <= a.median_ms <= b.timing.q3_ms


def kendall_tau_b(scores: list[float], measured: list) -> float:
    """Kendall's tau-b of ``scores`` against ``measured`` (Measurements; IQR overlap is a tie)."""
    concordant = discordant = tied_x = tied_y = 0
    for i in range(len(scores)):
        for j in range(i + 1, len(scores)):
            tie_x, tie_y = _tied(measured[i], measured[j]), scores[i] == scores[j]
            if tie_x and tie_y:
                continue
            if tie_x:
                tied_x += 1
            elif tie_y:
                tied_y += 1
            elif (scores[i] - scores[j]) * (measured[i].median_ms - measured[j].median_ms) > 0:
                concordant += 1
            else:
                discordant += 1
    denominator = math.sqrt((concordant + discordant + tied_x) * (concordant + discordant + tied_y))
    return (concordant - discordant) / denominator if denominator else float("nan")


def tau_text(value: float) -> str:
    return "undefined (every measured pair tied within its IQR)" if math.isnan(value) else f"{value:+.2f}"


def rank(backend: str, predictor: Predictor, measured: dict) -> None:
    for width in (1.0, 0.5):
        configs = [ShuffleNetConfig(g, width) for g in PAPER_GROUPS]
        if not all(measured.get((c, backend)) for c in configs):
            continue
        refs = [reference(measured[(c, backend)]) for c in configs]
        predicted = [predictor.predict_ms(c) for c in configs]
        macs = [float(total_macs(list(cached_kernels(c)))) for c in configs]
        print(
            f"  {width:g}x, g = {PAPER_GROUPS}: tau predicted {tau_text(kendall_tau_b(predicted, refs))} (target >= 0.8), "
            f"multiply-adds {tau_text(kendall_tau_b(macs, refs))}; measured ms "
            f"{', '.join(f'{r.median_ms:.2f}' for r in refs)}; predicted {', '.join(f'{p:.2f}' for p in predicted)}"
        )


def speed(predictor: Predictor) -> None:
    config = ShuffleNetConfig(3, 1.0)
    predictor.predict(config)
    start, count = time.perf_counter(), 200
    for _ in range(count):
        predictor.predict(config)
    one_ms = (time.perf_counter() - start) / count * 1e3
    sweep = [ShuffleNetConfig(g, 0.1 + i * 0.1) for g in PAPER_GROUPS for i in range(40)]
    cold_start = time.perf_counter()
    for config in sweep:
        predictor.predict(config)
    cold = time.perf_counter() - cold_start
    warm_start = time.perf_counter()
    for config in sweep:
        predictor.predict(config)
    warm = time.perf_counter() - warm_start
    print(
        f"  speed: one prediction {one_ms:.2f} ms (target < 5 ms); 5 g x 40 width sweep {warm:.3f} s warm, "
        f"{cold:.3f} s cold (target < 1 s)"
    )


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault(MEMORY_ENV, "12000")  # width 4 at 720x1280 needs more than a server's default limit
    parser = OneLineParser(description=__doc__.split("\n")[0])  # a bad argument: one line, exit 2
    parser.add_argument("--backends", default="ort,openvino", type=lambda s: s.split(","))
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--calibration", action="append", help="a saved calibration JSON (repeat per backend)")
    parser.add_argument("--save-dir", help="write calib-<backend>.json here")
    parser.add_argument(
        "--keep", action="store_true", help="keep each calibration, with its held-out error, in the result store"
    )
    parser.add_argument("--configs", type=integer("an integer from 1", low=1), default=40)
    parser.add_argument("--repeats", type=integer("an integer from 1", low=1), default=5)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument(
        "--min-time",
        type=number("seconds above 0", low=1e-3),
        default=1.0,
        help="seconds of timed runs per measurement",
    )
    parser.add_argument(
        "--wait-quiet",
        type=number("seconds from 0", low=0),
        default=0.0,
        help="seconds to wait for a quiet machine first",
    )
    parser.add_argument(
        "--measured",
        help="score the predictors against a saved measured.json (--save-dir) instead of measuring again",
    )
    parser.add_argument(
        "--usual-level",
        type=number("a probe time in ms above 0, e.g. 0.85", low=1e-3),
        help="this machine's usual level, the probe network's time in ms (default: from its calibrations kept in the "
        "store); the run says whether it timed the machine at that level",
    )
    parser.add_argument(
        "--wait-shared",
        type=number("seconds from 0", low=0),
        default=60.0,
        help="seconds each measurement may wait for the host to stop sharing the threads, and for the machine's level",
    )
    parser.add_argument(
        "--even-if-slow",
        action="store_true",
        help="calibrate and measure even when the machine is still slow after --wait-quiet",
    )
    args = parser.parse_args(argv)
    print(f"start: {load_text()}")
    usual, source = machine_usual(args)
    if args.wait_quiet > 0:
        share = wait_until_quiet(args.wait_quiet, window_s=2.0, threads=args.threads)
        print(f"waited for quiet: other processes used {share if share is None else f'{share:.0%}'} of the CPUs")
        if usual is not None and not args.measured:
            level, waited = wait_for_level(args.threads, usual, args.wait_quiet)
            print(
                f"waited {waited:.0f} s for this machine's usual level {usual:.3f} ms ({source}): probe {level:.3f} ms"
            )
            why = slow_start(level, usual, source, waited)
            if why and not args.even_if_slow:
                print(why)
                return 1
    predictors = {backend: Predictor(c) for backend, c in calibrations(args).items() if backend in args.backends}
    paper = [ShuffleNetConfig(g, w) for w in (1.0, 0.5) for g in PAPER_GROUPS]
    configs = random_configs(args.configs, args.seed)
    if args.measured:
        measured = load_measured(args.measured, args.threads)
    else:
        print(
            f"measuring {len(configs)} held-out configs + {len(paper)} paper configs x {list(predictors)} "
            f"x {args.repeats} interleaved repeats",
            flush=True,
        )
        levels = [n.probe_ms for p in predictors.values() for n in p.calibration.networks if n.probe_ms is not None]
        measured = measure_all(
            configs + paper, list(predictors), args.repeats, args.threads, args.min_time, args.wait_shared, levels
        )
        if args.save_dir:
            save_measured(measured, args.save_dir)
    run_levels = {f"{b} calibration": p.calibration.level_ms for b, p in predictors.items()}
    run_levels["measurements"] = usual_level([r.level_ms for runs in measured.values() for r in runs])
    quiet, verdict = quiet_verdict(run_levels, usual, source)
    print(f"\n{verdict}")
    for backend, predictor in predictors.items():
        held_out = accuracy(backend, predictor, configs, measured, quiet)
        rank(backend, predictor, measured)
        speed(predictor)
        if held_out:  # the held-out error travels with the calibration (``expected_error``)
            calibration = predictor.calibration
            calibration = dataclasses.replace(calibration, extra={**calibration.extra, "held_out": held_out})
            if args.save_dir:
                save(calibration, args.save_dir)
            if args.keep:
                kept = keep_new(calibration)
                if kept.stays is not None:
                    print(f"{backend}: {stays_text(kept.calibration, kept.stays)}")
                else:
                    why = noisy_text(kept.calibration)
                    print(f"{backend}: kept in the result store with its held-out error{f'; {why}' if why else ''}")
    print(f"\nend: {load_text()}")
    return 0


if __name__ == "__main__":
    from report import run_and_report  # benchmarks/report.py: this run's output into docs/benchmarks.md

    raise SystemExit(run_and_report("predictor_accuracy", main))
