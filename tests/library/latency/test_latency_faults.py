"""Latency faults: a failing ONNX export or ONNX Runtime never hides the PyTorch numbers;
cancelled, failed and normal jobs leave no thread of ours and no temporary file behind.

Faults are injected by replacing one real library function at the boundary (``torch.onnx.export``,
``onnx.checker.check_model``, ``onnxruntime.InferenceSession`` and its ``run``) with one that
raises; everything around it runs for real. A parity mismatch is real too: the exported graph
comes from a model whose weights differ. No real config was found where export or ONNX Runtime
fails here (tried: g=64, width 0.1 and 4.0, inputs 32x32, 33x47, 32x33, 32x4096, 4096x4096).

Every test points ``tempfile.tempdir`` at a fresh directory and checks it is empty at the end,
so any temporary file or directory left by us (or by the libraries we call) fails the test.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import streamlit.testing.v1  # noqa: F401 - makes its own temp dir at import: before a test redirects tempfile
import torch
import torch._dynamo  # makes torch's persistent compile cache dir at import: before tempfile moves
from conftest import ROOT, assert_clean, open_app

from explorer import ShuffleNetConfig
from explorer import latency as lat
from explorer.concurrency import measurement_running
from explorer.counting import estimate as limits
from explorer.latency import export as onnx_export

TINY = ShuffleNetConfig(groups=8, width=0.25, input_size=(64, 64))
FAST = {"min_time": 0.0, "warmup": 0.0, "min_samples": 2}
QUICK = ["--threads", "1", "--min-time", "0.02"]
PAGE = "pages/4_Latency.py"
INJECTED = "injected fault"


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def fresh_tmp(tmp_path, monkeypatch):
    """``tempfile`` writes into an empty directory, which must be empty again when the test ends."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    yield directory
    assert sorted(os.listdir(directory)) == [], "temporary files left behind"


@pytest.fixture(autouse=True)
def empty_result_store():
    """The result store is process-wide: leave it empty for the tests that run after these."""
    yield
    from ui.latency.jobs import result_store

    result_store().clear()


def our_threads() -> list[threading.Thread]:
    from ui.latency.jobs import JOB_THREAD_PREFIX

    return [t for t in threading.enumerate() if t.name.startswith(JOB_THREAD_PREFIX) and t.is_alive()]


def assert_no_thread_of_ours(timeout: float = 60.0) -> None:
    """Every job thread ends once its job has finished (bounded wait: a thread may be in its last lines)."""
    deadline = time.monotonic() + timeout
    while our_threads() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not our_threads(), [t.name for t in our_threads()]


def raise_injected(*args, **kwargs):
    raise RuntimeError(f"{INJECTED}\nsecond line of the message")


def break_export(monkeypatch) -> list:
    """``torch.onnx.export`` raises; returns the list of its calls."""
    calls: list = []

    def export(*args, **kwargs):
        calls.append(args)
        raise_injected()

    monkeypatch.setattr(torch.onnx, "export", export)
    return calls


def break_session(monkeypatch) -> None:
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "InferenceSession", raise_injected)


