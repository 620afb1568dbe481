"""``mixing``: channel connectivity with and without shuffle.

Two modes:

* the Fig. 1 toy (default): ``--channels C --groups g --layers L [--no-shuffle | --wiring W]``
  prints the output-by-input dependency matrix of L stacked 1x1 group convolutions and
  the fraction of input channels that reach each output channel;
* ``--measured``: the same for one stage of the model ``build_model`` returns
  (``--groups --width --variant --no-shuffle``), measured with forward-mode autograd
  (``explorer.mixing.probes``), for the stride-1 units (``--scope stride1``, default)
  or the whole stage (``--scope stage``).
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from ..mixing.network import SCOPE_TITLES, SCOPES, check_stage, predict_stage
from ..mixing.probes import measure_stage
from ..mixing.toy import (
    MAX_LAYERS,
    MAX_TOY_CHANNELS,
    MIN_LAYERS,
    WIRING_TITLES,
    WIRINGS,
    cross_equals_shuffle,
    default_toy_channels,
    group_block_fractions,
    row_fractions,
    toy_mixing,
)
from ..shufflenet import REFERENCE_INPUT, ShuffleNetConfig
from .common import add_json_argument, add_model_arguments, format_table, integer

HELP = "channel mixing of stacked group convolutions, analytic or measured on the built model"
MAX_PRINTED_CHANNELS = 64  # wider matrices are summarised per pair of groups
MEASURED_ONLY_MODEL_FLAGS = ("width", "variant", "input")  # the toy has channels and groups, no network


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    # None = "not given", so the toy can refuse model flags it would ignore.
    parser.set_defaults(width=None, variant=None, input=None)
    toy = parser.add_argument_group("Fig. 1 toy (default mode)")
    toy.add_argument(
        "--channels",
        type=integer(f"a multiple of --groups, up to {MAX_TOY_CHANNELS}"),
        default=None,
        help="channels C of the toy, a multiple of --groups (default g*max(g,4), 12 for g=3)",
    )
    toy.add_argument(
        "--layers",
        type=integer(f"an integer from {MIN_LAYERS} to {MAX_LAYERS}"),
        default=None,
        help=f"stacked 1x1 group convolutions L, {MIN_LAYERS} to {MAX_LAYERS} (default 2)",
    )
    toy.add_argument(
        "--wiring",
        choices=WIRINGS,
        default=None,
        help="none = Fig. 1a, cross = 1b (inputs from different groups), shuffle = 1c "
        "(default: shuffle, or none with --no-shuffle)",
    )
    measured = parser.add_argument_group("measured on the built model")
    measured.add_argument("--measured", action="store_true", help="measure one stage of the built model")
    measured.add_argument("--stage", type=integer("2, 3 or 4"), default=None, help="2, 3 or 4 (default 2)")
    measured.add_argument(
        "--scope",
        choices=SCOPES,
        default=None,
        help="stride1: input = output of the stage's first unit (default); stage: input = the stage's input",
    )
    measured.add_argument(
        "--units",
        type=integer("a positive integer"),
        default=None,
        help="report the matrix after this many stacked units (default: all of the scope)",
    )
    add_json_argument(parser)


def _only_with(args: argparse.Namespace, names: tuple[str, ...], mode: str) -> None:
    for name in names:
        value = getattr(args, name)
        if value is not None:
            raise ValueError(f"{name}={value!r} is not allowed here: --{name} is only used {mode}")


def _row_text(row: np.ndarray, per_group: int) -> str:
    digits = "".join("1" if v else "0" for v in row)
    return " ".join(digits[i : i + per_group] for i in range(0, len(digits), per_group))


def _matrix_text(matrix: np.ndarray, out_groups: int, in_groups: int) -> str:
    rows, cols = matrix.shape
    if max(rows, cols) <= MAX_PRINTED_CHANNELS:
        width = len(str(rows - 1))
        lines = [
            f"rows: output channels, columns: input channels (spaces between groups of {cols // in_groups}); "
            "1 = depends"
        ]
        lines += [f"  {o:>{width}}  {_row_text(matrix[o], cols // in_groups)}" for o in range(rows)]
        return "\n".join(lines)
    blocks = group_block_fractions(matrix, out_groups, in_groups)
    header = ["out group \\ in group"] + [str(j) for j in range(in_groups)]
    body = [[f"{i} ({rows // out_groups} ch)"] + [f"{v:.3g}" for v in blocks[i]] for i in range(out_groups)]
    return (
        f"{rows}x{cols} matrix, summarised: fraction of (output, input) pairs connected, per pair of groups "
        f"(--json prints it all)\n" + format_table(header, body)
    )


def _dumps(payload: dict) -> str:
    """JSON with two-space indents, but each matrix row on one line."""
    matrix = payload.get("matrix")
    placeholder = "@@MATRIX@@"
    text = json.dumps({**payload, "matrix": placeholder} if matrix is not None else payload, indent=2)
    if matrix is None:
        return text
    rows = ",\n".join("    " + json.dumps(row, separators=(",", ":")) for row in matrix)
    return text.replace(json.dumps(placeholder), "[\n" + rows + "\n  ]" if matrix else "[]")


def _fraction_rows(fractions_by_step: list[np.ndarray]) -> list[tuple]:
    rows = []
    for k, fractions in enumerate(fractions_by_step, start=1):
        rows.append(
            (
                k,
                f"{fractions.mean():.4f}",
                f"{fractions.min():.4f}",
                f"{fractions.max():.4f}",
                "yes" if fractions.min() == 1 else "no",
            )
        )
    return rows


def run_toy(args: argparse.Namespace) -> int:
    _only_with(args, ("stage", "scope", "units", *MEASURED_ONLY_MODEL_FLAGS), "with --measured")
    if args.wiring is not None and not args.shuffle and args.wiring != "none":
        raise ValueError(
            f"wiring={args.wiring!r} is not allowed with --no-shuffle: wiring must be none (or drop --no-shuffle)"
        )
    wiring = args.wiring or ("shuffle" if args.shuffle else "none")
    channels = default_toy_channels(args.groups) if args.channels is None else args.channels
    layers = 2 if args.layers is None else args.layers
    toy = toy_mixing(channels, args.groups, layers, wiring)
    if args.json:
        payload = toy.to_dict()
        payload["cross_equals_shuffle"] = cross_equals_shuffle(channels, args.groups, layers)
        print(_dumps(payload))
        return 0
    per_group = channels // args.groups
    print(
        f"Fig. 1 toy: C={channels} channels in g={args.groups} groups ({per_group} per group), "
        f"{layers} stacked 1x1 group convolution{'s' if layers > 1 else ''}, {WIRING_TITLES[wiring]}\n"
    )
    print(_matrix_text(toy.matrix, args.groups, args.groups))
    print("\nFraction of the input channels that reach an output channel, per layers stacked\n")
    print(
        format_table(
            ("layers", "mean", "min", "max", "all connected"), _fraction_rows([row_fractions(m) for m in toy.matrices])
        )
    )
    same = cross_equals_shuffle(channels, args.groups, layers)
    print(
        f"\n(b) inputs from different groups and (c) channel shuffle give "
        f"{'the same' if same else 'DIFFERENT'} dependency matrices for these C, g, L."
    )
    return 0


def run_measured(args: argparse.Namespace) -> int:
    _only_with(args, ("channels", "layers", "wiring"), "without --measured (the Fig. 1 toy)")
    stage = check_stage(2 if args.stage is None else args.stage)
    scope = args.scope or "stride1"
    config = ShuffleNetConfig(
        groups=args.groups,
        width=1.0 if args.width is None else args.width,
        variant=args.variant or "standard",
        shuffle=args.shuffle,
        input_size=args.input or REFERENCE_INPUT,
    )
    result = measure_stage(config, stage, threads=1)  # a process of its own: 1 thread is fastest here
    if scope == "stride1" and not result.stride1:
        raise ValueError(
            f"scope='stride1' is not allowed: stage {stage} of this variant has no stride-1 units; scope must be stage"
        )
    matrix = result.matrix(scope, args.units)
    predicted = predict_stage(config, stage)
    matches = all(np.array_equal(a, b) for a, b in zip(result.matrices(scope), predicted.matrices(scope)))
    if args.json:
        payload = result.to_dict(scope, args.units)
        payload["input_size_note"] = (
            "the pattern does not depend on the input size: measured with 1x1 probes "
            "(every channel-mixing op acts per pixel)"
        )
        payload["matches_prediction"] = matches
        print(_dumps(payload))
        return 0
    units = len(result.matrices(scope)) if args.units is None else args.units
    print(
        f"{config.label}, Stage{stage}: measured with forward-mode autograd on the built model "
        f"(ReLUs linearised, BN in eval, 1x1 probes: the pattern does not depend on the input size)"
    )
    print(f"scope: {SCOPE_TITLES[scope]}")
    in_channels = result.channels if scope == "stride1" else result.stage_in_channels
    print(
        f"input {in_channels} channels, output {result.channels} channels, bottleneck {result.bottleneck} "
        f"({result.bottleneck // result.groups} per group, g={result.groups})\n"
    )
    print(f"After {units} stacked unit{'s' if units > 1 else ''}:")
    print(_matrix_text(matrix, result.groups, result.groups))
    print("\nFraction of the input channels that reach an output channel, per units stacked\n")
    print(
        format_table(
            ("units", "mean", "min", "max", "all connected"),
            _fraction_rows([row_fractions(m) for m in result.matrices(scope)]),
        )
    )
    print(
        f"\nMeasured matrices {'equal' if matches else 'DIFFER FROM'} the ones predicted from the unit's "
        "structure (Fig. 2)."
    )
    return 0


def run(args: argparse.Namespace) -> int:
    return run_measured(args) if args.measured else run_toy(args)
