"""Latency page through AppTest: quick measurement, Table 8 job with progress and cancel, queueing, refusals.

Runs use the shortest measurement setting (0.02 s of timed runs) and small inputs; no
assertion is about how fast anything is.
"""

from __future__ import annotations

import json
import time

import pytest
from conftest import assert_clean, open_app

from explorer import ShuffleNetConfig
from explorer import latency as lat

PAGE = "pages/4_Latency.py"
SHORT = 0.02


def short(at):
    at.select_slider(key="lat_min_time").set_value(SHORT)
    at.number_input(key="lat_threads").set_value(1)
    return at.run()


def wait_for_job(at, timeout: float = 400.0, until=None):
    """Wait for the session's job to finish (joining its thread), then rerun the page for its full redraw.

    With ``until``, rerun the page (as the polling fragment does) until ``until(at, job)`` holds instead.
    Rerunning the page while the job measures would slow it down: the job yields to every page run.
    """
    from ui.latency.jobs import job_registry

    job = job_registry().get(at.session_state["lat_job"])
    if until is None:
        job.thread.join(timeout)
        assert not job.active, f"job did not finish in {timeout:.0f} s: {job.state}"
        at.run()  # the finished job's full redraw
        at.run()
        return job
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = job_registry().get(at.session_state["lat_job"])
        if until(at, job):
            return job
        time.sleep(0.5)
        at.run()
    raise AssertionError("job did not finish in time")


def test_page_loads_without_measuring():
    at = open_app(PAGE)
    assert_clean(at)
    offered = at.multiselect(key="lat_backends").options
    assert at.multiselect(key="lat_backends").value == ["torch", "ort", "openvino"]  # PyTorch and both FP32 runtimes
    assert "OpenVINO FP32" in offered and "OpenVINO INT8" in offered
    reason = lat.unavailable_reason("openvino-bf16")
    assert ("OpenVINO BF16 (reduced precision)" in offered) == (reason is None)
    if reason:  # not offered on this CPU: the page and the help say why
        assert (
            "Not offered: OpenVINO BF16 (reduced precision): OpenVINO's CPU plugin"
            in at.multiselect(key="lat_backends").help
        )
        assert f"OpenVINO BF16 (reduced precision) is not offered on this machine: {reason}." in [
            c.value for c in at.caption
        ]
    headers = [h.value for h in at.header]
    assert headers == [
        "This model",
        "Table 8 on this machine",
        "On your device",
        "Reference models",
        "Where multiply-adds predict speed, and where not",
        "Calibrate the latency predictor",
        "Stored results",
    ]
    assert any("fully convolutionally" in m.value for m in at.markdown)
    assert not at.warning
    assert at.button(key="lat_t8_run").label == "Run Table 8 (18 measurements)"


def test_quick_measurement_of_the_sidebar_model():
    at = short(open_app(PAGE, {"groups": "8", "width": "0.25", "input": "480x640"}))
    at.multiselect(key="lat_backends").set_value(["torch", "ort"])
    at.button(key="lat_measure").click().run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "Median (ms)" in d.value.columns)
    assert list(table["Backend"]) == ["PyTorch eager", "ONNX Runtime FP32"]
    assert set(table["Input"]) == {"480×640"} and set(table["Threads"]) == {1}
    assert (table["Runs"] >= 3).all()
    # PyTorch has no session to create and nothing to compare with: "—", never "None"
    assert list(table["Compile (s)"])[0] == "—" and float(list(table["Compile (s)"])[1]) >= 0
    assert list(table["Max |Δ| vs PyTorch"])[0] == "—"
    assert "None" not in table.astype(str).to_string()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Fastest backend here"] in ("PyTorch eager", "ONNX Runtime FP32")  # two measured
    assert metrics["Median latency"].endswith(" ms")
    # cached: the Compare page's helper now returns it, without measuring
    from ui.latency.tables import compare_latency_column, latency_summary

    config = ShuffleNetConfig(groups=8, width=0.25, input_size=(480, 640))
    assert "measured here" in latency_summary(config, threads=1)
    assert compare_latency_column([config.with_(width=0.5)]) == ["not measured yet (Latency page)"]
    # the chart shows the measured points on log axes with units
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["xaxis"]["type"] == "log" and spec["layout"]["yaxis"]["type"] == "log"
    assert "Multiply-adds" in spec["layout"]["xaxis"]["title"]["text"]
    assert "ms" in spec["layout"]["yaxis"]["title"]["text"]
    points = [t for t in spec["data"] if t.get("mode") == "markers+text"]
    hovered = {(c[0], c[1], t["name"]) for t in points for c in t["customdata"]}  # every point says what it is
    assert ("ShuffleNet 0.25x (g=8)", "480×640", "ONNX Runtime FP32") in hovered
    labels = [text for t in points for text in t["text"] if text]  # drawn where they fit (ui.figures.labels)
    assert any(text.startswith("ShuffleNet 0.25x (g=8)") and "480×640" in text for text in labels)
    for axis in ("xaxis", "yaxis"):  # ticks written in full ("0.5, 1, 2"), never a bare "2, 5" per decade
        ticks = spec["layout"][axis]
        assert [float(t.replace(",", "")) for t in ticks["ticktext"]] == pytest.approx(ticks["tickvals"])