def break_run(monkeypatch, after: int = 0) -> None:
    """``InferenceSession.run`` raises from its ``after``-th call on (0: the first)."""
    import onnxruntime

    real_run = onnxruntime.InferenceSession.run
    calls = {"n": 0}

    def run(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise_injected()
        return real_run(self, *args, **kwargs)

    monkeypatch.setattr(onnxruntime.InferenceSession, "run", run)


def only(failures, backend: str) -> lat.BackendFailure:
    [failure] = [f for f in failures if f.backend == backend]
    return failure


def logged_failures(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "explorer.latency" and r.levelno == logging.ERROR]


# --------------------------------------------------------------------------- library


def test_export_failure_keeps_pytorch_and_is_not_retried(fresh_tmp, monkeypatch, caplog):
    calls = break_export(monkeypatch)
    jobs = [(TINY, "torch"), (TINY, "ort"), (TINY, "ort-int8"), (TINY, "torch-fold")]
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many(jobs)
        assert os.listdir(runner.workdir) == []  # nothing half-written kept
    assert [m.backend for m in results.measurements] == ["torch", "torch-fold"]
    assert [(f.backend, f.stage) for f in results.failures] == [("ort", "export"), ("ort-int8", "export")]
    for failure in results.failures:
        assert failure.reason == f"RuntimeError: {INJECTED} second line of the message"  # one line
        assert failure.config == TINY
    assert len(calls) == 1  # INT8 needs the FP32 export: its failure is reused, not tried again
    records = logged_failures(caplog)
    assert records and records[0].exc_info is not None  # the server log has the traceback
    assert "ONNX Runtime FP32 failed for ShuffleNet 0.25x (g=8) at 64x64" in records[0].getMessage()
    assert not results.cancelled


def test_checker_failure_is_an_export_failure_and_removes_the_file(fresh_tmp, monkeypatch):
    import onnx

    def reject(path, *args, **kwargs):
        assert os.path.exists(path)  # the exporter wrote it
        raise onnx.checker.ValidationError(INJECTED)

    monkeypatch.setattr(onnx.checker, "check_model", reject)
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many([(TINY, "ort"), (TINY, "torch")])
        assert os.listdir(runner.workdir) == []
    assert [m.backend for m in results.measurements] == ["torch"]
    failure = only(results.failures, "ort")
    assert failure.stage == "export" and failure.reason == f"ValidationError: {INJECTED}"


def export_other_weights(monkeypatch) -> None:
    """The exported graph comes from a copy of the model with other weights: its outputs really differ."""
    real_export = onnx_export.export_onnx

    def export(model, *args, **kwargs):
        other = copy.deepcopy(model)
        with torch.no_grad():
            for parameter in other.parameters():
                parameter.mul_(1.5)
        return real_export(other, *args, **kwargs)

    monkeypatch.setattr(onnx_export, "export_onnx", export)


@pytest.mark.parametrize("backend, runtime", [("ort", "ONNX Runtime"), ("openvino", "OpenVINO")])
def test_a_real_parity_mismatch_is_an_export_failure(fresh_tmp, monkeypatch, backend, runtime):
    """The graph the runtime runs comes from a model with other weights; FP32 is judged for both runtimes."""
    export_other_weights(monkeypatch)
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many([(TINY, backend), (TINY, "torch")])
    failure = only(results.failures, backend)
    assert failure.stage == "export"
    assert failure.reason.startswith(f"ParityMismatch: the {runtime} output differs from PyTorch's")
    assert [m.backend for m in results.measurements] == ["torch"]


def test_parity_rules():
    reference = torch.randn(2, 10).numpy()
    assert lat.parity(reference, reference + 1e-7, "ort")[0] == pytest.approx(1e-7, rel=0.5)
    with pytest.raises(lat.ParityMismatch, match="FP32 allows"):
        lat.parity(reference, reference + 0.5, "ort")
    assert lat.parity(reference, reference + 0.05, "ort-int8")[1] > 0  # INT8 drift is reported, not judged
    with pytest.raises(lat.ParityMismatch, match="not finite"):
        lat.parity(reference, reference * float("nan"), "ort-int8")
    with pytest.raises(ValueError, match="shapes differ"):
        lat.parity(reference, reference[:1], "ort")


def test_session_failure_keeps_pytorch_and_the_roofline(fresh_tmp, monkeypatch, caplog):
    """ONNX Runtime cannot open any session: the GEMM peak comes from the other libraries, torch is measured."""
    from explorer.latency import roofline

    monkeypatch.setattr(roofline, "_CACHE", {})  # measure the peak again, with ORT broken
    monkeypatch.setattr(roofline, "_ATTEMPTS", {})
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(fresh_tmp.parent / "data"))  # and no peak stored before
    break_session(monkeypatch)
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many([(TINY, "ort"), (TINY, "torch")])
    [measured] = results.measurements
    assert measured.backend == "torch" and measured.gemm_macs_per_s > 0
    peak = roofline.cached_gemm_peak(1)
    assert peak.library in ("torch.mm", "OpenVINO MatMul")
    assert [library for library, _ in peak.rates] == ["torch.mm", "OpenVINO MatMul"]  # ORT's left out, logged
    failure = only(results.failures, "ort")
    assert failure.stage == "session" and INJECTED in failure.reason
    assert any(r.name == "explorer.latency.roofline" for r in caplog.records)


