"""Error against complexity, as the paper reports it: every model with both numbers, and its Pareto front.

Each point is one model the paper reports with a top-1 error *and* a complexity
(Tables 2, 3, 5 and 6: every ShuffleNet row, MobileNet 1.0/0.75/0.5/0.25, VGG-16,
PVANET, AlexNet, SqueezeNet). A model reported in several tables with the same numbers
(ShuffleNet 1x g = 3 in Tables 2, 3, 5, 6) is one point naming every table.

Table 3's rows without channel shuffle have no complexity column of their own; a point
for them takes the complexity the paper reports for the same architecture *with*
shuffle (the shuffle is a permutation: it adds no multiply-adds), and says so in its
``note``. Nothing here is computed: the numbers are the paper's (``reported``).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from ..shufflenet import MobileNetConfig, ModelConfig, ShuffleNetConfig
from .reported import ALL_REPORTED, at_reference

TRADEOFF_TABLES = ("Table 2", "Table 3", "Table 5", "Table 6")
NO_SHUFFLE_NOTE = (
    "complexity as the paper reports it for the same architecture with shuffle (Table 2): "
    "the shuffle is a permutation and adds no multiply-adds"
)


@dataclass(frozen=True)
class ReportedPoint:
    """One model with the error and complexity the paper reports for it."""

    model: str  # the paper's own row label (the first table's)
    family: str  # "shufflenet", "shufflenet-no-shuffle", "mobilenet", "other"
    config: ModelConfig | None  # None: a model the explorer does not build (VGG-16, PVANET, SqueezeNet)
    mflops: float  # millions of multiply-adds, as reported
    error: float  # top-1 error, %, as reported
    tables: tuple[str, ...]
    note: str = ""

    @property
    def source(self) -> str:
        """``"Table 2, 5, 6"``: where the paper reports it."""
        return "Table " + ", ".join(t.removeprefix("Table ") for t in self.tables)


def _family(config: ModelConfig | None) -> str:
    if isinstance(config, ShuffleNetConfig):
        return "shufflenet" if config.shuffle else "shufflenet-no-shuffle"
    return "mobilenet" if isinstance(config, MobileNetConfig) else "other"


def _with_shuffle_mflops(config: ShuffleNetConfig) -> float | None:
    twin = replace(config, shuffle=True)
    return next(
        (r.mflops for r in ALL_REPORTED if r.config == twin and r.mflops is not None and r.table in TRADEOFF_TABLES),
        None,
    )


@functools.lru_cache(maxsize=1)  # no arguments: one entry
def reported_points() -> tuple[ReportedPoint, ...]:
    """Every model the paper reports with an error and a complexity, once each, in the order of its tables."""
    points: dict[object, ReportedPoint] = {}
    for row in ALL_REPORTED:
        if row.table not in TRADEOFF_TABLES or row.error is None:
            continue
        mflops, note = row.mflops, ""
        if mflops is None and isinstance(row.config, ShuffleNetConfig) and not row.config.shuffle:
            mflops, note = _with_shuffle_mflops(row.config), NO_SHUFFLE_NOTE
        if mflops is None:
            mflops = next(
                (
                    r.mflops
                    for r in ALL_REPORTED
                    if r.config == row.config
                    and r.error == row.error
                    and r.mflops is not None
                    and r.table in TRADEOFF_TABLES
                ),
                None,
            )
        if mflops is None:
            continue
        key = (row.config if row.config is not None else row.model, row.error, mflops)
        if key in points:
            old = points[key]
            if row.table not in old.tables:
                points[key] = replace(old, tables=(*old.tables, row.table))
            continue
        points[key] = ReportedPoint(
            row.model, _family(row.config), row.config, float(mflops), row.error, (row.table,), note
        )
    return tuple(points.values())


def pareto_front(points: tuple[ReportedPoint, ...] | list[ReportedPoint]) -> list[ReportedPoint]:
    """The points no other point beats on both axes (fewer multiply-adds and lower error), by complexity."""
    front: list[ReportedPoint] = []
    for point in sorted(points, key=lambda p: (p.mflops, p.error)):
        if not front or point.error < front[-1].error:
            front.append(point)
    return front


def point_for(config: ModelConfig) -> ReportedPoint | None:
    """The point of this exact model (input size ignored), or None when the paper reports no error for it."""
    key = at_reference(config)
    return next((p for p in reported_points() if p.config == key), None)
