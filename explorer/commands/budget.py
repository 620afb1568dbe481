"""``budget``: for a multiply-add budget, the widest width each g can afford."""

from __future__ import annotations

import argparse

from ..counting.budget import WIDTH_STEP, budget_table
from ..counting.tables import config_dict
from ..shufflenet import VARIANTS
from .common import add_json_argument, format_table, input_size, number, print_json

MAX_MFLOPS = 1_000_000
HELP = "for a budget in millions of multiply-adds, the widest width each group count g fits"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mflops", type=number(f"a budget above 0 and up to {MAX_MFLOPS} MFLOPs"), required=True,
                        help="budget in millions of multiply-adds (the paper's MFLOPs), e.g. 40")
    parser.add_argument("--variant", choices=VARIANTS, default="standard")
    parser.add_argument("--input", type=input_size, default=(224, 224), metavar="HxW")
    add_json_argument(parser)


def run(args: argparse.Namespace) -> int:
    if not 0 < args.mflops <= MAX_MFLOPS:
        raise ValueError(f"--mflops={args.mflops:g} is not allowed: give a budget above 0 and up to {MAX_MFLOPS} "
                         "MFLOPs")  # fmt: skip
    answers = budget_table(args.mflops * 1e6, args.variant, input_size=args.input)
    if args.json:
        print_json({
            "budget_mflops": args.mflops,
            "convention": "conv_macs",
            "width_step": WIDTH_STEP,
            "results": [
                {"groups": a.groups, "width": a.config.width if a.config else None, "conv_macs": a.conv_macs,
                 "config": config_dict(a.config) if a.config else None}
                for a in answers
            ],
        })  # fmt: skip
        return 0
    print(f"Budget {args.mflops:g}M multiply-adds (paper convention), {args.variant}, "
          f"input {args.input[0]}x{args.input[1]}; widths in steps of {WIDTH_STEP}\n")
    rows = []
    for a in answers:
        if a.config is None:
            rows.append((a.groups, "does not fit", "", "", ""))
            continue
        plan = a.config.plan()
        rows.append((a.groups, f"{a.config.width:.2f}x", f"{a.conv_macs / 1e6:.2f}M",
                     ", ".join(map(str, plan.stage_channels)), plan.conv1_channels))
    print(format_table(("g", "Widest width", "Multiply-adds", "Stage2-4 channels", "Conv1"), rows))
    return 0