@pytest.mark.parametrize("after", [0, 1], ids=["first run", "while timing"])
def test_run_failure_keeps_pytorch(fresh_tmp, monkeypatch, after):
    from explorer.latency import roofline

    with lat.measurement_lock():
        roofline.gemm_peak(1)  # measured before ORT breaks (its MatMul also runs through InferenceSession.run)
    break_run(monkeypatch, after=after)
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many([(TINY, "ort"), (TINY, "torch")])
    failure = only(results.failures, "ort")
    assert failure.stage == "run" and INJECTED in failure.reason
    assert [m.backend for m in results.measurements] == ["torch"]


def break_openvino(monkeypatch, method: str = "compile_model") -> None:
    """``openvino.Core.<method>`` raises (the process's Core is an instance of that class)."""
    import openvino

    monkeypatch.setattr(openvino.Core, method, raise_injected)


@pytest.mark.parametrize("method", ["compile_model", "read_model"])
def test_openvino_compile_failure_keeps_the_other_backends(fresh_tmp, monkeypatch, caplog, method):
    with lat.measurement_lock():
        lat.roofline.gemm_peak(1)  # measured before OpenVINO breaks (its MatMul compiles through Core too)
    break_openvino(monkeypatch, method)
    jobs = [(TINY, "torch"), (TINY, "openvino"), (TINY, "ort"), (TINY, "openvino-int8")]
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many(jobs)
    assert [m.backend for m in results.measurements] == ["torch", "ort"]
    assert all(m.median_ms > 0 for m in results.measurements)
    assert [(f.backend, f.stage) for f in results.failures] == [("openvino", "compile"), ("openvino-int8", "compile")]
    for failure in results.failures:
        assert failure.reason == f"RuntimeError: {INJECTED} second line of the message"
    assert (
        "during OpenVINO reading, reshaping (static input shape) and compiling the model"
        in results.failures[0].message()
    )
    records = logged_failures(caplog)
    assert records and records[0].exc_info is not None
    assert "OpenVINO FP32 failed for ShuffleNet 0.25x (g=8) at 64x64" in records[0].getMessage()


def test_openvino_run_failure_keeps_the_other_backends(fresh_tmp, monkeypatch):
    import openvino

    with lat.measurement_lock():
        lat.roofline.gemm_peak(1)
    monkeypatch.setattr(openvino.InferRequest, "infer", raise_injected)
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many([(TINY, "openvino"), (TINY, "ort")])
    assert [m.backend for m in results.measurements] == ["ort"]
    assert only(results.failures, "openvino").stage == "run"


def test_a_model_that_cannot_build_is_a_build_failure(fresh_tmp, monkeypatch):
    import explorer.latency.runner

    monkeypatch.setattr(explorer.latency.runner, "counted", raise_injected)
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many([(TINY, "torch")])
    assert results.measurements == [] and only(results.failures, "torch").stage == "build"


def test_cancel_stops_a_measurement_while_it_is_timed(fresh_tmp, monkeypatch):
    import explorer.latency.runner

    cancel = threading.Event()
    real_time_function = explorer.latency.runner.time_function

    def cancel_then_time(fn, **kwargs):
        cancel.set()  # the user presses Cancel once timing has started
        return real_time_function(fn, **kwargs)

    monkeypatch.setattr(explorer.latency.runner, "time_function", cancel_then_time)
    with lat.LatencyRunner(threads=1, min_time=60.0, warmup=0.0) as runner:
        results = runner.measure_many([(TINY, "torch"), (TINY, "ort")], cancel=cancel)
    assert results.cancelled and results.measurements == [] and results.failures == []
    assert not measurement_running()


def test_architecture_download_export_leaves_no_temp_files(fresh_tmp, monkeypatch):
    """``ui.shell.cache.cached_onnx`` (the Architecture page's ONNX download), uncached: success and failure."""
    from ui.shell.cache import cached_onnx

    export = cached_onnx.__wrapped__  # the function itself: no cache between the two calls
    assert len(export(TINY)) > 10_000
    break_export(monkeypatch)
    with pytest.raises(RuntimeError, match=INJECTED):
        export(TINY)


