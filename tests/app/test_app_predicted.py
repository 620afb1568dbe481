"""Predicted latency in the app: the sidebar's line on every page, the Latency page's calibrate section, and
"predicted here" beside measured in Table 8 and Compare. Synthetic calibrations (no timing): the one real
calibration is the CLI's load test; the cancel test queues the job behind a held measurement lock."""

from __future__ import annotations

import dataclasses
import time

import pytest
from conftest import ALL_PAGES, assert_clean, open_app
from test_cli_predict import made_here

from explorer import ShuffleNetConfig, paper
from explorer import latency as lat
from explorer.latency.predictor import Predictor, clear_kept, keep, kept_calibration, kept_rows
from explorer.latency.predictor.labels import ms_text
from explorer.latency.timing import Timing
from explorer.machine import versions

LATENCY = "pages/4_Latency.py"
COMPARE = "pages/5_Compare.py"


@pytest.fixture(scope="module")
def synthetic():
    from test_predictor import synthetic_calibration

    return synthetic_calibration(backend="ort")  # its networks run every kind, reorders included


@pytest.fixture
def kept(synthetic):
    """This machine's ONNX Runtime calibration at the runner's thread count, kept for the test."""
    clear_kept()
    calibration = made_here(synthetic, "ort", lat.default_threads())
    keep(calibration)
    yield calibration
    clear_kept()


@pytest.fixture
def nothing_kept():
    clear_kept()
    yield
    clear_kept()


def sidebar_captions(at) -> list[str]:
    return [c.value for c in at.sidebar.caption]


@pytest.mark.parametrize("page", ALL_PAGES)
def test_the_sidebar_says_the_predicted_latency_on_every_page(kept, page):
    at = open_app(page)
    assert_clean(at)
    expected = Predictor(kept).predict(ShuffleNetConfig())
    threads = lat.default_threads()
    line = (
        f"Latency: predicted {ms_text(expected.predicted_ms)} ms here, ONNX Runtime FP32, {threads} "
        f"thread{'s' if threads != 1 else ''}, ±6% expected error."
    )
    assert line in sidebar_captions(at)


def test_no_sidebar_line_without_a_calibration_here(nothing_kept, synthetic):
    keep(made_here(synthetic, "ort", lat.default_threads(), versions={**versions(), "torch": "0.1"}))
    at = open_app("pages/1_Architecture.py")
    assert_clean(at)
    assert not [c for c in sidebar_captions(at) if "predicted" in c]


def test_an_extrapolated_prediction_says_so_in_the_sidebar(kept):
    at = open_app(LATENCY, {"input": "4096x4096"})
    assert not at.exception
    assert any(c.startswith("Latency: predicted") and c.endswith(", extrapolated.") for c in sidebar_captions(at))


def test_the_calibrate_section_shows_what_is_kept_and_why_another_is_ignored(kept, synthetic):
    keep(made_here(synthetic, "openvino", lat.default_threads(), versions={**versions(), "openvino": "0.1"}))
    at = open_app(LATENCY)
    assert_clean(at)
    assert "Calibrate the latency predictor" in [h.value for h in at.header]
    text = " ".join(m.value for m in at.markdown)
    assert "**ONNX Runtime FP32, " in text and "expected error ±6%" in text
    assert "**OpenVINO FP32, " in text and "not calibrated on this machine" in text
    warnings = [w.value for w in at.warning]
    assert any("made with other library versions (openvino 0.1 -> " in w and "is ignored" in w for w in warnings)


def test_the_calibrate_section_says_a_calibration_ran_slower_than_those_before_it(nothing_kept, synthetic):
    def at_level(level_ms: float):
        return dataclasses.replace(
            synthetic, networks=tuple(dataclasses.replace(n, probe_ms=level_ms) for n in synthetic.networks)
        )

    threads = lat.default_threads()
    keep(made_here(at_level(1.0), "openvino", threads))
    keep(made_here(at_level(1.15), "ort", threads))
    at = open_app(LATENCY)
    assert_clean(at)
    text = " ".join(m.value for m in at.markdown)
    assert "Ran 15% slower than the calibrations kept here before it" in text and "calibrate again" in text


