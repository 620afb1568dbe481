"""``predict``: one ShuffleNet's latency on this machine, predicted from its calibration, per layer type.

    python -m explorer predict --groups 8 --width 0.5 --variant arch2
    python -m explorer predict --groups 3 --width 1.0 --input 480x640 --backend openvino --threads 1 --json

Nothing is built or timed: the kernels the runtime would run are priced by the predictor
fitted on this machine's kept calibration (``python -m explorer calibrate``). The number is
labelled "predicted here", with the predictor's expected error, and says when the config lies
outside the shapes the calibration sampled (an extrapolation). Defaults: the fastest
calibrated FP32 backend, the runner's thread count (all cores). Exit status: 0 with a
prediction, 1 when this machine has no calibration for that backend and thread count (never a
number from another machine or other library versions), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time

from ..latency.predictor import BACKENDS, Prediction, ignored_here, kept_predictor
from ..latency.predictor.labels import NO_CALIBRATION_HINT, backend_label, extrapolation_text, headline, threads_text
from ..latency.threads import MAX_THREADS, default_threads
from ..shufflenet import ShuffleNetConfig
from ..store import age_text
from .common import add_json_argument, add_model_arguments, format_table, human, integer, paragraph, print_json

HELP = "predict one ShuffleNet's latency here from this machine's calibration (no model is built or timed)"
EXIT_NO_CALIBRATION = 1


def backend_choice(text: str) -> str:
    """An argparse type: a backend that can be calibrated, else one line naming the value and what is allowed."""
    if text not in BACKENDS:
        allowed = ", ".join(f"{b} ({backend_label(b)})" for b in BACKENDS)
        raise argparse.ArgumentTypeError(
            f"backend {text!r} is not allowed: give {allowed}, the FP32 runtimes a calibration exists for"
        )
    return text


def threads_argument(parser: argparse.ArgumentParser) -> None:
    threads = integer(f"an integer from 1 to {MAX_THREADS}", 1, MAX_THREADS)
    parser.add_argument(
        "--threads",
        type=threads,
        default=None,
        help=f"thread count of the calibration (default: all {default_threads()} cores, as the runner)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument(
        "--backend",
        type=backend_choice,
        default=None,
        help=f"one of {', '.join(BACKENDS)} (default: the fastest one calibrated here)",
    )
    threads_argument(parser)
    add_json_argument(parser)


def no_calibration_text(backend: str | None, threads: int) -> str:
    """What to say when there is no predictor here: why, what was ignored, and the command that makes one."""
    which = f"of {backend}" if backend else f"of any backend ({', '.join(BACKENDS)})"
    option = f" --backend {backend}" if backend else ""
    ignored = "".join(f" Note: {reason}." for reason in ignored_here(backend, threads))
    return (
        f"no latency prediction: this machine has no calibration {which} at {threads_text(threads)} for these "
        f"library versions.{ignored} Make one (about 2-3 minutes per backend) with: "
        f"{NO_CALIBRATION_HINT}{option} --threads {threads}"
    )


def prediction_record(config: ShuffleNetConfig, prediction: Prediction, created_at: float, noisy: bool) -> dict:
    return {
        **prediction.to_dict(),
        "source": "predicted here (not measured)",
        "predicted": headline(prediction),
        "input": list(config.input_size),
        "calibrated_at": created_at,
        "calibration_noisy": noisy,
    }


def run(args: argparse.Namespace) -> int:
    config = ShuffleNetConfig(
        groups=args.groups, width=args.width, variant=args.variant, shuffle=args.shuffle, input_size=args.input
    )
    threads = default_threads() if args.threads is None else args.threads
    try:
        predictor = kept_predictor(args.backend, threads)
        prediction = None if predictor is None else predictor.predict(config)
    except ValueError as error:  # a kept calibration without some kernel kind: not a bad argument
        print(
            f"python -m explorer predict: the kept calibration cannot predict this model ({error}); calibrate "
            "again with: python -m explorer calibrate --force",
            file=sys.stderr,
        )
        return EXIT_NO_CALIBRATION
    if predictor is None or prediction is None:
        print(f"python -m explorer predict: {no_calibration_text(args.backend, threads)}", file=sys.stderr)
        return EXIT_NO_CALIBRATION
    calibration = predictor.calibration
    if args.json:
        print_json(prediction_record(config, prediction, calibration.created_at, calibration.noisy))
        return 0
    print(f"{config.label}, input {config.input_size[0]}x{config.input_size[1]}")
    print(paragraph(headline(prediction)))
    print("\nWhere the time goes (predicted here, per layer type)\n")
    rows = [
        (layer.layer, f"{layer.ms:.3f}", f"{100 * layer.share:.0f}%", layer.kernels, human(layer.macs))
        for layer in prediction.layers
    ]
    rows.append(
        (
            "per-run overhead",
            f"{prediction.overhead_ms:.3f}",
            f"{100 * prediction.overhead_ms / prediction.predicted_ms:.0f}%",
            "",
            "",
        )
    )
    print(format_table(("Layer type", "Predicted ms", "Share", "Kernels", "Multiply-adds"), rows))
    if prediction.extrapolated:
        print("\n" + paragraph(extrapolation_text(prediction)))
    busy = (
        " It was calibrated while the machine was busy (noisy): calibrate again when quiet."
        if calibration.noisy
        else ""
    )
    print(
        "\n"
        + paragraph(
            f"Predicted, not measured: from the {backend_label(prediction.backend)} calibration kept "
            f"{age_text(time.time() - calibration.created_at)}.{busy} `python -m explorer bench` "
            "measures it."
        )
    )
    return 0
