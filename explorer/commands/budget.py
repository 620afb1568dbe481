"""``budget``: which model fits my budget in multiply-adds, parameters or milliseconds, and what it costs in error.

    python -m explorer budget --mflops 40            # million multiply-adds, paper convention
    python -m explorer budget --params 1.5           # million parameters
    python -m explorer budget --ms 5 [--backend ort] [--threads 2]   # on this machine

For each g (and variant: all three for multiply-adds and parameters, ``--variant`` to
pick one; standard for milliseconds) the widest width that fits, and the widest model the
paper reports an error for that fits, ranked by ``SORT_RULE`` with a one-sentence verdict.
Multiply-adds, parameters, activations and peak activation memory are computed here (closed
form); the error only where the paper reports that exact model (marked, with its tables);
the latency where one was measured (the result store; ``--ms`` measures what is missing) and, with a
calibration kept for the backend and threads (``python -m explorer calibrate``), every candidate's
predicted latency, marked "predicted here". ``--ms`` with a calibration picks each g's widest width
by the prediction and confirms it with one or two measurements
(``explorer.sizing.predicted_search``); without one it searches by measuring
(``explorer.sizing.latency_search``).
Exit status: 0 when something fits, 0 too when nothing does (the answer then says the
smallest budget that fits each g and variant), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys

from .. import latency
from ..counting import CONVENTIONS, LATENCY, PEAK_ACTIVATIONS
from ..counting.tables import config_dict
from ..shufflenet import MAX_GROUPS, PAPER_GROUPS, VARIANTS
from ..sizing.budget import WIDTH_STEP
from ..sizing.decision import KINDS, Decision, decide
from ..sizing.latency_search import DEFAULT_BACKEND, MAX_BUDGET_MS, SEARCH_SECONDS, search_latency_budget
from ..sizing.predicted import MEASURED
from ..sizing.predicted_search import predicted_latency_budget
from .common import (
    add_json_argument,
    footnotes,
    format_table,
    human,
    input_size,
    integer,
    number,
    paragraph,
    print_json,
)

MAX_MFLOPS = 1_000_000
MAX_MPARAMS = 1_000
LIMITS = {
    "mflops": (MAX_MFLOPS, "MFLOPs"),
    "params": (MAX_MPARAMS, "million parameters"),
    "ms": (MAX_BUDGET_MS, "milliseconds"),
}
HELP = "which ShuffleNet fits a budget in multiply-adds, parameters or milliseconds, and at what reported error"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    kind = parser.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--mflops",
        type=number(f"a budget above 0 and up to {MAX_MFLOPS} MFLOPs"),
        help="budget in millions of multiply-adds (the paper's MFLOPs), e.g. 40",
    )
    kind.add_argument(
        "--params",
        type=number(f"a budget above 0 and up to {MAX_MPARAMS} million parameters"),
        help="budget in millions of parameters, e.g. 1.5",
    )
    kind.add_argument(
        "--ms",
        type=number(f"a budget above 0 and up to {MAX_BUDGET_MS:g} milliseconds"),
        help="budget in milliseconds per image on this machine (measures what is not stored; with a "
        "calibration kept for the backend and threads, the prediction picks the widths and one or "
        "two measurements per g confirm them)",
    )
    parser.add_argument(
        "--groups",
        type=group_list,
        default=PAPER_GROUPS,
        metavar="LIST",
        help="comma-separated group counts from 1 to 64 (default the paper's 1,2,3,4,8)",
    )
    parser.add_argument(
        "--variant", choices=VARIANTS, default=None, help="only this variant (default: all three; standard for --ms)"
    )
    parser.add_argument("--input", type=input_size, default=(224, 224), metavar="HxW")
    parser.add_argument(
        "--backend",
        choices=tuple(latency.BACKENDS),
        default=DEFAULT_BACKEND,
        help=f"runtime the latency is measured / looked up with (default {DEFAULT_BACKEND})",
    )
    parser.add_argument(
        "--threads",
        type=integer(f"an integer from 1 to {latency.MAX_THREADS}", 1, latency.MAX_THREADS),
        default=None,
        help=f"threads (default: all {latency.default_threads()} cores)",
    )
    parser.add_argument(
        "--max-seconds",
        type=number("seconds from 1 to 86400", 1, 86_400),
        default=SEARCH_SECONDS,
        metavar="S",
        help=f"--ms: stop the search after S seconds (default {SEARCH_SECONDS:g})",
    )
    parser.add_argument(
        "--remeasure-busy",
        action="store_true",
        help="--ms: measure again a stored measurement that was taken while the machine was busy",
    )
    add_json_argument(parser)


def group_list(text: str) -> tuple[int, ...]:
    """``"1,8"`` -> ``(1, 8)``; anything else is refused naming the text and what is allowed."""
    allowed = f"comma-separated integers from 1 to {MAX_GROUPS}, e.g. 1,2,3,4,8"
    parse = integer(allowed, 1, MAX_GROUPS)
    parts = [part.strip() for part in text.split(",")]
    if not all(parts):
        raise argparse.ArgumentTypeError(f"{text!r} is not allowed: give {allowed}")
    return tuple(dict.fromkeys(parse(part) for part in parts))


def _chosen(args: argparse.Namespace) -> tuple[str, float]:
    kind = next(k for k in LIMITS if getattr(args, k) is not None)
    value, (limit, unit) = getattr(args, kind), LIMITS[kind]
    if not 0 < value <= limit:
        raise ValueError(f"--{kind}={value:g} is not allowed: give a budget above 0 and up to {limit:.0f} {unit}")
    return kind, value


def open_store():
    """The persistent result store the app and ``bench`` share (``explorer.store``)."""
    from ..latency.stored import open_store as open_result_store

    return open_result_store()


def kept_predictor_for(backend: str, threads: int):
    """This machine's predictor for ``backend`` at ``threads`` (``calibrate`` keeps one), or None."""
    from ..latency.predictor import BACKENDS as CALIBRATED
    from ..latency.predictor import kept_predictor

    return kept_predictor(backend, threads) if backend in CALIBRATED else None


