"""``mixing``: channel connectivity with and without shuffle (implemented with issue 4)."""

from __future__ import annotations

import argparse

HELP = "channel mixing of stacked group convolutions, analytic or measured on the built model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    raise ValueError("mixing is not available yet")
