"""A latency budget from the prediction: pick each g's widest width by the predictor, confirm it by measuring.

With a calibration kept for the backend and threads (``explorer.latency.predictor.kept``),
``predicted_latency_budget`` answers what ``latency_search`` answers with at most two
measurements per g instead of 3-6:

1. **Pick.** The widest width on the 0.01 grid whose *predicted* latency is within the
   budget, taken at the widest width of its network (``network_key``). Every width is
   predicted, as predictions do not grow with the width everywhere (``widest_predicted``).
2. **Confirm.** That network is measured once (``LatencyRunner``, one round for every g;
   the result store first, and every new measurement is put there). Within the budget:
   that is the answer, measured.
3. **Step down.** Over the budget: the prediction was this config's measured/predicted
   ratio too optimistic, so the budget is scaled by it (``budget * predicted / measured``),
   the widest narrower network predicted within that is picked and measured once more.
   Still over: the g has no confirmed answer; the next step down is given with its
   prediction only, marked as such (status ``"predicted only"``).

When even the narrowest width is predicted over the budget, it is measured once to say so.
Every number keeps what it is: ``Probe`` s are measured (or stored measurements), each
candidate's ``latency_ms`` is measured or None and its ``predicted_ms`` predicted; the
paper's models are measured only when a probe measured their network or the store holds
them, else predicted. A second search finds every probe in the store and measures nothing.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..checks import check_choice, check_number
from ..latency.predictor import Predictor
from ..latency.results import Measurement
from ..shufflenet import PAPER_GROUPS, REFERENCE_INPUT, VARIANTS, ShuffleNetConfig
from .bracket import Grid, GroupSearch, Probe
from .budget import network_key
from .decision import Decision, Over, best_paper_models, candidate, rank
from .latency_search import (
    MAX_BUDGET_MS,
    SEARCH_MIN_TIME,
    SEARCH_SECONDS,
    LatencySearch,
    Store,
    _flags,
    _measure_round,
    _refusal,
    _reusable,
    _Stop,
)
from .predicted import note_text

MAX_MEASUREMENTS = 2  # per g: the confirmation and one step down


@dataclass
class PredictedGroup(GroupSearch):
    """One g's pick by the prediction and its confirmations; ``unconfirmed``: a step down never measured."""

    picks: list[tuple[float, float]] = field(default_factory=list)  # (width, predicted ms) of every pick, in order
    unconfirmed: ShuffleNetConfig | None = None


@functools.lru_cache(maxsize=64)
def _predictions(groups: int, variant: str, input_size: tuple[int, int], predictor: Predictor) -> tuple[float, ...]:
    """Every width's predicted ms on the grid of (g, variant, input), narrowest first: once per predictor."""
    grid = Grid(groups, variant, input_size)
    return tuple(predictor.predict_ms(grid.config(index)) for index in range(len(grid.widths)))


def widest_predicted(grid: Grid, predictor: Predictor, limit_ms: float, below: int) -> int:
    """The widest grid index under ``below`` whose prediction is within ``limit_ms`` (-1: none), at its network's
    widest width (still under ``below``).

    Predicted time is not monotone in width on ONNX Runtime: channels that fill its blocks run without the
    reorders a slightly narrower network needs (``layout.ort_kernels``), and grouped 1x1s whose groups fill the
    blocks run blocked instead of whole groups per thread (``layout.imbalance``), so a wider network can be
    predicted, and run, far faster (ShuffleNet 3.2x g = 3 against 3.17x: docs/prediction.md). So every width is
    predicted and the widest within the limit wins, however far above a narrower one over it."""
    predictions = _predictions(grid.groups, grid.variant, grid.input_size, predictor)
    index = next((i for i in range(min(below, len(predictions)) - 1, -1, -1) if predictions[i] <= limit_ms), -1)
    return -1 if index < 0 else min(grid.widest_of_plan(index), below - 1)


