"""What fits N milliseconds on this machine? A search over width per g that measures only what it needs.

For each g (and variant), the widest width on the 0.01 grid whose measured median
latency (one image, this backend and thread count) is within the budget. Latency grows
with width (more channels, more multiply-adds), so the search brackets the answer
between a width measured within the budget and the next wider one measured over it:

* **Only distinct models are measured.** Neighbouring widths often round to the same
  channels (``ChannelPlan``); a probe always measures the *widest* width of its plan, so
  a plan is measured once and the answer is that plan's widest width.
* **Few probes.** The next probe is where the multiply-adds predict the budget to be
  (in proportion from one measurement of this g, by the line through the two nearest
  after that; before any, from the median multiply-adds per ms of the other g's probes:
  the first round probes only the first g, at 1x), clamped inside the bracket; when two
  probes in a row land on the same side it bisects instead. Typically 3-6 measurements
  per g. Each round picks its probes from the state at the start of the round, so a
  second search walks the same path.
* **Stored measurements first.** Every probe is looked up in the result store
  (duck-typed ``get(config, backend, threads, batch)`` / ``put(measurement)``) before it
  is measured, and every new measurement is put there: asking again answers from the
  store without measuring. With ``remeasure_busy``, a stored measurement flagged busy
  (taken while other processes used the CPUs) is measured again instead; either way the
  answer counts the busy probes it rests on (``LatencySearch.busy``).
* **One measuring loop.** New probes are measured round by round through
  ``LatencyRunner.measure_many`` (one round: the next probe of every unfinished g), with
  ``progress`` and ``cancel`` passed through; a fresh runner per round, so no exported
  model outlives its round.
* **Limits.** A probe whose count or measurement would exceed the memory or time limits
  (``explorer.counting.check_counting`` / ``check_memory``) ends that g's search with the
  bracket found so far and the reason; the whole search stops at ``max_seconds``
  (``SEARCH_SECONDS``) or on cancel, with what it found and why.

The answer is a ``Decision`` (``explorer.sizing.decision``) of kind ``"ms"``: the widest
fitting width of every g, and the widest model the paper reports an error for within it
(measured too, where no probe already measured its plan), ranked by the same rule.
Noise: a plan measured near the budget may fall on either side on another day; the
probes, their medians and their noisy/busy flags are kept (``GroupSearch.probes``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..checks import check_choice, check_number
from ..counting import ResourceRefused, check_counting, check_memory
from ..latency.backends import BACKENDS, BackendFailure
from ..latency.results import Measurement
from ..latency.runner import LatencyRunner
from ..latency.threads import check_threads, default_threads
from ..latency.timing import flags_text
from ..shufflenet import PAPER_GROUPS, REFERENCE_INPUT, VARIANTS, ShuffleNetConfig
from .bracket import Grid, GroupSearch, Probe, predict, record
from .budget import network_key
from .decision import Decision, Over, best_paper_models, candidate, rank

DEFAULT_BACKEND = "ort"  # the fastest FP32 runtime here (see docs/benchmarks.md, latency)
SEARCH_MIN_TIME = 0.3  # seconds of timed runs per probe: enough for a stable median of a small model
SEARCH_WARMUP = 0.1
SEARCH_SECONDS = 300.0  # the whole search stops here with what it found
MAX_BUDGET_MS = 60_000.0


class Store(Protocol):
    def get(self, config, backend: str, threads: int, batch: int = 1) -> Measurement | None: ...

    def put(self, measurement: Measurement) -> None: ...


@dataclass
class LatencySearch:
    """What the search found, how, and why it stopped early if it did."""

    budget_ms: float
    backend: str
    threads: int
    input_size: tuple[int, int]
    searches: list[GroupSearch]
    decision: Decision | None = None
    measured: int = 0  # new measurements made by this search
    reused: int = 0  # probes answered from the store
    seconds: float = 0.0
    stopped: str = ""  # why the search ended before every g was answered ("" when it finished)
    remeasure_busy: bool = False

    @property
    def busy(self) -> int:
        """Probes measured while other processes used the CPUs: their medians are probably too slow."""
        return sum("busy" in p.flags for s in self.searches for p in s.probes)

    @property
    def holds_for(self) -> str:
        return f"{BACKENDS[self.backend].label}, {self.threads} thread{'s' if self.threads > 1 else ''}, batch 1"


class _Stop(threading.Event):
    """Set by hand, by the caller's cancel event, or by the deadline: what ``measure_many`` polls."""

    def __init__(self, cancel: threading.Event | None, deadline: float) -> None:
        super().__init__()
        self.cancel, self.deadline = cancel, deadline

    def is_set(self) -> bool:
        return super().is_set() or self.cancelled or self.timed_out

    @property
    def cancelled(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    @property
    def timed_out(self) -> bool:
        return time.monotonic() > self.deadline


def _reusable(stored: Measurement | None, remeasure_busy: bool) -> Measurement | None:
    """A stored measurement to reuse (with ``remeasure_busy``, not one flagged busy: that one is measured again)."""
    return None if stored is None or (remeasure_busy and stored.timing.contended) else stored


def _flags(m: Measurement) -> str:
    return flags_text(m.timing.noisy, m.timing.contended)


def _refusal(config: ShuffleNetConfig, backend: str) -> str | None:
    try:
        check_counting(config)
        check_memory(config, 1, (backend,))
    except ResourceRefused as error:
        return str(error)
    return None


def _estimate(searches: Sequence[GroupSearch], done: int) -> int:
    """Measurements done plus a guess of those still to come (about log2 of each open bracket)."""
    left = sum(max(1, math.ceil(math.log2(max(2, s.high - s.low)))) // 2 + 1 for s in searches if not s.done)
    return done + left


def _measure_round(
    configs: Sequence[ShuffleNetConfig],
    backend: str,
    threads: int,
    min_time: float,
    stop: _Stop,
    on_measured: Callable[[Measurement | BackendFailure], None],
) -> dict:
    """Measure ``configs`` in one ``measure_many`` loop; {config: Measurement, BackendFailure or refusal text}."""
    outcomes: dict = {}
    current: list[ShuffleNetConfig] = []

    def progress(done: int, total: int, outcome: Measurement | BackendFailure) -> None:
        outcomes[outcome.config] = outcome
        on_measured(outcome)

    try:
        with LatencyRunner(threads, 1, min_time, warmup=SEARCH_WARMUP) as runner:
            runner.measure_many(
                [(c, backend) for c in configs],
                progress=progress,
                cancel=stop,
                on_start=lambda i, n, config, b: current.append(config),
            )
    except ResourceRefused as error:  # pre-checked (``_refusal``); a changed limit still ends only that g
        if current:
            outcomes[current[-1]] = str(error)
    return outcomes


def search_latency_budget(
    budget_ms: float,
    store: Store,
    *,
    groups: Sequence[int] = PAPER_GROUPS,
    variants: Sequence[str] = ("standard",),
    backend: str = DEFAULT_BACKEND,
    threads: int | None = None,
    input_size: tuple[int, int] = REFERENCE_INPUT,
    min_time: float = SEARCH_MIN_TIME,
    max_seconds: float = SEARCH_SECONDS,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
    remeasure_busy: bool = False,
) -> LatencySearch:
    """The widest width of each g (and variant) within ``budget_ms`` here, measuring only what the store lacks.

    ``progress(done, estimated_total, message)`` is called before each round and after each
    measurement; ``cancel`` stops at the next timed run. Returns a ``LatencySearch`` whose
    ``decision`` ranks what fits (``explorer.sizing.decision.SORT_RULE``).
    """
    budget_ms = check_number(
        "budget_ms", budget_ms, 0, MAX_BUDGET_MS, f"milliseconds above 0 and up to {MAX_BUDGET_MS:g}"
    )
    if budget_ms <= 0:
        raise ValueError(f"budget_ms={budget_ms!r} is not allowed: budget_ms must be milliseconds above 0")
    check_choice("backend", backend, BACKENDS)
    for variant in variants:
        check_choice("variant", variant, VARIANTS)
    threads = check_threads(default_threads() if threads is None else threads)
    max_seconds = check_number("max_seconds", max_seconds, 1, 86_400, "seconds from 1 to 86400")
    started = time.monotonic()
    stop = _Stop(cancel, started + max_seconds)
    grids = {(g, v): Grid(g, v, tuple(input_size)) for v in variants for g in groups}
    searches = [GroupSearch(g, v, high=len(grid.widths)) for (g, v), grid in grids.items()]
    result = LatencySearch(budget_ms, backend, threads, tuple(input_size), searches, remeasure_busy=remeasure_busy)
    tell = progress or (lambda done, total, message: None)
    rates: list[float] = []  # multiply-adds per ms of every probe so far: the first guess for the next g

    def take(search: GroupSearch, index: int, probe: Probe) -> None:
        rates.append(_grid_of(search).macs(index) / probe.ms)
        record(search, _grid_of(search), index, probe, budget_ms)

    def _grid_of(search: GroupSearch) -> Grid:
        return grids[(search.groups, search.variant)]

    while not stop.is_set():
        # One probe per open search per round, each chosen from the state at the start of the round,
        # so that a second run walks the same path and finds every probe in the store. The first
        # round probes only the first g: the others then start from its multiply-adds per ms.
        rate = sorted(rates)[len(rates) // 2] if rates else None
        open_searches = [s for s in searches if not s.done][: None if rates else 1]
        chosen = []
        for search in open_searches:
            grid = _grid_of(search)
            index = grid.widest_of_plan(predict(search, grid, budget_ms, rate))
            chosen.append((search, index, grid.config(index)))
        pending: dict[ShuffleNetConfig, tuple[GroupSearch, int]] = {}
        for search, index, config in chosen:
            stored = _reusable(store.get(config, backend, threads, 1), remeasure_busy)
            if stored is not None:
                result.reused += 1
                take(search, index, Probe(config, stored.per_image_ms, True, _flags(stored)))
                continue
            refused = _refusal(config, backend)
            if refused:
                search.status, search.reason = "stopped", f"{config.label} was not measured: {refused}"
            else:
                pending[config] = (search, index)
        if not pending:
            if any(not s.done for s in searches):
                continue
            break
        done = result.measured + result.reused
        tell(
            done,
            _estimate(searches, done),
            f"measuring {len(pending)} model(s): " + ", ".join(f"g = {c.groups} at {c.width:g}x" for c in pending),
        )

        def measured(outcome: Measurement | BackendFailure, pending: dict = pending) -> None:
            search, index = pending[outcome.config]
            if isinstance(outcome, Measurement):
                store.put(outcome)
                result.measured += 1
                take(search, index, Probe(outcome.config, outcome.per_image_ms, False, _flags(outcome)))
                side = "within" if outcome.per_image_ms <= budget_ms else "over"
                message = (
                    f"g = {search.groups} {search.variant} at {outcome.config.width:g}x: "
                    f"{outcome.per_image_ms:.2f} ms ({side})"
                )
            else:
                search.status, search.reason = "failed", outcome.message()
                message = outcome.message()
            done = result.measured + result.reused
            tell(done, _estimate(searches, done), message)

        for config, outcome in _measure_round(list(pending), backend, threads, min_time, stop, measured).items():
            if isinstance(outcome, str):
                search = pending[config][0]
                search.status, search.reason = "stopped", f"{config.label} was not measured: {outcome}"
    if stop.cancelled:
        result.stopped = "cancelled"
    elif stop.timed_out:
        result.stopped = f"the search's time limit ({max_seconds:g} s) was reached"
    for search in searches:
        if not search.done:
            search.status, search.reason = "stopped", result.stopped
    papers = [] if result.stopped else _paper_candidates(result, store, stop, min_time)
    result.decision = _decision(result, papers)
    result.seconds = time.monotonic() - started
    return result


def _paper_candidates(
    result: LatencySearch, store: Store, stop: _Stop, min_time: float
) -> list[tuple[ShuffleNetConfig, float]]:
    """The widest paper model of each g (and variant) no wider than its answer, with its latency here.

    A model whose channel plan a probe already measured takes that probe's latency (the
    same network); otherwise the store's, otherwise it is measured (one more round).
    """
    fits = {(s.groups, s.variant): s.fit for s in result.searches if s.fit is not None}
    groups = sorted({g for g, _ in fits})
    variants = [v for v in VARIANTS if any(key[1] == v for key in fits)]
    chosen = best_paper_models(
        lambda c: (c.groups, c.variant) in fits and c.width <= fits[(c.groups, c.variant)].config.width,
        groups,
        variants,
        result.input_size,
    )
    timed: list[tuple[ShuffleNetConfig, float]] = []
    missing: list[ShuffleNetConfig] = []
    for config in chosen:
        search = next(s for s in result.searches if (s.groups, s.variant) == (config.groups, config.variant))
        same = next((p for p in search.probes if network_key(p.config) == network_key(config)), None)
        stored = (
            None if same else _reusable(store.get(config, result.backend, result.threads, 1), result.remeasure_busy)
        )
        if same or stored:
            timed.append((config, same.ms if same else stored.per_image_ms))
            result.reused += 0 if same else 1
        else:
            missing.append(config)
    if missing and not stop.is_set() and not any(_refusal(c, result.backend) for c in missing):

        def measured(outcome: Measurement | BackendFailure) -> None:
            if isinstance(outcome, Measurement):
                store.put(outcome)
                result.measured += 1
                timed.append((outcome.config, outcome.per_image_ms))

        _measure_round(missing, result.backend, result.threads, min_time, stop, measured)
    return [(config, ms) for config, ms in timed if ms <= result.budget_ms]


def _decision(result: LatencySearch, papers: list[tuple[ShuffleNetConfig, float]]) -> Decision:
    found = [candidate(s.fit.config, "widest", lambda _c, ms=s.fit.ms: ms) for s in result.searches if s.fit]
    found += [candidate(config, "paper", lambda _c, ms=ms: ms) for config, ms in papers]
    over = tuple(
        Over(s.groups, s.variant, s.over.ms)
        for s in result.searches
        if s.status == "nothing fits" and s.over is not None
    )
    return Decision("ms", result.budget_ms, rank(found), over, result.input_size, note=result.holds_for)