def candidate_dict(c, predicted: bool = False) -> dict:
    """A candidate; ``predicted``: with its predicted latency (``predicted_ms``, never ``latency_ms``)."""
    row = {
        "groups": c.config.groups,
        "variant": c.config.variant,
        "width": c.config.width,
        "origin": c.origin,
        "conv_macs": c.conv_macs,
        "params": c.params,
        "activations": c.activations,
        "peak_activation_bytes": c.peak_activation_bytes,
        "reported": c.reported_dict,
        "latency_ms": c.latency_ms,
        "url": c.url,
        "config": config_dict(c.config),
    }
    return row | ({"predicted_ms": c.predicted_ms, "extrapolated": c.extrapolated} if predicted else {})


def payload(decision: Decision, args: argparse.Namespace, threads: int, search=None) -> dict:
    keys = ("conv_macs", "params", "activations")
    conventions = {k: CONVENTIONS[k] for k in keys} | {"peak_activation_bytes": PEAK_ACTIVATIONS, "latency_ms": LATENCY}
    body = {
        "budget": {"kind": decision.kind, "value": decision.budget, "unit": KINDS[decision.kind][0]},
        "convention": KINDS[decision.kind][1] or "latency_ms",
        "width_step": WIDTH_STEP,
        "input": list(decision.input_size),
        "sort_rule": decision.rule,
        "verdict": decision.recommendation,
        "latency": {
            "backend": args.backend,
            "backend_label": latency.BACKENDS[args.backend].label,
            "threads": threads,
            "batch": 1,
        },
        "results": [candidate_dict(c, bool(decision.predicted_note)) for c in decision.candidates],
        "does_not_fit": [
            {"groups": o.groups, "variant": o.variant, "smallest_budget": o.smallest} for o in decision.over
        ],
        "conventions": {
            k: {"label": c.label, "unit": c.unit, "definition": c.definition} for k, c in conventions.items()
        },
    }
    if decision.kind == "mflops":
        body["budget_mflops"] = decision.budget
    if decision.predicted_note:
        body["latency"]["predicted"] = decision.predicted_note
    if search is not None:
        body["search"] = {
            "measured": search.measured,
            "reused": search.reused,
            "seconds": search.seconds,
            "busy": search.busy,
            "stopped": search.stopped or None,
            "groups": [_search_group(s) for s in search.searches],
        }
        if decision.predicted_note:
            body["search"]["picked_by"] = "prediction, confirmed by measuring"
    return body


def _search_group(s) -> dict:
    """One g's search; a predicted search adds its picks (width, predicted_ms) and an unmeasured step down."""
    row = {
        "groups": s.groups,
        "variant": s.variant,
        "status": s.status,
        "reason": s.reason or None,
        "probes": [{"width": p.config.width, "ms": p.ms, "stored": p.stored, "flags": p.flags} for p in s.probes],
    }
    if hasattr(s, "picks"):
        row["picks"] = [{"width": width, "predicted_ms": ms} for width, ms in s.picks]
        row["unconfirmed"] = None if s.unconfirmed is None else {"width": s.unconfirmed.width}
    return row


def latency_cell(c) -> str:
    """Measured: ``1.10 ms``; else predicted: ``3.98 pred.`` (``*``: extrapolated); else blank (fits 80 columns)."""
    if c.latency_ms is not None:
        return f"{c.latency_ms:.2f} ms"
    if c.predicted_ms is not None:
        return f"{c.predicted_ms:.2f} pred.{'*' if c.extrapolated else ''}"
    return ""


def _rows(decision: Decision) -> list[tuple]:
    return [
        (
            n,
            c.config.groups,
            c.config.variant,
            f"{c.config.width:.2f}x",
            human(c.conv_macs),
            human(c.params),
            human(c.activations),
            human(c.peak_activation_bytes, "B"),
            "" if c.reported is None else f"{c.reported.error:.1f} %",
            latency_cell(c),
        )
        for n, c in enumerate(decision.candidates, 1)
    ]