def test_calibrating_asks_first_and_not_now_starts_nothing(nothing_kept):
    at = open_app(LATENCY)
    at.button(key="lat_calibrate").click().run()
    assert any("holds this server's measurement lock" in w.value for w in at.warning)
    assert at.button(key="lat_calibrate_yes") is not None
    at.button(key="lat_calibrate_no").click().run()
    assert_clean(at)
    assert "lat_calibrate_job" not in at.session_state
    assert not any("holds this server's measurement lock" in w.value for w in at.warning)


def test_a_cancelled_calibration_keeps_nothing(nothing_kept):
    from ui.latency.jobs import job_registry

    at = open_app(LATENCY)
    with lat.measurement_lock():  # another measurement holds the lock: the job queues, nothing is timed
        at.button(key="lat_calibrate").click().run()
        at.button(key="lat_calibrate_yes").click().run()
        job = job_registry().get(at.session_state["lat_calibrate_job"])
        assert job.active
        at.button(key="lat_calibrate_cancel").click().run()
        job.thread.join(timeout=30)
    assert job.state == "cancelled" and kept_rows() == []
    at.run()
    at.run()
    assert any("Calibration cancelled after 0 networks: nothing kept." in i.value for i in at.info)


@pytest.mark.parametrize(
    ("level", "shown", "kept_now"),
    [
        (1.02, "kept, and used for every prediction on this server", True),
        (1.5, "Ran 50% slower than the calibrations kept here before it", False),
    ],
)
def test_a_finished_calibration_says_whether_it_replaced_the_quiet_one(
    nothing_kept, synthetic, monkeypatch, level, shown, kept_now
):
    """The job's calibration is a synthetic one at ``level`` (timing one takes minutes: the CLI's load test does);
    the rule that keeps it or not, and the panel that says so, are the real ones."""
    import ui.latency.calibrate as section
    from ui.latency.jobs import job_registry

    def at_level(level_ms: float, backend: str, created_at: float):
        networks = tuple(dataclasses.replace(n, probe_ms=level_ms) for n in synthetic.networks)
        calibration = dataclasses.replace(synthetic, networks=networks)
        return made_here(calibration, backend, lat.default_threads(), created_at=created_at)

    for backend in ("ort", "openvino"):
        keep(at_level(1.0, backend, time.time() - 600))
    made = at_level(level, "ort", time.time())
    monkeypatch.setattr(section, "calibrate", lambda backend, threads, progress, cancel: made)
    at = open_app(LATENCY)
    at.button(key="lat_calibrate").click().run()
    at.button(key="lat_calibrate_yes").click().run()
    job = job_registry().get(at.session_state["lat_calibrate_job"])
    job.thread.join(timeout=30)
    at.run()
    at.run()
    assert_clean(at)
    said = [m.value for m in (*at.success, *at.warning)]
    assert any(shown in m for m in said), said
    assert any(("It is not kept" in m) != kept_now for m in said)
    assert (kept_calibration("ort", lat.default_threads()).created_at == made.created_at) == kept_now


@pytest.mark.parametrize("value, shown", [("off", "turned off"), ("maybe", "'maybe' is not allowed")])
def test_the_operator_can_turn_calibrating_off(nothing_kept, monkeypatch, value, shown):
    monkeypatch.setenv("EXPLORER_CALIBRATE", value)
    at = open_app(LATENCY)
    assert not at.exception
    assert any("turned off" in i.value for i in at.info)
    assert any(shown in m.value for m in [*at.info, *at.error])
    assert not [b for b in at.button if b.key == "lat_calibrate"]


