"""``python -m explorer``: the explorer's command line.

Each sub-command lives in ``explorer/commands/<name>.py`` and provides ``HELP``,
``add_arguments(parser)`` and ``run(args) -> int``. Bad arguments, and configs the
library refuses with ``ValueError``, end in one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

COMMANDS = ("size", "budget", "mixing", "bench", "results", "predict", "calibrate")
USAGE_ERROR = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but an error is one line naming the argument, not usage plus traceback."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # argparse reads "-inf" or "-5x224" after --width/--input as an unknown option and
        # answers "expected one argument" without the value; read them as values, so the
        # argument's own check names them. (No option of ours starts with "-" + digit or "inf".)
        self._negative_number_matcher = re.compile(r"^-(\d|\.\d|inf|nan)", re.IGNORECASE)

    def error(self, message: str) -> NoReturn:
        if message.endswith("expected one argument"):
            message += " (write --option=VALUE for a value that starts with '-')"
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m explorer", description="Size, inspect and time ShuffleNet v1.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name in COMMANDS:
        module = importlib.import_module(f"explorer.commands.{name}")
        command = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(command)
        command.set_defaults(run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except ValueError as error:
        print(f"python -m explorer {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # output piped into `head` and closed early: not an error
        sys.stderr.close()
        return 0
