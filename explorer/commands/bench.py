"""``bench``: CPU latency of one model, or the paper's Table 8 on this machine.

    python -m explorer bench --groups 3 --width 1.0   # torch,ort,openvino (where available) unless --backends
    python -m explorer bench --groups 3 --width 1.0 --backends torch,ort
    python -m explorer bench --model alexnet --input 480x640
    python -m explorer bench --table8 --json          # backends ort,openvino unless --backends
    python -m explorer bench --groups 3 --backends ort --repeat 2   # repeatability check

Every figure is measured here except the columns marked "reported in the paper".
``--table8`` also profiles 0.5x arch2 and AlexNet at 224x224 with ONNX Runtime's profiler
(on the exports it already made) to explain, in the ``verdict`` line, why the measured
speedup differs from the multiply-add ratio.

Every measurement is also kept in the result store (``python -m explorer results``), where
the app shows it. A backend that fails for a config (ONNX export, onnx.checker, outputs against PyTorch,
ONNX Runtime session or run) is listed with its step and reason (stderr as it happens,
a "Failed" table, and ``failures`` in the JSON); the other backends are still measured.
Exit status: 0 when at least one measurement was made, 1 when every one failed
(``EXIT_NOTHING_MEASURED``), 2 for bad arguments. ``--traceback`` also prints each
failure's Python traceback on stderr. The tables and notes are printed by ``bench_report``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Iterator

from .. import latency, paper
from ..counting import MemoryRefused, check_memory
from ..latency.export import cpu_has_vnni
from ..latency.kernel_profile import overhead_text, profile_ort
from ..latency.roofline import gemm_peak
from ..latency.stored import open_store
from ..latency.timing import DEFAULT_MIN_TIME
from ..shufflenet import AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from .bench_report import (
    failure_line,
    fmt,
    print_failures,
    print_footer,
    print_header,
    print_measurements,
    print_repeat,
)
from .common import add_json_argument, add_model_arguments, format_table, input_size, integer, number, print_json

HELP = "measure CPU latency (PyTorch, ONNX Runtime, OpenVINO) of one model, or reproduce the paper's Table 8 here"
EXIT_NOTHING_MEASURED = 1
MODEL_FLAGS = ("groups", "width", "variant", "shuffle", "input")
MAX_REPEAT = 10  # each pass re-measures everything: a typo like --repeat 1000 would run for hours
MAX_WAIT_QUIET = 3600
MAX_MIN_TIME = 60  # what LatencyRunner accepts; checked here too so the error comes before any counting


def backend_list(text: str) -> tuple[str, ...]:
    try:
        return latency.parse_backends(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def input_list(text: str) -> tuple[tuple[int, int], ...]:
    sizes = []
    for part in text.split(","):
        size = input_size(part.strip())
        if size not in paper.TABLE8_INPUTS:
            raise argparse.ArgumentTypeError(
                f"{part.strip()!r} is not one of Table 8's inputs "
                f"({', '.join(f'{h}x{w}' for h, w in paper.TABLE8_INPUTS)})"
            )
        sizes.append(size)
    return tuple(dict.fromkeys(sizes))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    # None = "not given", so --table8 can refuse model flags it would ignore.
    parser.set_defaults(groups=None, width=None, variant=None, shuffle=None, input=None)
    parser.add_argument(
        "--model",
        choices=("shufflenet", "alexnet", "mobilenet"),
        default="shufflenet",
        help="which network (mobilenet uses --width as its multiplier alpha)",
    )
    parser.add_argument(
        "--table8",
        action="store_true",
        help="the paper's Table 8: ShuffleNet 0.5x arch2 g=3, 1x g=3 and AlexNet at three inputs",
    )
    parser.add_argument(
        "--inputs",
        type=input_list,
        default=None,
        metavar="LIST",
        help="with --table8: only these of its inputs, e.g. 224x224,480x640 (default all three)",
    )
    parser.add_argument(
        "--backends",
        type=backend_list,
        default=None,
        metavar="LIST",
        help=f"comma-separated, from {', '.join(latency.available_backends())} (default "
        f"{','.join(latency.default_backends())}: PyTorch and the FP32 runtimes; with --table8 "
        f"{','.join(latency.TABLE8_BACKENDS)})",
    )
    threads = integer(f"an integer from 1 to {latency.MAX_THREADS}", 1, latency.MAX_THREADS)
    parser.add_argument(
        "--threads",
        type=threads,
        default=None,
        help=f"threads for every backend (default: all {latency.default_threads()} cores)",
    )
    parser.add_argument(
        "--batch",
        type=integer(f"an integer from 1 to {latency.MAX_BATCH}", 1, latency.MAX_BATCH),
        default=1,
        help="batch size (default 1)",
    )
    parser.add_argument(
        "--min-time",
        type=number(f"seconds from 0 to {MAX_MIN_TIME}", 0, MAX_MIN_TIME),
        default=DEFAULT_MIN_TIME,
        metavar="S",
        help=f"seconds of timed runs per measurement (default {DEFAULT_MIN_TIME:g})",
    )
    parser.add_argument(
        "--repeat",
        type=integer(f"an integer from 1 to {MAX_REPEAT}", 1, MAX_REPEAT),
        default=1,
        help="measure everything N times and print the ratio of the medians (repeatability)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=number(f"seconds from 0 to {MAX_WAIT_QUIET}", 0, MAX_WAIT_QUIET),
        default=0.0,
        metavar="S",
        help="before each measurement, wait up to S seconds until other processes use at most 10%% "
        "of the CPUs, and time it again if the host was sharing its threads meanwhile "
        "(for shared machines; default 0: do not wait)",
    )
    parser.add_argument(
        "--traceback",
        action="store_true",
        help="print the Python traceback of each backend that fails (default: one line each)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead of timing: ONNX Runtime's per-node profile of the model, grouped by what "
        "each node does, with multiply-adds per second per group (backends ort / ort-int8)",
    )
    add_json_argument(parser)


def config_from_args(args: argparse.Namespace):
    size = args.input or (224, 224)
    if args.model == "alexnet":
        ignored = [f"--{f.replace('_', '-')}" for f in ("groups", "width", "variant") if getattr(args, f) is not None]
        if ignored or args.shuffle is not None:
            raise ValueError(
                f"{', '.join(ignored) or '--no-shuffle'} is not allowed with --model alexnet: "
                "AlexNet takes only --input"
            )
        return AlexNetConfig(input_size=size)
    if args.model == "mobilenet":
        if args.groups is not None or args.variant is not None or args.shuffle is not None:
            raise ValueError(
                "--groups/--variant/--no-shuffle are not allowed with --model mobilenet: "
                "MobileNet v1 takes --width and --input"
            )
        return MobileNetConfig(width=1.0 if args.width is None else args.width, input_size=size)
    return ShuffleNetConfig(
        groups=3 if args.groups is None else args.groups,
        width=1.0 if args.width is None else args.width,
        variant=args.variant or "standard",
        shuffle=True if args.shuffle is None else args.shuffle,
        input_size=size,
    )


def jobs_from_args(args: argparse.Namespace) -> list:
    if args.backends is None:
        args.backends = latency.TABLE8_BACKENDS if args.table8 else latency.default_backends()
    if args.table8:
        given = [f for f in MODEL_FLAGS if getattr(args, f) is not None]
        if given or args.model != "shufflenet":
            flags = ", ".join("--no-shuffle" if f == "shuffle" else f"--{f}" for f in given) or "--model"
            raise ValueError(
                f"{flags} is not allowed with --table8: Table 8 measures the paper's three models at its three inputs"
            )
        inputs = args.inputs or paper.TABLE8_INPUTS
        return [(c, b) for c, b in latency.table8_jobs(args.backends) if c.input_size in inputs]
    if args.inputs is not None:
        raise ValueError("--inputs is only allowed with --table8 (use --input for one model)")
    config = config_from_args(args)
    return [(config, backend) for backend in args.backends]


def run_profile(args: argparse.Namespace) -> int:
    if args.table8:
        raise ValueError("--profile is not allowed with --table8: profile one model at a time")
    config = config_from_args(args)
    check_memory(config, args.batch, ["ort"])
    threads = latency.check_threads(args.threads or latency.default_threads())
    with latency.measurement_lock():
        peak = gemm_peak(threads)
    payload = {
        "machine": latency.machine_dict(threads, peak),
        "model": config.label,
        "input": list(config.input_size),
        "profiles": {},
    }
    for backend in [b for b in args.backends or () if b in ("ort", "ort-int8")] or ["ort"]:
        profile = profile_ort(config, threads, batch=args.batch, int8=backend == "ort-int8")
        payload["profiles"][backend] = profile.to_dict(peak.macs_per_s)
    if args.json:
        print_json(payload)
        return 0
    print(
        f"{config.label} at {config.input_size[0]}x{config.input_size[1]}, batch {args.batch}, {threads} threads; "
        f"FP32 GEMM peak {peak.gmacs:.1f} G multiply-adds/s\n"
    )
    for backend, profile in payload["profiles"].items():
        print(
            f"{latency.BACKENDS[backend].label}: "
            + overhead_text(profile["kernel_ms_per_run"], profile["median_ms_without_profiler"])
        )
        print(
            format_table(
                ("Where", "ms/run*", "Share", "Nodes", "MACs (M)", "GMAC/s", "% of GEMM"),
                [
                    (
                        r["category"],
                        f"{r['scaled_ms']:.3f}",
                        f"{100 * r['share']:.1f}%",
                        r["nodes"],
                        f"{r['macs'] / 1e6:.1f}",
                        fmt(r["gmacs"], 1),
                        fmt(None if r["fraction_of_gemm"] is None else 100 * r["fraction_of_gemm"], 0),
                    )
                    for r in profile["rows"]
                ],
            )
        )
        print()
    print(
        "* each group's share of the profiled kernel time x the median without the profiler; GMAC/s over that "
        "time. MACs from the shapes ORT reports (NCHWc pads channels to multiples of 8, so grouped "
        "layers may count a little more than the model's own multiply-adds)."
    )
    return 0


@contextlib.contextmanager
def _failure_tracebacks(shown: bool) -> Iterator[None]:
    """Where the library's logged failures go: stderr with tracebacks, or nowhere (each is printed in one line)."""
    logger = logging.getLogger("explorer")
    handler = logging.StreamHandler(sys.stderr) if shown else logging.NullHandler()
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _verdict_profiles(runner: latency.LatencyRunner, measurements) -> list:
    """ORT profiles of the verdict's two models, when both were exported here; a failure costs the verdict only."""
    try:
        return [runner.profile(c) for c in latency.to_profile(measurements)]
    except Exception as error:  # noqa: BLE001 - the measurements stand; say why there is no verdict
        print(f"No verdict: ONNX Runtime's profile failed: {latency.one_line(error)}", file=sys.stderr)
        return []


