"""Argument types and printing shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import math
from typing import Iterable, Sequence

from ..config import VARIANTS, parse_input_size


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def input_size(text: str) -> tuple[int, int]:
    try:
        return parse_input_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_model_arguments(parser: argparse.ArgumentParser, groups_required: bool = False) -> None:
    """--groups --width --variant --no-shuffle --input, as every model-taking command has them."""
    parser.add_argument("--groups", type=int, default=3, help="number of groups g (paper: 1, 2, 3, 4, 8)")
    parser.add_argument("--width", type=finite_float, default=1.0, help="width multiplier s (0.1 to 4.0)")
    parser.add_argument("--variant", choices=VARIANTS, default="standard")
    parser.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="remove the channel shuffle")
    parser.add_argument("--input", type=input_size, default=(224, 224), metavar="HxW", help="input size, e.g. 480x640")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2))


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain fixed-width text table (right-aligned numbers)."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append("  ".join(c.rjust(w) if n and c.replace(".", "").replace(",", "").isdigit() else c.ljust(w)
                               for c, w in zip(row, widths)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)
