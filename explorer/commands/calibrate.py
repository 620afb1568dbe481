"""``calibrate``: time and profile the networks the latency predictor is fitted on, and keep them (or list / clear them).

    python -m explorer calibrate                      # every backend (ort, openvino) at all cores, if needed
    python -m explorer calibrate --backend ort --threads 1 --force
    python -m explorer calibrate --list [--json]      # every kept calibration, this machine's or not
    python -m explorer calibrate --clear [--backend B] [--threads N]

A calibration is made only when this machine has none for these library versions, backend and
thread count, or the kept one is noisy (``--force`` makes one anyway); otherwise the command says
the kept one is current. Progress goes to stderr, one line every few networks. It holds the
measurement lock while it times (2-3 minutes per backend, ``--budget``), and keeps the
calibration only once complete: Ctrl-C leaves the store as it was. Exit status: 0, 1 when a
calibration failed or was interrupted (130 for Ctrl-C), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time

from ..latency.backends import one_line
from ..latency.predictor import (
    BACKENDS,
    Kept,
    Predictor,
    calibrate,
    calibration_needed,
    clear_kept,
    ignored_here,
    keep_new,
    kept_calibration,
    kept_rows,
)
from ..latency.predictor.calibration import DEFAULT_BUDGET_S
from ..latency.predictor.labels import backend_label, error_text, noisy_text, stays_text, threads_text
from ..latency.threads import default_threads
from ..latency.timing import Cancelled, measurement_lock
from ..machine import versions
from ..store import age_text
from .common import add_json_argument, format_table, number, paragraph, print_json
from .predict import backend_choice, threads_argument

HELP = "calibrate the latency predictor on this machine (or --list / --clear the kept calibrations)"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
MIN_BUDGET_S, MAX_BUDGET_S = 1.0, 1800.0
PROGRESS_EVERY_S = 2.0  # at most one progress line this often (and the last network's)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--backend",
        type=backend_choice,
        default=None,
        help=f"one of {', '.join(BACKENDS)} (default: each of them; with --clear: any)",
    )
    threads_argument(parser)
    parser.add_argument(
        "--budget",
        type=number(f"seconds from {MIN_BUDGET_S:g} to {MAX_BUDGET_S:g}", MIN_BUDGET_S, MAX_BUDGET_S),
        default=DEFAULT_BUDGET_S,
        metavar="S",
        help=f"seconds a backend's calibration aims for (default {DEFAULT_BUDGET_S:g})",
    )
    parser.add_argument("--force", action="store_true", help="calibrate even when the kept calibration is current")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--list", action="store_true", help="list every kept calibration and stop")
    action.add_argument(
        "--clear",
        action="store_true",
        help="remove the kept calibrations (all, or those of --backend / --threads) and stop",
    )
    add_json_argument(parser)


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def list_kept(as_json: bool) -> int:
    rows = kept_rows()
    if as_json:
        print_json({"calibrations": [row.to_dict() for row in rows], "ignored_here": ignored_here()})
        return 0
    if not rows:
        print("No calibration is kept. Make one with: python -m explorer calibrate")
        return 0
    now, current = time.time(), versions()
    table = [
        (
            r.backend,
            r.threads,
            age_text(now - r.created_at),
            _yes(r.noisy),
            "this" if r.this_machine else "other",
            "current" if r.versions == current else "other",
            _yes(r.current),
        )
        for r in rows
    ]
    print(format_table(("Backend", "Threads", "Kept", "Noisy", "Machine", "Versions", "Used here"), table))
    for reason in ignored_here():
        print(paragraph(f"Note: {reason}."))
    return 0


def clear(backend: str | None, threads: int | None) -> int:
    removed = clear_kept(backend, threads)
    which = " of ".join(part for part in ("", backend or "", threads_text(threads) if threads else "") if part)
    print(f"Removed {removed} kept calibration{'s' if removed != 1 else ''}{f' ({which.strip()})' if which else ''}.")
    return 0


def _progress(backend: str):
    last = [0.0]

    def report(done: int, total: int, text: str) -> None:
        now = time.monotonic()
        if done == total or now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            print(f"  {backend} {done}/{total} networks timed and profiled · {text}", file=sys.stderr, flush=True)

    return report


def summary(kept: Kept) -> str:
    calibration = kept.calibration
    made = (
        f"the {backend_label(calibration.backend)} calibration at {threads_text(calibration.threads)}: "
        f"{calibration.contents()} in {calibration.seconds:.0f} s"
    )
    if kept.stays is not None:
        return f"made {made}. {stays_text(calibration, kept.stays)}"
    noisy = f"; {noisy_text(calibration)}" if calibration.noisy else ""
    return f"kept {made}; {error_text(Predictor(calibration).expected_error)}{noisy}"


def calibrate_one(backend: str, threads: int, force: bool, budget_s: float) -> int:
    reason = calibration_needed(backend, threads)
    if reason is None and not force:
        kept = kept_calibration(backend, threads)
        print(
            f"The {backend_label(backend)} calibration at {threads_text(threads)} is current (kept "
            f"{age_text(time.time() - kept.created_at)}, quiet): nothing to do (--force calibrates again)."
        )
        return 0
    why = reason or "--force"
    print(
        f"Calibrating {backend_label(backend)} at {threads_text(threads)} ({why}; about {budget_s:.0f} s, "
        "waits for other measurements)…",
        file=sys.stderr,
        flush=True,
    )
    try:
        with measurement_lock():
            calibration = calibrate(backend, threads, progress=_progress(backend), budget_s=budget_s)
    except (KeyboardInterrupt, Cancelled):
        print(f"Calibration of {backend_label(backend)} interrupted: nothing kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (RuntimeError, OSError, ImportError) as error:  # a runtime that cannot run a network here
        print(f"Calibration of {backend_label(backend)} failed, nothing kept: {one_line(error)}", file=sys.stderr)
        return EXIT_FAILED
    print(summary(keep_new(calibration)))
    return 0


def run(args: argparse.Namespace) -> int:
    if (args.list or args.clear) and args.force:
        raise ValueError("--force is not allowed with --list or --clear: it applies to calibrating")
    if args.list:
        if args.backend or args.threads:
            raise ValueError("--backend and --threads are not allowed with --list: it lists every kept calibration")
        return list_kept(args.json)
    if args.json:
        raise ValueError("--json is allowed only with --list: calibrating and clearing print one summary line")
    if args.clear:
        return clear(args.backend, args.threads)
    threads = default_threads() if args.threads is None else args.threads
    status = 0
    for backend in [args.backend] if args.backend else BACKENDS:
        status = calibrate_one(backend, threads, args.force, args.budget) or status
        if status == EXIT_INTERRUPTED:
            break
    return status