def predicted_latency_budget(
    budget_ms: float,
    store: Store,
    predictor: Predictor,
    *,
    groups: Sequence[int] = PAPER_GROUPS,
    variants: Sequence[str] = ("standard",),
    input_size: tuple[int, int] = REFERENCE_INPUT,
    min_time: float = SEARCH_MIN_TIME,
    max_seconds: float = SEARCH_SECONDS,
    progress: Callable[[int, int, str], None] | None = None,
    cancel: threading.Event | None = None,
    remeasure_busy: bool = False,
) -> LatencySearch:
    """The widest width of each g within ``budget_ms``, picked by ``predictor`` and confirmed by measuring."""
    budget_ms = check_number(
        "budget_ms", budget_ms, 0, MAX_BUDGET_MS, f"milliseconds above 0 and up to {MAX_BUDGET_MS:g}"
    )
    if budget_ms <= 0:
        raise ValueError(f"budget_ms={budget_ms!r} is not allowed: budget_ms must be milliseconds above 0")
    for variant in variants:
        check_choice("variant", variant, VARIANTS)
    backend, threads = predictor.backend, predictor.threads
    started = time.monotonic()
    stop = _Stop(cancel, started + check_number("max_seconds", max_seconds, 1, 86_400, "seconds from 1 to 86400"))
    grids = {(g, v): Grid(g, v, tuple(input_size)) for v in variants for g in groups}
    searches = [PredictedGroup(g, v, high=len(grid.widths)) for (g, v), grid in grids.items()]
    result = LatencySearch(budget_ms, backend, threads, tuple(input_size), searches, remeasure_busy=remeasure_busy)
    tell = progress or (lambda done, total, message: None)
    limits = {id(s): budget_ms for s in searches}  # the predicted limit each g picks under
    for _round in range(MAX_MEASUREMENTS):
        picks: dict[ShuffleNetConfig, tuple[PredictedGroup, int]] = {}
        for search in (s for s in searches if not s.done):
            grid = grids[(search.groups, search.variant)]
            # predicted over even at the narrowest: measure the narrowest once to say so
            index = max(widest_predicted(grid, predictor, limits[id(search)], search.high), 0)
            config = grid.config(index)
            search.picks.append((config.width, predictor.predict_ms(config)))
            stored = _reusable(store.get(config, backend, threads, 1), remeasure_busy)
            if stored is not None:
                result.reused += 1
                _confirm(
                    search,
                    grid,
                    index,
                    Probe(config, stored.per_image_ms, True, _flags(stored)),
                    budget_ms,
                    predictor,
                    limits,
                )
            elif refused := _refusal(config, backend):
                search.status, search.reason = "stopped", f"{config.label} was not measured: {refused}"
            else:
                picks[config] = (search, index)
        if stop.is_set():
            break
        if not picks:  # all from the store: the next round may still step down (a second search walks the same path)
            continue
        done = result.measured + result.reused
        tell(
            done,
            done + len(picks),
            "confirming the prediction: "
            + ", ".join(f"g = {c.groups} at {c.width:g}x ({predictor.predict_ms(c):.2f} ms predicted)" for c in picks),
        )

        def measured(outcome, picks=picks) -> None:
            search, index = picks[outcome.config]
            if not isinstance(outcome, Measurement):
                search.status, search.reason = "failed", outcome.message()
                return
            store.put(outcome)
            result.measured += 1
            _confirm(
                search,
                grids[(search.groups, search.variant)],
                index,
                Probe(outcome.config, outcome.per_image_ms, False, _flags(outcome)),
                budget_ms,
                predictor,
                limits,
            )
            side = "within" if outcome.per_image_ms <= budget_ms else "over"
            done = result.measured + result.reused
            tell(
                done,
                done,
                f"g = {search.groups} {search.variant} at {outcome.config.width:g}x: "
                f"{outcome.per_image_ms:.2f} ms measured ({side})",
            )

        for config, outcome in _measure_round(list(picks), backend, threads, min_time, stop, measured).items():
            if isinstance(outcome, str):
                search = picks[config][0]
                search.status, search.reason = "stopped", f"{config.label} was not measured: {outcome}"
    _finish(result, searches, grids, predictor, stop, budget_ms)
    result.decision = _decision(result, predictor, store)
    result.seconds = time.monotonic() - started
    return result


