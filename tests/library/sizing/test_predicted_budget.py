"""Latency budgets from the prediction (issue 19, item 4): pick by a kept calibration, confirm by real measurements.

The calibration is synthetic (``tests.test_predictor.synthetic_calibration``: known kernel
times inside networks, nothing timed), scaled to be too slow or too fast for this machine so that both
paths run: confirmed within at the first measurement, and over then stepped down. The
measurements are real (ONNX Runtime, small inputs, short timed runs).
"""

from __future__ import annotations

import dataclasses
import json
import time

import pytest
from conftest import run_cli

from explorer.latency import default_threads
from explorer.latency.predictor import Calibration, Predictor, keep
from explorer.latency.predictor.kept import key_here
from explorer.latency.stored import open_store
from explorer.shufflenet import ShuffleNetConfig
from explorer.sizing import network_key
from explorer.sizing.bracket import Grid, Probe
from explorer.sizing.latency_search import LatencySearch
from explorer.sizing.predicted_search import (
    MAX_MEASUREMENTS,
    PredictedGroup,
    _decision,
    predicted_latency_budget,
    widest_predicted,
)

SMALL = (64, 64)


def row_of(decision, config: ShuffleNetConfig):
    """The decision's row for the network ``config`` builds: a g's answer that builds a model the paper reports
    is listed once, as the paper's row (``decision.rank``), so rows are found by network, not by origin."""
    return next(c for c in decision.candidates if network_key(c.config) == network_key(config))


def scaled_calibration(scale: float, backend: str = "ort", threads: int | None = None) -> Calibration:
    """The synthetic calibration, every time multiplied by ``scale``, as if made here (machine and versions)."""
    from test_predictor import synthetic_calibration

    from explorer.machine import versions

    threads = default_threads() if threads is None else threads
    calibration = synthetic_calibration(backend=backend)
    networks = tuple(
        dataclasses.replace(n, median_ms=n.median_ms * scale, kind_ms={k: ms * scale for k, ms in n.kind_ms.items()})
        for n in calibration.networks
    )
    return dataclasses.replace(
        calibration,
        networks=networks,
        overhead_ms=calibration.overhead_ms * scale,
        threads=threads,
        machine=key_here(backend, threads).machine,
        versions=versions(),
        created_at=time.time(),  # kept predictors are cached by created_at
    )


