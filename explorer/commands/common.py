"""Argument types and printing shared by the sub-commands: human units, 80-column tables, wrapped notes."""

from __future__ import annotations

import argparse
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence

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
    parser.add_argument(
        "--groups",
        type=integer(f"an integer from 1 to {MAX_GROUPS}"),
        default=3,
        help="number of groups g (paper: 1, 2, 3, 4, 8)",
    )
    parser.add_argument(
        "--width",
        type=number(f"a number from {WIDTH_RANGE[0]} to {WIDTH_RANGE[1]}"),
        default=1.0,
        help="width multiplier s (0.1 to 4.0)",
    )
    parser.add_argument("--variant", choices=VARIANTS, default="standard")
    parser.add_argument("--no-shuffle", dest="shuffle", action="store_false", help="remove the channel shuffle")
    parser.add_argument("--input", type=input_size, default=(224, 224), metavar="HxW", help="input size, e.g. 480x640")


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of tables")


def print_json(payload: dict) -> None:
    print(json.dumps(payload, indent=2))


NUMBER_CELL = re.compile(r"^-?[\d.,]+( ?[a-zA-Z%]{0,2})?$")


def format_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A plain fixed-width text table (numbers, also with a short unit such as ``136.5 M`` or ``4.2 ms``, right-aligned)."""
    cells = [[str(h) for h in headers]] + [["" if v is None else str(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        lines.append(
            "  ".join(c.rjust(w) if n and NUMBER_CELL.match(c) else c.ljust(w) for c, w in zip(row, widths)).rstrip()
        )
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


TERMINAL_WIDTH = 80  # every table and paragraph a command prints fits this many columns
HUMAN_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def human(value: float | None, unit: str = "") -> str:
    """A count for people: ``136500672`` -> ``136.5 M``, ``1865728`` -> ``1.87 M``, ``5.6e6, "B"`` -> ``5.60 MB``.

    One decimal from 100 up, two below; plain integers below 1000. ``--json`` keeps the exact integers.
    """
    if value is None:
        return ""
    for scale, prefix in HUMAN_PREFIXES:
        if abs(value) >= scale:
            scaled = value / scale
            return f"{scaled:.{1 if abs(scaled) >= 100 else 2}f} {prefix}{unit}"
    text = f"{value:g}" if float(value).is_integer() else f"{value:.2f}"
    return f"{text} {unit}".rstrip()


def paragraph(text: str, indent: str = "", width: int = TERMINAL_WIDTH) -> str:
    """``text`` wrapped to the terminal width (links and other long words are never broken)."""
    return textwrap.fill(
        text,
        width,
        initial_indent=indent,
        subsequent_indent=indent or "",
        break_long_words=False,
        break_on_hyphens=False,
    )


def footnotes(notes: Sequence[str], width: int = TERMINAL_WIDTH) -> str:
    """``[1] note`` lines, each wrapped with a hanging indent."""
    return "\n".join(
        textwrap.fill(
            note,
            width,
            initial_indent=f"[{n}] ",
            subsequent_indent=" " * (len(str(n)) + 3),
            break_long_words=False,
            break_on_hyphens=False,
        )
        for n, note in enumerate(notes, 1)
    )
