"""Complexity page with predicted latency (issue 19, item 3): the twin chart, where the time goes, G2, the decision
table's predicted column; and, without a kept calibration, where to make one instead of a chart."""

from __future__ import annotations

import re

import pytest
from conftest import assert_clean, open_app, plotly_specs
from test_predicted_budget import scaled_calibration

from explorer import ShuffleNetConfig
from explorer.latency import default_threads, measure
from explorer.latency.predictor import Predictor, keep, kept_calibration
from ui.latency.jobs import result_store
from ui.sizing.decision import LATENCY_COLUMN, OWN_ERROR_COLUMN, PREDICTED_COLUMN

PAGE = "pages/2_Complexity.py"
SWEEP = "Latency vs width (predicted here)"


def charts(at) -> dict[str, dict]:
    return {spec["layout"]["title"]["text"]: spec for spec in plotly_specs(at)}


def model_groups(label: str) -> int:
    """g of a budget table's "Model" label, e.g. ``ShuffleNet 0.5x arch2 (g=8)``."""
    return int(re.search(r"\(g=(\d+)", label).group(1))


def budget_table(at):
    return next(d.value for d in at.dataframe if "Why listed" in d.value.columns)


@pytest.fixture
def fresh_data(tmp_path, monkeypatch):
    """A data directory of this test's own: calibrations and the server's result store (cached by Streamlit,
    so cleared on both sides: later tests get the session's store back)."""
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    result_store.clear()
    yield tmp_path
    result_store.clear()


def test_without_a_calibration_the_page_says_where_to_make_one(fresh_data):
    at = open_app(PAGE)
    assert_clean(at)
    infos = [i.value for i in at.info if "No latency calibration is kept" in i.value]
    assert len(infos) == 2  # instead of the twin chart and of where the time goes
    assert all("Latency page" in text and "python -m explorer calibrate" in text for text in infos)
    table_note = [c.value for c in at.caption if c.value.startswith("Latency, measured here: only where")]
    assert table_note and "No latency calibration is kept for ONNX Runtime FP32" in table_note[0]
    specs = charts(at)
    assert SWEEP not in specs and "Multiply-adds vs width" in specs
    assert PREDICTED_COLUMN not in budget_table(at).columns


@pytest.fixture
def calibrated_page(fresh_data):
    keep(scaled_calibration(1.0))
    measured = measure(ShuffleNetConfig(3, 1.0), "ort", min_time=0.05)  # real, kept where the page reads it
    result_store().put(measured)  # the server's store, here in this test's data directory
    return open_app(PAGE), measured


def test_predicted_latency_beside_multiply_adds_with_measured_points(calibrated_page):
    at, measured = calibrated_page
    assert_clean(at)
    specs = charts(at)
    sweep = specs[SWEEP]
    assert sweep["layout"]["yaxis"]["title"]["text"] == "Latency (ms per image, predicted here)"
    names = [t["name"] for t in sweep["data"]]
    assert {f"g = {g}, predicted here" for g in (1, 2, 3, 4, 8)} <= set(names)
    points = next(t for t in sweep["data"] if t["name"] == "measured here (result store)")
    assert points["x"] == [1.0] and points["y"] == [pytest.approx(measured.per_image_ms)]
    g3 = next(t for t in sweep["data"] if t["name"] == "g = 3, predicted here")
    predictor = Predictor(kept_calibration("ort", default_threads()))
    assert g3["y"] == pytest.approx([predictor.predict_ms(ShuffleNetConfig(3, w)) for w in g3["x"]])
    assert g3["y"][-1] > 4 * g3["y"][0]  # not monotone in between: channels that fill the blocks need no reorders
    captions = " ".join(c.value for c in at.caption)
    assert (
        "predicted here with ONNX Runtime FP32, 2 threads" in captions or "predicted here with ONNX Runtime" in captions
    )
    assert "measurement(s) of these models in the result store (measured here" in captions
    layers = specs["Time vs multiply-adds, per layer type"]
    time_share, macs_share = layers["data"]
    assert sum(time_share["x"]) == pytest.approx(100) and sum(macs_share["x"]) == pytest.approx(100)
    assert "per-run overhead" in time_share["y"]
    g2 = specs["Time vs g at equal multiply-adds (predicted here)"]
    assert g2["data"][0]["x"] == [f"g = {g}" for g in (1, 2, 3, 4, 8)]
    macs = [row[1] for row in g2["data"][0]["customdata"]]
    assert max(macs) <= 136.51 and min(macs) > 0.9 * 136.5  # nearly equal multiply-adds, within the sidebar's
    assert ("runs whole groups per thread" in captions) == (default_threads() > 1)  # an odd g waits for a thread


def test_the_decision_table_predicts_every_candidate_and_measures_where_stored(calibrated_page):
    at, measured = calibrated_page
    table = budget_table(at)
    assert table[PREDICTED_COLUMN].notna().all() and (table[PREDICTED_COLUMN] > 0).all()
    row = table[table["Model"] == "ShuffleNet 1x (g=3)"].iloc[0]
    assert row[LATENCY_COLUMN] == pytest.approx(measured.per_image_ms)
    assert row[OWN_ERROR_COLUMN] == pytest.approx(100 * (row[PREDICTED_COLUMN] / measured.per_image_ms - 1))
    others = table[table["Model"] != "ShuffleNet 1x (g=3)"]
    assert others[LATENCY_COLUMN].isna().all() and others[OWN_ERROR_COLUMN].isna().all()
    captions = " ".join(c.value for c in at.caption)
    assert "latency, predicted here with ONNX Runtime FP32" in captions and "without running it" in captions


@pytest.mark.slow
def test_a_latency_budget_from_the_prediction_marks_measured_and_predicted(fresh_data):
    """Issue 19, item 4 on the page: with a calibration kept, the job picks by the prediction and measures each g
    once or twice; the table says which latency is measured and which predicted."""
    from test_app_budget import wait_for_job

    keep(scaled_calibration(4.0))  # pessimistic: every pick is confirmed by one measurement
    at = open_app(PAGE, {"input": "64x64"})
    at.radio(key="complexity_budget_kind").set_value("ms").run()
    at.number_input(key="complexity_budget_ms").set_value(3.0).run()
    assert any("picked by the prediction" in c.value for c in at.caption)
    at.button(key="complexity_budget_search").click().run()
    wait_for_job(at)
    assert_clean(at)
    captions = " ".join(c.value for c in at.caption)
    assert "new measurement(s)" in captions and "latency, predicted here with ONNX Runtime FP32" in captions
    assert "Widths picked by the prediction (predicted here with ONNX Runtime FP32" in captions
    table = budget_table(at)
    # each g's answer is measured once; an answer that builds a paper model's network is listed as the paper's row
    measured = table[table[LATENCY_COLUMN].notna()]
    assert len(measured) == 5 and len({model_groups(m) for m in measured["Model"]}) == 5
    assert (measured[LATENCY_COLUMN] <= 3.0).all()
    assert table[PREDICTED_COLUMN].notna().all()