def test_architecture_page_says_the_export_failed_and_logs_it(fresh_tmp, monkeypatch, caplog):
    break_export(monkeypatch)
    at = open_app("pages/1_Architecture.py", {"groups": "5", "width": "0.3", "input": "64x64"})
    with caplog.at_level(logging.ERROR, logger="ui.pages.architecture"):
        at.button(key="onnx_export").click().run()
    assert not at.exception
    [error] = [e.value for e in at.error]
    assert error.startswith("The ONNX export failed (RuntimeError: injected fault") and "server log" in error
    assert "Traceback" not in error and "Traceback" in caplog.text


def test_memory_refusal_is_not_a_failure():
    huge = ShuffleNetConfig(groups=3, width=2.0, input_size=(4096, 4096))
    with lat.LatencyRunner(threads=1, batch=1024, **FAST) as runner:
        with pytest.raises(limits.MemoryRefused):
            runner.measure_many([(huge, "torch")])


# --------------------------------------------------------------------------- background jobs


def start_job(items, min_time: float = 0.02):
    from explorer.latency.stored import open_store
    from ui.latency.jobs import JobRegistry

    store = open_store(":memory:")
    return JobRegistry().start("test job", items, 1, 1, min_time, store), store


def finish(job, timeout: float = 300.0):
    job.thread.join(timeout)
    assert not job.active, job.state
    assert_no_thread_of_ours()
    return job


def test_normal_job_leaves_no_thread_and_no_file(fresh_tmp):
    job, store = start_job([(TINY, "torch"), (TINY, "ort"), (TINY, "ort-int8")])
    assert job.thread.name == f"explorer-job-{job.id}"
    finish(job)
    assert job.state == "done" and len(job.results) == 3 and not job.failures
    assert len(store.all()) == 3


def test_job_with_a_failing_backend_goes_on(fresh_tmp, monkeypatch):
    break_export(monkeypatch)
    other = TINY.with_(groups=2)
    finish(job := start_job([(TINY, "ort"), (TINY, "torch"), (other, "ort"), (other, "torch")])[0])
    assert job.state == "done" and job.done == 4
    assert [m.backend for m in job.results] == ["torch", "torch"]
    assert [(f.config, f.backend, f.stage) for f in job.failures] == [(TINY, "ort", "export"), (other, "ort", "export")]


def test_cancelled_job_stops_during_a_long_measurement(fresh_tmp):
    job, _ = start_job([(TINY, "ort"), (TINY, "torch")], min_time=60.0)
    deadline = time.monotonic() + 300
    while not measurement_running() and job.active and time.monotonic() < deadline:
        time.sleep(0.05)  # until its first measurement holds the lock
    time.sleep(1.0)
    job.cancel.set()
    finish(job, timeout=120)  # a 60 s measurement stops at its next timed run, not after it
    assert job.state == "cancelled" and job.results == []


def test_job_stopped_by_an_unexpected_error_logs_it(fresh_tmp, monkeypatch, caplog):
    from explorer.latency.stored import ResultStore

    monkeypatch.setattr(ResultStore, "put", raise_injected)
    finish(job := start_job([(TINY, "torch")])[0])
    assert job.state == "failed" and job.error == f"RuntimeError: {INJECTED} second line of the message"
    [record] = [r for r in caplog.records if r.name == "ui.latency.jobs"]
    assert record.exc_info is not None


# --------------------------------------------------------------------------- the page


def short(at):
    at.select_slider(key="lat_min_time").set_value(0.02)
    at.number_input(key="lat_threads").set_value(1)
    return at.run()


def page_warnings(at) -> list[str]:
    return [w.value.replace("\\", "") for w in at.warning]  # shown_value escapes markdown specials


