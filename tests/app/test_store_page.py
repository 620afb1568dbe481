"""The Latency page reads the result store: where it is, each result's age, a CSV of all, and a restart."""

from __future__ import annotations

import io
import time

import pandas as pd
import pytest
import streamlit as st
from conftest import assert_clean, open_app

from explorer import ShuffleNetConfig
from explorer.latency import Measurement, default_threads
from explorer.latency.timing import summarize

PAGE = "pages/4_Latency.py"


@pytest.fixture
def store():
    """The app's result store, empty (earlier tests of this process may have measured) and left empty."""
    from ui.latency.jobs import result_store

    result_store().clear()
    yield result_store()
    result_store().clear()


def stored(config: ShuffleNetConfig, backend: str, median: float, age_s: float) -> Measurement:
    return Measurement(
        config,
        backend,
        default_threads(),
        1,
        summarize([median] * 5),
        136_000_000,
        135_000_000,
        1e11,
        measured_at=time.time() - age_s,
    )


def this_model_table(at) -> pd.DataFrame:
    return next(frame.value for frame in at.dataframe if "Min (ms)" in frame.value.columns)


def test_the_page_says_where_results_are_kept(store):
    at = open_app(PAGE)
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert str(store.path) in text and "EXPLORER_DATA_DIR" in text and "python -m explorer results" in text
    assert at.get("download_button")[-1].proto.label == "Download the stored results (CSV, 0 rows)"


def test_a_stored_result_is_shown_with_its_age_and_after_a_restart(store):
    config = ShuffleNetConfig()
    store.put(stored(config, "ort", 3.25, age_s=600))
    store.put(stored(config, "torch", 9.5, age_s=7200))
    at = open_app(PAGE)
    assert_clean(at)
    table = this_model_table(at)
    assert list(table["Backend"]) == ["PyTorch eager", "ONNX Runtime FP32"]
    assert list(table["Measured"]) == ["2 h ago", "10 min ago"]
    assert at.get("download_button")[-1].proto.label == "Download the stored results (CSV, 2 rows)"
    st.cache_resource.clear()  # as a restarted server: a new store object on the same file
    again = open_app(PAGE)
    assert list(this_model_table(again)["Median (ms)"]) == [pytest.approx(9.5), pytest.approx(3.25)]


def test_the_csv_holds_every_stored_row(store):
    config = ShuffleNetConfig(groups=8, width=0.5)
    for backend in ("torch", "ort"):
        store.put(stored(config, backend, 2.0, age_s=5))
    at = open_app(PAGE)
    csv = at.get("download_button")[-1].proto
    assert csv.label.endswith("(CSV, 2 rows)")
    from ui.latency.tables import stored_frame

    frame = pd.read_csv(io.StringIO(stored_frame(store).to_csv(index=False)))
    assert list(frame["backend"]) == ["torch", "ort"] and set(frame["here"]) == {True}