def synthetic_measurement(config, backend: str, median_ms: float, threads: int) -> lat.Measurement:
    from explorer.counting import complexity

    counted = complexity(config)
    timing = Timing((median_ms * 0.98, median_ms, median_ms * 1.02), 3)
    return lat.Measurement(
        config,
        backend,
        threads,
        1,
        timing,
        counted.macs_with_fc.value,
        counted.conv_macs.value,
        None,
        measured_at=time.time(),
    )


@pytest.fixture
def stored():
    from ui.latency.jobs import result_store

    store = result_store()
    yield store
    store.clear()


def test_table8_shows_predicted_here_beside_measured(kept, stored):
    threads = lat.default_threads()
    configs = [row.config for row in paper.TABLE8]
    for config, ms in zip(configs, (3.0, 6.0, 40.0)):
        stored.put(synthetic_measurement(config, "ort", ms, threads))
        stored.put(synthetic_measurement(config, "torch", ms * 2, threads))
    at = open_app(LATENCY)
    assert_clean(at)
    frame = next(d.value for d in at.dataframe if "Predicted here (ms)" in d.value.columns)
    predictor = Predictor(kept)
    for _, row in frame.iterrows():
        config = next(c for c in configs if c.label == row["Model"])
        if row["Backend"] == "ONNX Runtime FP32":
            predicted = predictor.predict_ms(config)
            assert row["Predicted here (ms)"] == pytest.approx(predicted)
            own = f"{100 * (predicted / row['Median (ms)'] - 1):+.0f}% vs measured"
            assert row["Predicted vs measured"].startswith(own)
        else:  # PyTorch has no calibration: nothing predicted, nothing that looks like a number
            assert row["Predicted here (ms)"] is None or row["Predicted here (ms)"] != row["Predicted here (ms)"]
            assert row["Predicted vs measured"] == "—"
    assert list(frame.columns).index("Predicted here (ms)") == list(frame.columns).index("Median (ms)") + 1


def test_compare_shows_predicted_here_with_its_own_source(kept, stored):
    at = open_app(COMPARE, {"groups": "5", "width": "0.35"})
    assert_clean(at)
    shown = next(d.value for d in at.dataframe if "Figure" in d.value.columns)
    row = shown.loc[shown["Figure"] == "Latency, predicted here"]
    assert list(row["Source"]) == ["predicted here (not measured)"]
    cells = row.drop(columns=["Figure", "Source"]).iloc[0].tolist()
    assert all(" ms predicted here (ONNX Runtime FP32, " in c and "±6% expected error)" in c for c in cells)
    assert not any("vs measured" in c for c in cells)
    config = ShuffleNetConfig(5, 0.35)
    stored.put(synthetic_measurement(config, "ort", 4.0, lat.default_threads()))
    at.run()
    shown = next(d.value for d in at.dataframe if "Figure" in d.value.columns)
    cell = shown.loc[shown["Figure"] == "Latency, predicted here"].iloc[0, 2]
    predicted = Predictor(kept).predict_ms(config)
    assert f"{100 * (predicted / 4.0 - 1):+.0f}% vs measured (4.00 ms)" in cell


@pytest.mark.parametrize("factor, shown", [(1.5, "run 33% below its 3 measurements"), (1.05, None)])
def test_table8_says_when_the_predictions_run_off_the_measurements_alike(kept, stored, factor, shown):
    """Measured 1.5x what is predicted, for every model alike: the machine's speed changed since the calibration,
    and the page says so; within the tolerance of a machine's level, it says nothing."""
    threads, predictor = lat.default_threads(), Predictor(kept)
    for row in paper.TABLE8:
        stored.put(synthetic_measurement(row.config, "ort", factor * predictor.predict_ms(row.config), threads))
    at = open_app(LATENCY)
    assert_clean(at)
    notes = [i.value for i in at.info if "predictions run" in i.value]
    if shown is None:
        assert not notes
    else:
        assert len(notes) == 1 and shown in notes[0] and "ran faster when it was calibrated" in notes[0]