def _confirm(
    search: PredictedGroup, grid: Grid, index: int, probe: Probe, budget_ms: float, predictor: Predictor, limits: dict
) -> None:
    """One confirmation: within, the answer; over, the bracket's top moves down and the limit is corrected."""
    search.probes.append(probe)
    if probe.ms <= budget_ms:
        search.low, search.fit = index, probe
        search.status = "widest fits" if index == len(grid.widths) - 1 else "found"
        if index == 0 and search.picks and search.picks[-1][1] > budget_ms:
            search.reason = "the prediction put even the narrowest width over the budget; measured, it fits"
        return
    search.high, search.over = grid.narrowest_of_plan(index), probe
    limits[id(search)] = budget_ms * predictor.predict_ms(probe.config) / probe.ms
    if search.high == 0:
        search.status = "nothing fits"


def _finish(
    result: LatencySearch,
    searches: list[PredictedGroup],
    grids: dict,
    predictor: Predictor,
    stop: _Stop,
    budget_ms: float,
) -> None:
    """Name why a g ended without a confirmed answer; over twice: the next step down, predicted only."""
    if stop.cancelled:
        result.stopped = "cancelled"
    elif stop.timed_out:
        result.stopped = "the search's time limit was reached"
    for search in searches:
        if search.done:
            continue
        if result.stopped:
            search.status, search.reason = "stopped", result.stopped
            continue
        grid = grids[(search.groups, search.variant)]
        limit = budget_ms * predictor.predict_ms(search.over.config) / search.over.ms
        index = widest_predicted(grid, predictor, limit, search.high)
        if index < 0:
            search.status = "nothing fits"
            continue
        search.unconfirmed = grid.config(index)
        search.status = "predicted only"
        search.reason = (
            f"measured over the budget {MAX_MEASUREMENTS} times; {search.unconfirmed.width:g}x is "
            f"predicted to fit and was not measured"
        )


def _decision(result: LatencySearch, predictor: Predictor, store: Store) -> Decision:
    """Every g's answer and the widest paper model within it: measured where a probe or the store has it."""
    measured: dict[tuple, float] = {network_key(p.config): p.ms for s in result.searches for p in s.probes}

    def latency(config: ShuffleNetConfig) -> float | None:
        if network_key(config) in measured:
            return measured[network_key(config)]
        stored = _reusable(store.get(config, result.backend, result.threads, 1), result.remeasure_busy)
        return None if stored is None else stored.per_image_ms

    answers = {(s.groups, s.variant): s.fit.config if s.fit else s.unconfirmed for s in result.searches}
    answers = {key: config for key, config in answers.items() if config is not None}
    found = [candidate(config, "widest", latency, predictor.predict) for config in answers.values()]
    papers = best_paper_models(
        lambda c: (c.groups, c.variant) in answers and c.width <= answers[(c.groups, c.variant)].width,
        sorted({g for g, _ in answers}),
        list(VARIANTS),
        result.input_size,
    )
    for config in papers:
        paper = candidate(config, "paper", latency, predictor.predict)
        ms = paper.latency_ms if paper.latency_ms is not None else paper.predicted_ms
        if ms <= result.budget_ms:
            found.append(paper)
    over = tuple(
        Over(s.groups, s.variant, s.over.ms)
        for s in result.searches
        if s.status == "nothing fits" and s.over is not None
    )
    return Decision(
        "ms",
        result.budget_ms,
        rank(found),
        over,
        result.input_size,
        note=result.holds_for,
        predicted_note=note_text(predictor),
    )
