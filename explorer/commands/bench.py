"""``bench``: CPU latency (implemented with issue 5)."""

from __future__ import annotations

import argparse

HELP = "channel bench of stacked group convolutions, analytic or measured on the built model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise ValueError("bench is not available yet")