def test_page_shows_pytorch_results_and_what_failed(fresh_tmp, monkeypatch, caplog):
    break_export(monkeypatch)
    at = short(open_app(PAGE, {"groups": "8", "width": "0.25", "input": "64x64"}))
    at.multiselect(key="lat_backends").set_value(["torch", "ort"])
    at.button(key="lat_measure").click().run()
    assert_clean(at)  # no exception, no error box: PyTorch was measured
    table = next(d.value for d in at.dataframe if "Median (ms)" in d.value.columns)
    assert list(table["Backend"]) == ["PyTorch eager"]
    [warning] = [w for w in page_warnings(at) if "failed" in w]
    assert "ONNX Runtime FP32" in warning and "at step **export**" in warning
    assert f"RuntimeError: {INJECTED} second line of the message" in warning
    assert "Traceback" not in warning and "File " not in warning
    assert logged_failures(caplog)[0].exc_info is not None
    at.run()  # still there on the next rerun, while the same settings are shown
    assert any("failed" in w for w in page_warnings(at))


def test_page_shows_onnx_runtime_when_openvino_cannot_compile(fresh_tmp, monkeypatch, caplog):
    break_openvino(monkeypatch)
    at = short(open_app(PAGE, {"groups": "2", "width": "0.25", "input": "64x64"}))
    at.multiselect(key="lat_backends").set_value(["ort", "openvino"])
    at.button(key="lat_measure").click().run()
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "Median (ms)" in d.value.columns)
    assert list(table["Backend"]) == ["ONNX Runtime FP32"]
    [warning] = [w for w in page_warnings(at) if "failed" in w]
    assert "OpenVINO FP32" in warning and "at step **compile**" in warning
    assert f"RuntimeError: {INJECTED} second line of the message" in warning and "Traceback" not in warning
    assert {m.label: m.value for m in at.metric}["Backend"] == "ONNX Runtime FP32"  # one measured: not "fastest"


def test_page_says_so_when_nothing_could_be_measured(fresh_tmp, monkeypatch):
    break_session(monkeypatch)  # INT8 quantisation runs ORT too: it fails in its export step
    # a config no other test measures: the result store is shared by the whole process
    at = short(open_app(PAGE, {"groups": "5", "width": "0.25", "input": "64x64"}))
    at.multiselect(key="lat_backends").set_value(["ort", "ort-int8"])
    at.button(key="lat_measure").click().run()
    assert not at.exception
    [error] = [e.value.replace("\\", "") for e in at.error]
    assert (
        "nothing could be measured" in error
        and "ONNX Runtime INT8" in error
        and "at step **session**" in error
        and "at step **export**" in error
    )


def test_table8_job_on_the_page_with_onnx_runtime_broken(fresh_tmp, monkeypatch):
    from test_latency_page import wait_for_job

    break_session(monkeypatch)
    at = short(open_app(PAGE))
    at.multiselect(key="lat_t8_backends").set_value(["torch", "ort"])
    at.multiselect(key="lat_t8_inputs").set_value(["224x224"])
    at.run()
    at.button(key="lat_t8_run").click().run()
    job = wait_for_job(at)
    assert job.state == "done" and len(job.results) == 3
    assert {(f.backend, f.stage) for f in job.failures} == {("ort", "session")}
    assert_clean(at)
    table = next(d.value for d in at.dataframe if "Paper ms (reported in the paper)" in d.value.columns)
    # (the store is process-wide: other tests' ONNX Runtime rows may be there too)
    assert sorted(table[table["Backend"] == "PyTorch eager"]["Model"]) == [
        "AlexNet",
        "ShuffleNet 0.5x arch2 (g=3)",
        "ShuffleNet 1x (g=3)",
    ]
    [warning] = [w for w in page_warnings(at) if "failed" in w]
    assert warning.startswith("3 measurement(s) failed") and "creating the ONNX Runtime session" in warning
    assert any("3 measurements done" in s.value for s in at.success)
    assert_no_thread_of_ours()


def test_table8_job_cancelled_from_the_page(fresh_tmp):
    from test_latency_page import wait_for_job

    at = short(open_app(PAGE))
    at.button(key="lat_t8_run").click().run()
    at.button(key="lat_cancel").click().run()
    job = wait_for_job(at)
    assert job.state == "cancelled"
    assert_no_thread_of_ours()


