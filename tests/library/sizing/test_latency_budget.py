"""What fits N ms here: the search's bracket logic, then real searches on small inputs (ORT, tiny min_time)."""

from __future__ import annotations

import threading

import pytest

from explorer import ShuffleNetConfig
from explorer.shufflenet import plan_conv_macs
from explorer.sizing.bracket import Grid, GroupSearch, Probe, predict, record
from explorer.sizing.latency_search import search_latency_budget

SMALL = (64, 64)  # ShuffleNets at 64x64 run in about a millisecond: real measurements, quickly


class DictStore:
    """The store protocol the search is written against (the app and the CLI pass their result store)."""

    def __init__(self) -> None:
        self.items: dict = {}
        self.puts = 0

    def get(self, config, backend, threads, batch=1):
        return self.items.get((config, backend, threads, batch))

    def put(self, measurement) -> None:
        self.puts += 1
        self.items[measurement.key()] = measurement


# --------------------------------------------------------------------------- the bracket, on a latency law


def law(config: ShuffleNetConfig) -> float:
    """A monotone latency law (0.4 ms + 25 G multiply-adds/s): the bracket must find its exact boundary."""
    return 0.4 + plan_conv_macs(config.plan(), config.input_size) / 25e6


def run_bracket(groups: int, variant: str, budget: float, rate: float | None = None) -> GroupSearch:
    grid = Grid(groups, variant, (224, 224))
    search = GroupSearch(groups, variant, high=len(grid.widths))
    while not search.done:
        index = grid.widest_of_plan(predict(search, grid, budget, rate))
        record(search, grid, index, Probe(grid.config(index), law(grid.config(index)), False), budget)
    return search


@pytest.mark.parametrize(
    ("groups", "variant", "budget"),
    [(1, "standard", 3.0), (3, "standard", 6.0), (8, "standard", 2.0), (3, "arch2", 5.0), (6, "standard", 9.0)],
)
def test_the_bracket_finds_the_exact_widest_width_with_few_probes(groups, variant, budget):
    search = run_bracket(groups, variant, budget)
    grid = Grid(groups, variant, (224, 224))
    exact = max(w for w in grid.widths if law(ShuffleNetConfig(groups=groups, width=w, variant=variant)) <= budget)
    assert search.status == "found" and search.fit.config.width == exact
    assert search.over.ms > budget and search.over.config.plan() != search.fit.config.plan()
    assert len(search.probes) <= 9, [(p.config.width, round(p.ms, 2)) for p in search.probes]
    assert len({p.config.plan() for p in search.probes}) == len(search.probes)  # a network is measured once


def test_the_bracket_ends_at_either_end_of_the_grid():
    assert run_bracket(3, "standard", 1e6).status == "widest fits"
    nothing = run_bracket(3, "standard", 0.1)
    assert nothing.status == "nothing fits" and nothing.fit is None and nothing.over.config.width == 0.1


# --------------------------------------------------------------------------- real searches


@pytest.fixture(scope="module")
def searched():
    """One real search (g = 1 and 8 at 64x64), and the same request again against the same store."""
    store = DictStore()
    messages: list[str] = []
    first = search_latency_budget(
        1.5,
        store,
        groups=(1, 8),
        input_size=SMALL,
        min_time=0.05,
        progress=lambda done, total, message: messages.append(message),
    )
    second = search_latency_budget(1.5, store, groups=(1, 8), input_size=SMALL, min_time=0.05)
    return first, second, store, messages


def test_a_real_search_brackets_every_g_with_measurements(searched):
    first, _, store, messages = searched
    assert first.measured == store.puts > 0 and first.stopped == ""
    assert any("measuring" in m for m in messages) and any("ms (within)" in m or "ms (over)" in m for m in messages)
    for search in first.searches:
        assert search.status in ("found", "widest fits", "nothing fits"), search.reason
        assert all(p.ms <= 1.5 for p in search.probes if p is search.fit)
        if search.over is not None:
            assert search.over.ms > 1.5
        if search.status == "found":
            assert search.fit.ms <= 1.5 < search.over.ms
    decision = first.decision
    assert decision.kind == "ms" and all(c.latency_ms <= 1.5 for c in decision.candidates)
    assert "ONNX Runtime FP32" in decision.note and "Within 1.5 ms" in decision.recommendation


def test_asking_again_answers_from_the_store_without_measuring(searched):
    first, second, store, _ = searched
    assert second.measured == 0 and second.reused >= sum(len(s.probes) for s in first.searches)
    assert [(s.fit and s.fit.config) for s in second.searches] == [(s.fit and s.fit.config) for s in first.searches]


def test_cancel_and_the_time_limit_stop_with_what_was_found_and_why():
    cancel = threading.Event()
    cancel.set()
    cancelled = search_latency_budget(1.5, DictStore(), groups=(3,), input_size=SMALL, min_time=0.05, cancel=cancel)
    assert cancelled.stopped == "cancelled" and cancelled.measured == 0
    assert cancelled.searches[0].status == "stopped" and cancelled.searches[0].reason == "cancelled"
    assert cancelled.decision.candidates == ()
    timed = search_latency_budget(
        1.5, DictStore(), groups=(1, 2, 3, 4, 8), input_size=SMALL, min_time=0.05, max_seconds=1
    )
    assert "time limit (1 s)" in timed.stopped
    assert any(s.status == "stopped" and "time limit" in s.reason for s in timed.searches)


def test_a_probe_over_the_memory_limit_ends_that_g_with_the_reason(monkeypatch):
    monkeypatch.setenv("EXPLORER_MAX_MEMORY_MB", "1")
    result = search_latency_budget(5.0, DictStore(), groups=(3,), input_size=SMALL, min_time=0.05)
    search = result.searches[0]
    assert result.measured == 0 and search.status == "stopped"
    assert "was not measured" in search.reason and "EXPLORER_MAX_MEMORY_MB" in search.reason


@pytest.mark.parametrize("budget", [0, -1, float("nan"), float("inf"), 1e9])
def test_bad_budgets_and_backends_are_refused(budget):
    with pytest.raises(ValueError, match="budget_ms"):
        search_latency_budget(budget, DictStore())
    with pytest.raises(ValueError, match="backend"):
        search_latency_budget(5.0, DictStore(), backend="tensorrt")
