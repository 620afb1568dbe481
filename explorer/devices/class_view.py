"""The class view: latencies that visitors' browsers measured on this server, grouped by device.

After a class has pressed "Measure on this device", a teacher can show "Table 8 on our
phones": per (device summary, model, input) the number of results and the median of their
medians, labelled "reported by visitors' browsers". Only results that passed validation and
the parity check are kept (``explorer.store.device_results`` keeps them, the newest
``DEVICE_RESULT_ROWS``); this module groups them. Turn the feature off for a server with
``EXPLORER_CLASS_VIEW=off`` (``class_view_enabled``): nothing is stored or shown.
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Mapping
from dataclasses import dataclass

from ..checks import on_off_setting
from ..store.device_results import ClassRow

CLASS_VIEW_ENV = "EXPLORER_CLASS_VIEW"
SUMMARY_ROWS = 200  # groups shown


def class_view_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """``EXPLORER_CLASS_VIEW``: on (default) or off; anything else is refused with ``ValueError``."""
    return on_off_setting(CLASS_VIEW_ENV, environ)


@dataclass(frozen=True)
class ClassSummary:
    """One (device, model, input) group."""

    device: str
    model: str
    input: str
    count: int
    median_ms: float  # median of the rows' medians
    latest: float


def summarize(rows: list[ClassRow], limit: int = SUMMARY_ROWS) -> list[ClassSummary]:
    """Groups by (device, model, input) with count and median of medians; the ``limit`` most recent groups,
    ordered by model, input and median."""
    groups: dict[tuple[str, str, str], list[ClassRow]] = {}
    for row in rows:
        groups.setdefault((row.device, row.model, row.input), []).append(row)
    summaries = [
        ClassSummary(
            device,
            model,
            size,
            len(members),
            statistics.median(r.median_ms for r in members),
            max(r.measured_at for r in members),
        )
        for (device, model, size), members in groups.items()
    ]
    summaries = sorted(summaries, key=lambda s: s.latest, reverse=True)[:limit]
    return sorted(summaries, key=lambda s: (s.model, _pixels(s.input), s.median_ms))


def _pixels(size: str) -> int:
    height, _, width = size.partition("x")
    return int(height) * int(width) if height.isdigit() and width.isdigit() else 0