# --------------------------------------------------------------------------- the CLI


def bench_in_process(capsys, *args: str) -> tuple[int, str, str]:
    from explorer.cli import main

    status = main(["bench", *args])
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_json_lists_failures_and_keeps_torch(fresh_tmp, monkeypatch, capsys):
    break_export(monkeypatch)
    status, out, err = bench_in_process(
        capsys, "--groups", "8", "--width", "0.25", "--input", "64x64", "--backends", "torch,ort", *QUICK, "--json"
    )
    assert status == 0
    payload = json.loads(out)
    assert [r["backend"] for r in payload["results"]] == ["torch"]
    assert payload["failures"] == [
        {
            "model": "ShuffleNet 0.25x (g=8)",
            "input": [64, 64],
            "backend": "ort",
            "backend_label": "ONNX Runtime FP32",
            "stage": "export",
            "reason": f"RuntimeError: {INJECTED} second line of the message",
        }
    ]
    assert "FAILED at export" in err and "Traceback" not in err


def test_cli_json_lists_an_openvino_compile_failure(fresh_tmp, monkeypatch, capsys):
    break_openvino(monkeypatch)
    status, out, err = bench_in_process(
        capsys, "--groups", "8", "--width", "0.25", "--input", "64x64", "--backends", "ort,openvino", *QUICK, "--json"
    )
    assert status == 0
    payload = json.loads(out)
    assert [r["backend"] for r in payload["results"]] == ["ort"]
    assert payload["results"][0]["compile_s"] > 0  # the ORT session's creation, apart from the latency
    assert [(f["backend"], f["stage"]) for f in payload["failures"]] == [("openvino", "compile")]
    assert "FAILED at compile" in err and "Traceback" not in err


def test_cli_text_exit_1_when_nothing_was_measured(fresh_tmp, monkeypatch, capsys):
    break_session(monkeypatch)
    status, out, err = bench_in_process(
        capsys, "--groups", "8", "--width", "0.25", "--input", "64x64", "--backends", "ort,ort-int8", *QUICK
    )
    assert status == 1
    assert "Failed, not measured (2;" in out and "session" in out and INJECTED in out
    assert "Traceback" not in out + err


def run_bench_subprocess(tmpdir, *args: str, inject: str = "") -> subprocess.CompletedProcess:
    """``python -m explorer bench`` in its own process with TMPDIR set; ``inject``: code run first."""
    code = f"import sys\n{inject}\nfrom explorer.cli import main\nsys.exit(main(sys.argv[1:]))"
    # torch keeps a persistent compile cache in $TMPDIR/torchinductor_<user> unless told where: not ours
    env = {**os.environ, "TMPDIR": str(tmpdir), "TORCHINDUCTOR_CACHE_DIR": str(tmpdir.parent / "torch-cache")}
    return subprocess.run(
        [sys.executable, "-c", code, "bench", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


def test_cli_subprocess_leaves_no_temp_files(tmp_path):
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    done = run_bench_subprocess(
        tmpdir,
        "--groups",
        "8",
        "--width",
        "0.25",
        "--input",
        "64x64",
        "--backends",
        "torch,ort,ort-int8",
        *QUICK,
        "--json",
    )
    assert done.returncode == 0, done.stderr
    assert len(json.loads(done.stdout)["results"]) == 3
    assert os.listdir(tmpdir) == []
    broken = (
        "import onnxruntime\n"
        "def broken(*a, **k):\n    raise RuntimeError('injected fault')\n"
        "onnxruntime.InferenceSession = broken"
    )
    done = run_bench_subprocess(
        tmpdir,
        "--groups",
        "8",
        "--width",
        "0.25",
        "--input",
        "64x64",
        "--backends",
        "torch,ort",
        *QUICK,
        "--traceback",
        inject=broken,
    )
    assert done.returncode == 0, done.stderr
    assert "PyTorch" in done.stdout or " torch " in done.stdout
    assert "FAILED at session: RuntimeError: injected fault" in done.stderr
    assert "Traceback (most recent call last)" in done.stderr  # --traceback: the details too
    assert os.listdir(tmpdir) == []