def test_table8_job_runs_in_the_background_with_progress():
    at = short(open_app(PAGE))
    assert at.multiselect(key="lat_t8_backends").value == ["ort", "openvino"]  # the fastest FP32 runtimes here
    at.multiselect(key="lat_t8_inputs").set_value(["224x224"])
    at.run()
    assert at.button(key="lat_t8_run").label == "Run Table 8 (6 measurements)"
    at.button(key="lat_t8_run").click().run()
    assert_clean(at)
    job = wait_for_job(at)
    assert job.state == "done", job.error
    assert_clean(at)
    [element] = [d for d in at.dataframe if "Paper ms (reported in the paper)" in d.value.columns]
    table = element.value
    assert list(table["Model"]) == ["ShuffleNet 0.5x arch2 (g=3)"] * 2 + ["ShuffleNet 1x (g=3)"] * 2 + ["AlexNet"] * 2
    assert list(table["Backend"]) == ["ONNX Runtime FP32", "OpenVINO FP32"] * 3
    assert list(table["Paper ms (reported in the paper)"]) == [15.2, 15.2, 37.8, 37.8, 184.0, 184.0]
    assert list(table["Measured speedup over AlexNet"])[4:] == ["1.0×", "1.0×"]
    # the paper's columns beside the measured ones, the identifying ones pinned, names wide enough; no "None"
    columns = list(table.columns)
    assert columns[:5] == ["Model", "Input", "Backend", "Median (ms)", "Paper ms (reported in the paper)"]
    assert columns.index("Paper speedup (reported in the paper)") == columns.index("Measured speedup over AlexNet") + 1
    config = json.loads(element.proto.columns)
    assert [c for c in columns if config.get(c, {}).get("pinned")] == columns[:5]
    assert config["Model"]["width"] >= 8 * len("ShuffleNet 0.5x arch2 (g=3)")
    assert "None" not in table.astype(str).to_string()
    # the headline: each model on its fastest FP32 backend, named; the speedup per backend; why they differ
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Reported in the paper (Snapdragon 820)"] == "13× of 18×"
    assert metrics["0.5x arch2 vs AlexNet at 224×224, each on its fastest FP32 backend"].endswith("×")
    assert any(c.value.startswith("Fastest FP32 backends measured: 0.5x arch2 on **") for c in at.caption)
    speedups = next(d.value for d in at.dataframe if "Backend (both models)" in d.value.columns)
    assert list(speedups["Backend (both models)"]) == ["ONNX Runtime FP32", "OpenVINO FP32"]
    [verdict] = [m.value for m in at.markdown if m.value.startswith("**Why measured and theoretical differ here.**")]
    assert "per multiply-add" in verdict and "In ONNX Runtime's profile of ShuffleNet 0.5x arch2 (g=3)" in verdict
    assert "AlexNet" in verdict and "classifier" in verdict
    assert any("done" in s.value for s in at.success)


def test_table8_job_can_be_cancelled_between_measurements():
    at = short(open_app(PAGE))
    at.button(key="lat_t8_run").click().run()
    at.button(key="lat_cancel").click().run()
    job = wait_for_job(at)
    assert job.state == "cancelled"
    assert job.done < job.total
    assert any("cancelled" in i.value for i in at.info)


def test_a_queued_job_says_so():
    at = short(open_app(PAGE))
    at.multiselect(key="lat_t8_backends").set_value(["torch"])
    at.multiselect(key="lat_t8_inputs").set_value(["224x224"])
    at.run()
    with lat.measurement_lock():  # another user's measurement in progress
        at.button(key="lat_t8_run").click().run()
        wait_for_job(
            at, timeout=30, until=lambda at, job: any("Queued behind another measurement" in i.value for i in at.info)
        )
    job = wait_for_job(at)
    assert job.state == "done"


def test_a_request_that_does_not_fit_in_memory_is_refused():
    at = open_app(PAGE, {"input": "4096x4096", "width": "2"})
    at.number_input(key="lat_batch").set_value(256).run()
    at.button(key="lat_measure").click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and "refused" in errors[0] and "limit is" in errors[0] and "needs about" in errors[0]


def test_profile_shows_where_the_time_goes():
    at = short(open_app(PAGE, {"width": "0.25"}))
    at.button(key="lat_profile").click().run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "Where" in d.value.columns)
    where = set(table["Where"])
    parts = {"1x1 GConv, compress (+BN, ReLU)", "3x3 depthwise conv (+BN)", "Channel shuffle (Reshape, Transpose)"}
    assert parts <= where
    assert table["Share (%)"].sum() == pytest.approx(100, abs=0.5)
    # scaled to the median measured without the profiler, and the profiler's overhead said in words
    [overhead] = [c.value for c in at.caption if c.value.startswith("Without the profiler a run takes")]
    median = float(overhead.split("takes ")[1].split(" ms")[0])
    assert table["ms per run (share × median)"].sum() == pytest.approx(median, abs=0.02)
    assert "so each group's time is shown as its share of the profile × that median" in overhead
    assert set(table[table["Multiply-adds (M)"] == 0]["G multiply-adds/s"]) == {"—"}
    # kept in the kernel-profile store too, as the Table 8 verdict reads it
    from ui.latency.jobs import kernel_profile_store

    config, threads, batch, profile, _ = at.session_state["lat_profile_rows"]
    assert kernel_profile_store().get(config, threads, batch) == profile
