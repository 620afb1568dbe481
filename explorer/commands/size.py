"""``size``: Table 1 layout, per-unit table and complexity of one ShuffleNet."""

from __future__ import annotations

import argparse

from .. import paper
from ..counting import CONVENTIONS, count_model
from ..counting.tables import LAYOUT_COLUMNS, NOT_COUNTED, config_dict, layout_records, unit_records
from ..shufflenet import ShuffleNetConfig
from .common import add_json_argument, add_model_arguments, footnotes, format_table, human, paragraph, print_json

HELP = "print the Table 1 layout, the per-unit table and the complexity of one ShuffleNet"


# The per-unit table in 80 columns: short headers, explained underneath (``--json`` keeps the long names).
UNIT_HEADERS = ("Stage", "Unit", "Str.", "In", "Out", "Bneck", "G1", "G2", "Shuf", "Size", "MACs", "Params")
UNIT_LEGEND = (
    "Str. = stride; In / Out = input / output channels; Bneck = bottleneck channels; G1 / G2 = groups "
    "of the first / second 1x1 convolution; Shuf = channel shuffle; Size = output size; MACs = "
    "multiply-adds (paper convention, fvcore); Params = parameters."
)


def _unit_row(record: dict) -> tuple:
    values = list(record.values())
    return (*values[:10], human(values[10]), human(values[11]))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    add_json_argument(parser)


def config_from_args(args: argparse.Namespace) -> ShuffleNetConfig:
    return ShuffleNetConfig(
        groups=args.groups, width=args.width, variant=args.variant, shuffle=args.shuffle, input_size=args.input
    )


def reported_dict(config: ShuffleNetConfig) -> dict:
    rows = paper.reported_for(config)
    return {
        "source": paper.SOURCE,
        "rows": [{"table": r.table, "model": r.model, "mflops": r.mflops, "error_percent": r.error} for r in rows],
        "residual_note": paper.residual_note(config),
    }


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    result = count_model(config)
    layout, units = layout_records(result.layout), unit_records(result.units)
    if args.json:
        print_json(
            {
                "config": config_dict(config),
                "layout": layout,
                "units": units,
                "complexity": result.complexity.to_dict(),
                "conventions": {
                    k: {"label": c.label, "unit": c.unit, "definition": c.definition} for k, c in CONVENTIONS.items()
                },
                "reported_in_paper": reported_dict(config),
            }
        )
        return 0
    plan = config.plan()
    print(f"{config.label}, input {config.input_size[0]}x{config.input_size[1]}")
    if plan.widen != 1.0:
        print(f"{config.variant}: stages widened x{plan.widen:.3f} to match the standard model's multiply-adds")
    print("\nTable 1 layout (computed from the built model)\n")
    print(format_table(LAYOUT_COLUMNS, [r.values() for r in layout]))
    print("\nUnits\n")
    print(format_table(UNIT_HEADERS, [_unit_row(u) for u in units]))
    print(paragraph(UNIT_LEGEND))
    print("\nComplexity (computed here, batch 1)\n")
    figures = result.complexity.quantities
    print(
        format_table(
            ("Figure", "Value", "Unit", "See"),
            [
                (f.label, NOT_COUNTED if f.value is None else human(f.value), f.unit, f"[{n}]")
                for n, f in enumerate(figures, 1)
            ],
        )
    )
    print(footnotes([f.convention for f in figures]))
    if result.complexity.fell_back:
        print("\n" + paragraph(f"Note: {result.complexity.counter}."))
    mflops = paper.reported_mflops(config)
    if mflops is not None and config.input_size == (224, 224):
        computed = result.complexity.conv_macs.value / 1e6
        print(
            "\n"
            + paragraph(
                f"Reported in the paper: {mflops:g} MFLOPs (multiply-adds); computed here: "
                f"{computed:.2f} M ({(computed / mflops - 1) * 100:+.1f}%). "
                f"{paper.residual_note(config)}".rstrip()
            )
        )
    return 0