@pytest.fixture
def fresh_data(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    return tmp_path


def test_the_pick_is_the_widest_network_predicted_within():
    predictor = Predictor(scaled_calibration(1.0))
    grid = Grid(3, "standard", (224, 224))
    index = widest_predicted(grid, predictor, 5.0, len(grid.widths))
    assert predictor.predict_ms(grid.config(index)) <= 5.0
    wider = next(i for i in range(index + 1, len(grid.widths)) if grid.network(i) != grid.network(index))
    assert predictor.predict_ms(grid.config(wider)) > 5.0
    assert widest_predicted(grid, predictor, 1e-3, len(grid.widths)) == -1
    assert widest_predicted(grid, predictor, 1e6, index) == index - 1 or grid.network(index - 1) != grid.network(index)


def test_the_pick_is_the_widest_within_where_the_prediction_is_not_monotone():
    """On ONNX Runtime a network whose channels fill the blocks runs without reorders, so a wider one can be
    predicted faster: the pick is still the widest within the limit, as a scan of the whole grid finds it."""
    predictor = Predictor(scaled_calibration(1.0))
    grid = Grid(3, "standard", SMALL)
    predicted = [predictor.predict_ms(grid.config(i)) for i in range(len(grid.widths))]
    assert any(b < a for a, b in zip(predicted, predicted[1:]))  # not monotone
    for limit in sorted(predicted)[::5]:
        widest = max(i for i, ms in enumerate(predicted) if ms <= limit)
        assert widest_predicted(grid, predictor, limit, len(grid.widths)) == grid.widest_of_plan(widest), limit


@pytest.mark.slow
def test_a_pessimistic_prediction_is_confirmed_by_one_measurement_and_a_second_search_measures_nothing(fresh_data):
    predictor = Predictor(scaled_calibration(4.0))  # predicts far slower than this machine runs: confirmed within
    store = open_store()
    first = predicted_latency_budget(4.0, store, predictor, groups=(3, 8), input_size=SMALL, min_time=0.05)
    assert first.measured == 2 and not first.stopped
    for search in first.searches:
        assert search.status in ("found", "widest fits") and len(search.probes) == 1
        width, predicted = search.picks[0]
        assert predicted <= 4.0 and search.fit.ms <= 4.0 and search.fit.config.width == width
    rows = [row_of(first.decision, search.fit.config) for search in first.searches]
    assert all(row.latency_ms == search.fit.ms for row, search in zip(rows, first.searches))
    assert all(row.predicted_ms is not None for row in rows)
    assert "predicted here with ONNX Runtime FP32" in first.decision.predicted_note
    second = predicted_latency_budget(4.0, store, predictor, groups=(3, 8), input_size=SMALL, min_time=0.05)
    assert second.measured == 0 and second.reused == 2  # warm speed: benchmarks/budget.py
    assert [c.config for c in second.decision.candidates] == [c.config for c in first.decision.candidates]


@pytest.mark.slow
def test_an_optimistic_prediction_steps_down_and_measures_at_most_twice(fresh_data):
    predictor = Predictor(scaled_calibration(0.05))  # predicts faster than this machine: the first pick is over
    store = open_store()
    result = predicted_latency_budget(1.0, store, predictor, groups=(8,), input_size=SMALL, min_time=0.05)
    (search,) = result.searches
    assert len(search.probes) <= MAX_MEASUREMENTS and result.measured == len(search.probes)
    first = search.probes[0]
    assert first.ms > 1.0 and search.over is not None  # over, so the search stepped down
    assert len(search.probes) == 2 and search.probes[1].config.width < first.config.width
    if search.fit is not None:
        assert search.fit.ms <= 1.0 and search.status == "found"
        row = row_of(result.decision, search.fit.config)
        assert row.latency_ms == search.fit.ms
    else:
        assert search.status in ("predicted only", "nothing fits")
        if search.status == "predicted only":
            row = row_of(result.decision, search.unconfirmed)
            assert row.latency_ms is None and row.predicted_ms is not None and "not measured" in search.reason
    again = predicted_latency_budget(1.0, store, predictor, groups=(8,), input_size=SMALL, min_time=0.05)
    assert again.measured == 0 and again.reused == len(search.probes)  # the same path, from the store
    assert [c.config for c in again.decision.candidates] == [c.config for c in result.decision.candidates]


def test_an_answer_that_builds_a_paper_model_is_the_papers_row_with_its_measurement(fresh_data):
    """0.51x g = 8 builds 0.5x g = 8's network (Table 2): a search that lands there (the optimistic search above
    can, on a slow machine) lists one row, the paper's model, measured by its probe and marked as g = 8's answer."""
    answer = ShuffleNetConfig(8, 0.51, input_size=SMALL)
    search = PredictedGroup(8, "standard", status="found")
    search.fit = Probe(answer, 0.9, stored=False)
    search.probes.append(search.fit)
    result = LatencySearch(1.0, "ort", default_threads(), SMALL, [search])
    decision = _decision(result, Predictor(scaled_calibration(1.0)), open_store())
    (row,) = decision.candidates
    assert row.config.width == 0.5 and row.reported is not None and row.latency_ms == 0.9
    assert row.origin == "widest"  # and marked as g = 8's answer


def test_without_a_calibration_the_cli_searches_by_measuring_as_before(fresh_data):
    payload = json.loads(run_cli("budget", "--mflops", "40", "--json").stdout)
    assert "predicted" not in payload["latency"] and "predicted_ms" not in payload["results"][0]


def test_cli_budget_marks_predicted_and_measured_latencies(fresh_data):
    keep(scaled_calibration(4.0))
    payload = json.loads(run_cli("budget", "--mflops", "40", "--json").stdout)
    assert payload["latency"]["predicted"].startswith("predicted here with ONNX Runtime FP32")
    assert all(r["predicted_ms"] > 0 and r["latency_ms"] is None for r in payload["results"])
    text = run_cli("budget", "--mflops", "40").stdout
    assert " pred." in text and all(len(line) <= 80 for line in text.splitlines())
    assert '"pred.": milliseconds not measured, predicted here with ONNX Runtime FP32' in " ".join(text.split())


@pytest.mark.slow
def test_cli_ms_budget_with_a_calibration_says_which_numbers_are_measured(fresh_data):
    keep(scaled_calibration(4.0))
    args = ("budget", "--ms", "3", "--groups", "3,8", "--input", "64x64")
    payload = json.loads(run_cli(*args, "--json").stdout)
    search = payload["search"]
    assert search["picked_by"] == "prediction, confirmed by measuring" and search["measured"] == 2
    for group in search["groups"]:
        assert len(group["probes"]) == 1 and group["picks"][0]["width"] == group["probes"][0]["width"]
    measured = {(p["width"], g["groups"]) for g in search["groups"] for p in g["probes"]}
    for row in payload["results"]:
        assert row["predicted_ms"] is not None
        same = (row["width"], row["groups"]) in measured
        assert (row["latency_ms"] is not None) == same or row["origin"] == "paper"
    text = run_cli(*args)
    assert text.returncode == 0
    flat = " ".join(text.stdout.split())
    assert "picked by the prediction (predicted here with ONNX Runtime FP32" in flat
    assert "0 new measurement(s), 2 from the result store" in flat and " ms " in text.stdout


def test_network_key_reads_channels_not_the_widening_factor():
    assert network_key(ShuffleNetConfig(4, 0.51, "arch2")) == network_key(ShuffleNetConfig(4, 0.5, "arch2"))
    assert network_key(ShuffleNetConfig(4, 0.5, "arch2")) != network_key(
        ShuffleNetConfig(4, 0.5, "arch2", shuffle=False)
    )