def _repeat_ratios(passes: list) -> list[dict]:
    """Max/min median of each (config, backend) measured in every pass (a backend that failed once is left out)."""
    by_key = [{m.key(): m for m in p.measurements} for p in passes]
    ratios = []
    for key, first in by_key[0].items():
        if all(key in measured for measured in by_key):
            medians = [measured[key].median_ms for measured in by_key]
            ratios.append(
                {
                    "model": first.model,
                    "input": list(first.input_size),
                    "backend": first.backend,
                    "medians_ms": medians,
                    "ratio": max(medians) / min(medians),
                }
            )
    return ratios


def run(args: argparse.Namespace) -> int:
    if args.profile:
        return run_profile(args)
    jobs = jobs_from_args(args)
    for config in dict.fromkeys(c for c, _ in jobs):
        try:
            check_memory(config, args.batch, [b for c, b in jobs if c == config])
        except MemoryRefused:
            raise
        except Exception:  # noqa: BLE001, S112 - the model does not even count: its measurements record why
            continue
    start = time.perf_counter()
    passes: list = []

    store = open_store()  # every measurement is kept for the app and later runs (``results`` lists them)
    for warning in store.warnings:
        print(f"warning: {warning}", file=sys.stderr)

    def progress(done: int, total: int, m) -> None:
        if isinstance(m, latency.BackendFailure):
            print(f"[{done}/{total}] {failure_line(m)}", file=sys.stderr, flush=True)
            return
        store.put(m)
        if not args.json:
            print(
                f"[{done}/{total}] {m.model} {m.input_size[0]}x{m.input_size[1]} {m.backend}: {m.median_ms:.2f} ms",
                file=sys.stderr,
                flush=True,
            )

    if not 0 <= args.wait_quiet <= MAX_WAIT_QUIET:
        raise ValueError(f"--wait-quiet={args.wait_quiet:g} is not allowed: give 0 to {MAX_WAIT_QUIET} seconds")
    with (
        _failure_tracebacks(args.traceback),
        latency.LatencyRunner(
            threads=args.threads, batch=args.batch, min_time=args.min_time, wait_quiet=args.wait_quiet
        ) as runner,
    ):
        for _ in range(args.repeat):
            passes.append(runner.measure_many(jobs, progress=progress))
        profiles = _verdict_profiles(runner, passes[-1].measurements) if args.table8 else []
        export_s = runner.export_s
        machine = latency.machine_dict(runner.threads, runner.peak)
    if not store.database.retry():  # the database went away during the run and is still away
        print(
            f"warning: {store.database.pending} result(s) of this run could not be stored: the database "
            f"({store.database.location}) did not answer; they are printed below only.",
            file=sys.stderr,
        )
    measurements = passes[-1].measurements
    failures = list({(f.config, f.backend, f.stage, f.reason): f for p in passes for f in p.failures}.values())
    payload = {
        "machine": {**machine, "int8_vnni": cpu_has_vnni()},
        "settings": {
            "threads": machine["threads"],
            "batch": args.batch,
            "min_time_s": args.min_time,
            "wait_quiet_s": args.wait_quiet,
            "backends": list(args.backends),
            "table8": args.table8,
        },
        "results": latency.table8_records(measurements) if args.table8 else [m.to_dict() for m in measurements],
        "summary": latency.summary(measurements, profiles, runner.peak.macs_per_s if runner.peak else None),
        "failures": [f.to_dict() for f in failures],
        "wall_s": time.perf_counter() - start,
        "export_s": export_s,
    }
    status = 0 if measurements else EXIT_NOTHING_MEASURED
    if args.repeat > 1:
        ratios = _repeat_ratios(passes)
        worst = max((r["ratio"] for r in ratios), default=None)
        payload["repeat"] = {
            "runs": args.repeat,
            "items": ratios,
            "worst_ratio": worst,
            "within_10_percent": worst is not None and worst <= 1.10,
        }
    if args.json:
        print_json(payload)
        return status
    print_header(payload["machine"], args)
    if measurements:
        print_measurements(measurements, args.table8)
    if failures:
        print_failures(failures)
    if args.repeat > 1 and payload["repeat"]["items"]:
        print_repeat(payload["repeat"]["items"])
    print_footer(payload, args.table8)
    return status
