"""The class view: latencies that visitors' browsers measured on this server, grouped by device.

After a class has pressed "Measure on this device", a teacher can show "Table 8 on our
phones": per (device summary, model, input) the number of results and the median of their
medians, labelled "reported by visitors' browsers". Only results that passed validation and
the parity check are kept, and only ``ClassRow`` fields: the device summary (browser, OS,
logical cores), the model, the input, the median and the time. No session id, address or
full user agent.

Storage sits behind ``ClassViewStore`` (``add``, ``rows``, ``clear``): ``MemoryClassView``
keeps the newest ``MAX_ROWS`` rows in memory. Turn the feature off for a server with
``EXPLORER_CLASS_VIEW=off`` (``class_view_enabled``): nothing is stored or shown.
"""

from __future__ import annotations

import os
import statistics
import threading
from collections import deque
from dataclasses import dataclass
from typing import Mapping, Protocol

CLASS_VIEW_ENV = "EXPLORER_CLASS_VIEW"
ON, OFF = ("on", "1", "true", "yes"), ("off", "0", "false", "no")
MAX_ROWS = 5000  # rows kept; the oldest go first
SUMMARY_ROWS = 200  # groups shown


def class_view_enabled(environ: Mapping[str, str] = os.environ) -> bool:
    """``EXPLORER_CLASS_VIEW``: on (default) or off; anything else is refused with ``ValueError``."""
    text = environ.get(CLASS_VIEW_ENV, "").strip().lower()
    if not text or text in ON:
        return True
    if text in OFF:
        return False
    shown = text if len(text) <= 20 else text[:19] + "…"
    raise ValueError(f"{CLASS_VIEW_ENV}={shown!r} is not allowed: {CLASS_VIEW_ENV} must be on or off (default on)")


@dataclass(frozen=True)
class ClassRow:
    """One browser result as the class view keeps it."""

    device: str  # DeviceResult.device: "Chrome 140 on Android, 8 logical cores"
    model: str  # the config's label
    input: str  # "224x224"
    median_ms: float
    measured_at: float  # unix time


@dataclass(frozen=True)
class ClassSummary:
    """One (device, model, input) group."""

    device: str
    model: str
    input: str
    count: int
    median_ms: float  # median of the rows' medians
    latest: float


class ClassViewStore(Protocol):
    """Where the class view's rows live: in memory, or a table of the result store's database."""

    def add(self, row: ClassRow) -> None: ...

    def rows(self) -> list[ClassRow]: ...

    def clear(self) -> None: ...


class MemoryClassView:
    """The newest ``max_rows`` rows, in memory (thread-safe); gone when the server stops."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self._lock = threading.Lock()
        self._rows: deque[ClassRow] = deque(maxlen=max_rows)

    def add(self, row: ClassRow) -> None:
        with self._lock:
            self._rows.append(row)

    def rows(self) -> list[ClassRow]:
        with self._lock:
            return list(self._rows)

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()


def summarize(rows: list[ClassRow], limit: int = SUMMARY_ROWS) -> list[ClassSummary]:
    """Groups by (device, model, input) with count and median of medians; the ``limit`` most recent groups,
    ordered by model, input and median."""
    groups: dict[tuple[str, str, str], list[ClassRow]] = {}
    for row in rows:
        groups.setdefault((row.device, row.model, row.input), []).append(row)
    summaries = [ClassSummary(device, model, size, len(members), statistics.median(r.median_ms for r in members),
                              max(r.measured_at for r in members))
                 for (device, model, size), members in groups.items()]  # fmt: skip
    summaries = sorted(summaries, key=lambda s: s.latest, reverse=True)[:limit]
    return sorted(summaries, key=lambda s: (s.model, _pixels(s.input), s.median_ms))


def _pixels(size: str) -> int:
    height, _, width = size.partition("x")
    return int(height) * int(width) if height.isdigit() and width.isdigit() else 0