def print_decision(decision: Decision, args: argparse.Namespace, threads: int, search=None) -> None:
    unit = KINDS[decision.kind][0]
    variants = ", ".join(args.variants)
    print(
        paragraph(
            f"Budget {decision.budget:g} {unit}; input {decision.input_size[0]}x{decision.input_size[1]}; "
            f"g = {', '.join(map(str, args.groups))}; {variants}; widths in steps of {WIDTH_STEP}."
        )
    )
    holds = f"{latency.BACKENDS[args.backend].label}, {threads} thread{'s' if threads > 1 else ''}, batch 1"
    if search is not None and decision.predicted_note:
        print(
            paragraph(
                f"Each g's widest width picked by the prediction ({decision.predicted_note}), then confirmed "
                f"by measuring with {holds}: {search.measured} new measurement(s), {search.reused} from the "
                f"result store, {search.seconds:.1f} s."
            )
        )
    elif search is not None:
        print(
            paragraph(
                f"Measured here with {holds}: {search.measured} new measurement(s), {search.reused} from "
                f"the result store, {search.seconds:.1f} s."
            )
        )
    print("\n" + paragraph(decision.recommendation) + "\n")
    if decision.candidates:
        print(
            format_table(
                ("#", "g", "Variant", "Width", "MACs", "Params", "Activ.", "Peak", "Error", "Latency"), _rows(decision)
            )
        )
        print("\n" + paragraph("Sorted: " + decision.rule))
        print("\nOpen in the app (append to its address, e.g. http://127.0.0.1:8501/):")
        for n, c in enumerate(decision.candidates, 1):
            print(f"{n:>3}  {c.url}")
            if c.reported is not None:
                print(paragraph(f"error reported in the paper ({c.reported.source}: {c.reported.model})", "     "))
    if decision.over:
        unit = {"mflops": "M multiply-adds", "params": "M parameters", "ms": "ms"}[decision.kind]
        print("\nDoes not fit at any width; the smallest budget that fits (0.1x):\n")
        print(
            format_table(
                ("g", "Variant", "Smallest budget"),
                [(o.groups, o.variant, f"{o.smallest:.2f} {unit}") for o in decision.over],
            )
        )
    if search is not None:
        _print_search_notes(search)
    print()
    if decision.predicted_note:
        latency_note = (
            f'Latency: {LATENCY.definition} "ms": {MEASURED} with {holds}; "pred.": milliseconds '
            f"not measured, {decision.predicted_note}; *: extrapolated (outside the shapes the "
            "calibration sampled)."
        )
    else:
        latency_note = f"Latency: {LATENCY.definition} Here: {holds}; blank: not measured yet (budget --ms measures)."
    print(
        footnotes(
            [
                f"MACs: {CONVENTIONS['conv_macs'].definition} Params: {CONVENTIONS['params'].definition} "
                f"Activ.: {CONVENTIONS['activations'].definition} Computed here, closed form.",
                f"Peak: {PEAK_ACTIVATIONS.definition}",
                "Error: top-1 %, reported in the paper (ImageNet), only for a model the paper reports; never computed here.",
                latency_note,
            ]
        )
    )


def _print_search_notes(search) -> None:
    for s in search.searches:
        if s.status in ("stopped", "failed", "predicted only") and s.reason:
            print(paragraph(f"g = {s.groups} {s.variant}: {s.status}: {s.reason}"))
    if search.stopped:
        print("\n" + paragraph(f"The search stopped early ({search.stopped}): the answer is what it found so far."))
    if search.busy:
        print(
            "\n"
            + paragraph(
                f"{search.busy} of the measurements were taken while other processes used the CPUs "
                "(busy): those latencies are probably too slow. Re-run on a quiet machine with "
                "--remeasure-busy."
            )
        )


def run(args: argparse.Namespace) -> int:
    kind, value = _chosen(args)
    threads = latency.check_threads(args.threads or latency.default_threads())
    args.variants = (args.variant,) if args.variant else (("standard",) if kind == "ms" else VARIANTS)
    store = open_store()
    predictor = kept_predictor_for(args.backend, threads)
    search = None
    if kind == "ms":

        def progress(done: int, total: int, message: str) -> None:
            print(f"[{done}/~{total}] {message}", file=sys.stderr, flush=True)

        options = {
            "groups": args.groups,
            "variants": args.variants,
            "input_size": args.input,
            "max_seconds": args.max_seconds,
            "progress": None if args.json else progress,
            "remeasure_busy": args.remeasure_busy,
        }
        if predictor is not None:
            search = predicted_latency_budget(value, store, predictor, **options)
        else:
            search = search_latency_budget(value, store, backend=args.backend, threads=threads, **options)
        decision = search.decision
    else:

        def measured_ms(config):
            stored = store.get(config, args.backend, threads, 1)
            return None if stored is None else stored.per_image_ms

        decision = decide(kind, value, args.groups, args.variants, args.input, measured_ms, predictor)
    if args.json:
        print_json(payload(decision, args, threads, search))
    else:
        print_decision(decision, args, threads, search)
    return 0
