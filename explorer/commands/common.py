"""Argument types and printing shared by the sub-commands."""

from __future__ import annotations

import argparse
import json
import math
from typing import Callable, Iterable, Sequence

from ..shufflenet import MAX_GROUPS, VARIANTS, WIDTH_RANGE, parse_input_size


def integer(allowed: str, low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer (from ``low`` to ``high`` if given), else an error naming the text and ``allowed``.

    Give bounds only where nothing else checks the value: the library's own checks
    (groups, stage, layers...) say more, e.g. that channels must be a multiple of g.
    """

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:  # also "2.5", "" and digit strings too long for int()
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r} (give {allowed})") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed: give {allowed}")
        return value

    return parse


def number(allowed: str, low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    """An argparse type: a finite number (from ``low`` to ``high`` if given), else an error saying ``allowed``."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed: give {allowed}")
        return value

    return parse


def input_size(text: str) -> tuple[int, int]:
    try:
        return parse_input_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_model_arguments(parser: argparse.ArgumentParser, groups_required: bool = False) -> None:
    """--groups --width --variant --no-shuffle --input, as every model-taking command has them."""
    parser.add_argument("--groups", type=integer(f"an integer from 1 to {MAX_GROUPS}"), default=3,
                        help="number of groups g (paper: 1, 2, 3, 4, 8)")
    parser.add_argument("--width", type=number(f"a number from {WIDTH_RANGE[0]} to {WIDTH_RANGE[1]}"), default=1.0,
                        help="width multiplier s (0.1 to 4.0)")
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
