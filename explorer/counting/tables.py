"""Plain-record views of the library's results, shared by the CLI, the app and JSON output.

One place decides the column names and order and how sizes and counts are written; the
layout's columns are Table 1's own (``explorer.paper.LAYOUT_COLUMNS``: Layer, Output
size, KSize, Stride, Repeat, Output channels).
"""

from __future__ import annotations

from dataclasses import asdict

from ..paper import LAYOUT_COLUMNS
from ..shufflenet import ModelConfig, ShuffleNetConfig
from .trace import Complexity, LayoutRow, UnitRow

UNIT_COLUMNS = (
    "Stage",
    "Unit",
    "Stride",
    "In channels",
    "Out channels",
    "Bottleneck",
    "Groups (1st 1x1)",
    "Groups (2nd 1x1)",
    "Shuffle",
    "Output size",
    "Multiply-adds",
    "Params",
)

SI_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


def size_text(size: tuple[int, ...] | None) -> str:
    return "" if size is None else "x".join(str(s) for s in size)


def si(value: float, digits: int = 2) -> str:
    """136500672 -> '136.50M' (no unit; callers add it)."""
    for scale, prefix in SI_PREFIXES:
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f}{prefix}"
    return f"{value:g}"


def layout_records(layout: tuple[LayoutRow, ...]) -> list[dict]:
    return [
        dict(
            zip(
                LAYOUT_COLUMNS,
                (
                    row.layer,
                    size_text(row.output_size),
                    size_text(row.kernel),
                    row.stride,
                    row.repeat,
                    row.output_channels,
                ),
            )
        )
        for row in layout
    ]


def unit_records(units: tuple[UnitRow, ...]) -> list[dict]:
    return [
        dict(
            zip(
                UNIT_COLUMNS,
                (
                    u.stage,
                    u.unit,
                    u.stride,
                    u.in_channels,
                    u.out_channels,
                    u.bottleneck,
                    u.first_groups,
                    u.last_groups,
                    "yes" if u.shuffle else "no",
                    size_text(u.output_size),
                    u.macs,
                    u.params,
                ),
            )
        )
        for u in units
    ]


NOT_COUNTED = "not available"


def complexity_records(complexity: Complexity) -> list[dict]:
    """One row per figure; a figure the counter could not produce reads "not available"."""
    return [
        {
            "Figure": f.label,
            "Value": None if f.value is None else int(f.value),
            "In millions": NOT_COUNTED if f.value is None else f"{f.value / 1e6:.2f}M",
            "Unit": f.unit,
            "Counting convention": f.convention,
        }
        for f in complexity.quantities
    ]


def config_dict(config: ModelConfig) -> dict:
    """The config as JSON-able values, with the solved channel plan for a ShuffleNet."""
    values = {"model": config.family, "label": config.label, **asdict(config)}
    values["input_size"] = list(config.input_size)
    if isinstance(config, ShuffleNetConfig):
        plan = config.plan()
        values["plan"] = {
            "conv1_channels": plan.conv1_channels,
            "stage_channels": list(plan.stage_channels),
            "stage_repeats": list(plan.stage_repeats),
            "widen_factor": round(plan.widen, 4),
        }
    return values
