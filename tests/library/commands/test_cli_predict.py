"""``predict`` and ``calibrate`` on the command line: synthetic calibrations kept in a fresh data directory.

Nothing here times anything but the two ``load`` tests at the end (one real, small calibration,
and one interrupted by Ctrl-C): the predictor is fitted on ``tests.test_predictor``'s synthetic
timings with a known answer, kept under this machine's key (or another's) as ``calibrate`` would.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT, assert_one_line_usage_error, run_cli, run_explorer

from explorer.latency.predictor import Calibration, Predictor, calibration_needed, keep, keep_new, kept_rows
from explorer.latency.predictor.kept import key_here
from explorer.latency.predictor.labels import ms_text
from explorer.machine import versions
from explorer.shufflenet import ShuffleNetConfig
from explorer.store import CalibrationKey, put_calibration

HELD_OUT = {"configs": 40, "within_10_percent": 0.9, "median_abs_error": 0.06, "max_abs_error": 0.12}


@pytest.fixture
def fresh_store(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    yield tmp_path


@pytest.fixture(scope="module")
def synthetic() -> Calibration:
    from test_predictor import synthetic_calibration

    return synthetic_calibration(backend="ort")  # its networks run every kind, reorders included


def made_here(calibration: Calibration, backend: str = "ort", threads: int = 2, **changes) -> Calibration:
    """``calibration`` as if ``calibrate`` had just made it on this machine, with these versions."""
    values = {
        "backend": backend,
        "threads": threads,
        "machine": key_here(backend, threads).machine,
        "versions": versions(),
        "created_at": time.time(),
        "extra": {"held_out": HELD_OUT},
    }
    return dataclasses.replace(calibration, **(values | changes))


def test_without_a_calibration_predict_says_how_to_make_one_and_exits_1(fresh_store):
    result = run_cli("predict", "--groups", "8", "--width", "0.5", "--threads", "2")
    assert result.returncode == 1 and result.stdout == ""
    assert "no calibration" in result.stderr and "python -m explorer calibrate --threads 2" in result.stderr
    assert " ms" not in result.stderr  # never a number from elsewhere


def test_predict_prints_the_prediction_labelled_with_its_error(fresh_store, synthetic):
    calibration = made_here(synthetic)
    keep(calibration)
    config = ShuffleNetConfig(8, 0.5, "arch2")
    expected = Predictor(calibration).predict(config)
    result = run_cli("predict", "--groups", "8", "--width", "0.5", "--variant", "arch2", "--threads", "2")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    assert f"predicted {ms_text(expected.predicted_ms)} ms here (ONNX Runtime FP32, 2 threads)" in text
    assert "expected error ±6% (median |error| on 40 held-out configs, 90% within ±10%, max 12%)" in text
    for layer in expected.layers:
        assert layer.layer in result.stdout and f"{layer.ms:.3f}" in result.stdout
    assert "per-run overhead" in result.stdout and "extrapolation" not in result.stdout
    assert "Predicted, not measured" in text


def test_predict_json_has_the_prediction_the_layers_and_the_error(fresh_store, synthetic):
    calibration = made_here(synthetic)
    keep(calibration)
    result = run_cli("predict", "--groups", "3", "--width", "1.0", "--json", "--threads", "2")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    expected = Predictor(calibration).predict(ShuffleNetConfig(3, 1.0))
    assert payload["predicted_ms"] == pytest.approx(expected.predicted_ms)
    assert (payload["backend"], payload["threads"]) == ("ort", 2)
    assert payload["expected_error"] == HELD_OUT and payload["extrapolated"] is False
    assert sum(layer["ms"] for layer in payload["layers"]) + payload["overhead_ms"] == pytest.approx(
        payload["predicted_ms"]
    )
    assert {layer["layer"] for layer in payload["layers"]} == {layer.layer for layer in expected.layers}
    assert payload["source"] == "predicted here (not measured)"


def test_outside_the_sampled_shapes_it_says_extrapolation(fresh_store, synthetic):
    keep(made_here(synthetic))
    result = run_cli("predict", "--input", "4096x4096", "--threads", "2")
    assert result.returncode == 0 and "extrapolation: outside the shapes the calibration sampled" in result.stdout
    payload = json.loads(run_cli("predict", "--input", "4096x4096", "--threads", "2", "--json").stdout)
    assert payload["extrapolated"] is True and payload["extrapolation"]


def test_the_fastest_calibrated_backend_by_default_and_only_the_one_asked(fresh_store, synthetic):
    keep(made_here(synthetic, "ort"))
    assert json.loads(run_cli("predict", "--json", "--threads", "2").stdout)["backend"] == "ort"
    result = run_cli("predict", "--backend", "openvino", "--threads", "2")
    assert result.returncode == 1 and "--backend openvino --threads 2" in result.stderr
    assert run_cli("predict", "--threads", "1").returncode == 1  # calibrated at 2 threads only


def test_other_versions_or_another_machine_never_give_a_number(fresh_store, synthetic):
    other_versions = made_here(synthetic, versions={**versions(), "onnxruntime": "0.1"})
    keep(other_versions)
    put_calibration(
        CalibrationKey("another CPU | 64 cores", CalibrationKey.versions_text(versions()), "ort", 2),
        made_here(synthetic).to_dict(),
        noisy=False,
    )
    result = run_cli("predict", "--threads", "2", "--json")
    assert result.returncode == 1 and result.stdout == ""
    assert "made with other library versions (onnxruntime 0.1 -> " in result.stderr and "is ignored" in result.stderr


def test_the_entry_point_exits_1_without_a_calibration(fresh_store):
    result = run_explorer("predict", "--groups", "3", "--threads", "2")
    assert result.returncode == 1 and "python -m explorer calibrate" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "args, named",
    [
        (("predict", "--groups", "0"), "groups=0"),
        (("predict", "--width", "9"), "width=9"),
        (("predict", "--width", "nan"), "'nan'"),
        (("predict", "--input", "0x0"), "input_size=(0, 0)"),
        (("predict", "--variant", "wide"), "'wide'"),
        (("predict", "--backend", "torch"), "'torch'"),
        (("predict", "--threads", "0"), "'0'"),
        (("predict", "--threads", "999"), "'999'"),
        (("calibrate", "--backend", "torch"), "'torch'"),
        (("calibrate", "--threads", "two"), "'two'"),
        (("calibrate", "--budget", "0"), "'0'"),
        (("calibrate", "--list", "--clear"), "--clear"),
        (("calibrate", "--list", "--force"), "--force"),
        (("calibrate", "--list", "--backend", "ort"), "--backend"),
        (("calibrate", "--json"), "--json"),
        (("calibrate", "--clear", "--json"), "--json"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(fresh_store, args, named):
    assert_one_line_usage_error(run_cli(*args), named)


def test_calibrate_says_a_current_calibration_is_current(fresh_store, synthetic):
    keep(made_here(synthetic, "ort", 2))
    started = time.perf_counter()
    result = run_cli("calibrate", "--backend", "ort", "--threads", "2")
    assert result.returncode == 0 and "is current" in result.stdout and "--force" in result.stdout
    assert time.perf_counter() - started < 5  # nothing was timed
    assert len(kept_rows()) == 1


def test_a_noisy_kept_calibration_is_due_again(fresh_store, synthetic):
    keep(made_here(synthetic, "ort", 2, noisy_networks=len(synthetic.networks)))
    reason = calibration_needed("ort", 2)
    assert reason is not None and "noisy" in reason
    assert calibration_needed("ort", 1) == (
        "no ort calibration at 1 thread is kept for this machine and these library versions"
    )
    assert run_cli("calibrate", "--list", "--json").stdout.count('"noisy": true') == 1


def test_a_calibration_that_ran_slower_than_the_kept_ones_says_so_and_is_due_again(fresh_store, synthetic):
    from explorer.commands.calibrate import summary

    def at_level(level_ms: float) -> Calibration:
        return dataclasses.replace(
            synthetic, networks=tuple(dataclasses.replace(n, probe_ms=level_ms) for n in synthetic.networks)
        )

    keep(made_here(at_level(1.0), "openvino", 2))
    kept = keep_new(made_here(at_level(1.2), "ort", 2))  # no ort calibration before it: kept, saying so
    assert kept.stays is None
    assert "ran 20% slower than the calibrations kept here before it" in summary(kept)
    assert "ran 20% slower" in calibration_needed("ort", 2) and calibration_needed("openvino", 2) is None
    assert run_cli("calibrate", "--list", "--json").stdout.count('"noisy": true') == 1


def test_a_noisy_calibration_is_not_kept_over_a_quiet_one_and_calibrate_says_how_to_replace_it(fresh_store, synthetic):
    from explorer.commands.calibrate import summary

    def at_level(level_ms: float, created_at: float) -> Calibration:
        networks = tuple(dataclasses.replace(n, probe_ms=level_ms) for n in synthetic.networks)
        return made_here(dataclasses.replace(synthetic, networks=networks), "ort", 2, created_at=created_at)

    keep(at_level(1.0, time.time() - 7200))
    kept = keep_new(at_level(1.5, time.time()))
    assert kept.stays is not None and kept.calibration.ran_slow
    text = summary(kept)
    assert text.startswith("made the ONNX Runtime FP32 calibration at 2 threads: ")
    assert "Ran 50% slower than the calibrations kept here before it" in text
    assert "It is not kept: the quiet calibration kept 2 h ago stays in use" in text
    assert "python -m explorer calibrate --clear --backend ort --threads 2, then calibrate" in text
    listed = json.loads(run_cli("calibrate", "--list", "--json").stdout)["calibrations"]
    assert [(row["backend"], row["noisy"]) for row in listed] == [("ort", False)]


def test_a_calibration_missing_a_kernel_kind_is_exit_1_not_a_traceback(fresh_store, synthetic):
    networks = tuple(
        dataclasses.replace(n, kind_ms={k: ms for k, ms in n.kind_ms.items() if k != "shuffle"})
        for n in synthetic.networks
    )
    partial = made_here(synthetic, networks=networks)
    keep(partial)
    result = run_cli("predict", "--groups", "3", "--threads", "2")
    assert result.returncode == 1 and "cannot predict this model" in result.stderr and "--force" in result.stderr


def test_calibrate_list_shows_every_kept_calibration(fresh_store, synthetic):
    keep(made_here(synthetic, "ort", 2))
    keep(made_here(synthetic, "openvino", 1, versions={**versions(), "openvino": "0.1"}))
    put_calibration(
        CalibrationKey("another CPU | 64 cores", CalibrationKey.versions_text(versions()), "ort", 4),
        made_here(synthetic).to_dict(),
        noisy=True,
    )
    result = run_cli("calibrate", "--list")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Backend", "Threads", "Kept", "Noisy", "Machine", "Versions", "Used", "here"]
    rows = {tuple(line.split()[:2]): line.split() for line in lines[2:5]}
    assert rows[("ort", "2")][-4:] == ["no", "this", "current", "yes"]
    assert rows[("openvino", "1")][-3:] == ["this", "other", "no"]
    assert rows[("ort", "4")][-4:] == ["yes", "other", "current", "no"]
    assert "openvino 0.1 ->" in result.stdout  # why the openvino one is ignored
    payload = json.loads(run_cli("calibrate", "--list", "--json").stdout)
    assert [(c["backend"], c["current"]) for c in payload["calibrations"]] == [
        ("ort", True),
        ("openvino", False),
        ("ort", False),
    ]
    assert len(payload["ignored_here"]) == 1


def test_calibrate_clear_removes_one_backend_or_all(fresh_store, synthetic):
    keep(made_here(synthetic, "ort", 2))
    keep(made_here(synthetic, "openvino", 2))
    keep(made_here(synthetic, "ort", 1))
    result = run_cli("calibrate", "--clear", "--backend", "ort", "--threads", "2")
    assert result.returncode == 0 and "Removed 1 kept calibration" in result.stdout
    assert sorted((r.backend, r.threads) for r in kept_rows()) == [("openvino", 2), ("ort", 1)]
    assert "Removed 2 kept calibrations" in run_cli("calibrate", "--clear").stdout
    assert kept_rows() == []
    assert "No calibration is kept" in run_cli("calibrate", "--list").stdout


@pytest.mark.load
def test_a_real_small_calibration_is_kept_and_predicts(fresh_store):
    """One real calibration (ONNX Runtime, 1 thread, a tiny budget): kept, listed, and used by ``predict``."""
    result = run_explorer("calibrate", "--backend", "ort", "--threads", "1", "--budget", "5", timeout=600)
    assert result.returncode == 0, result.stderr
    assert (
        "networks timed and profiled" in result.stderr
        and "kept the ONNX Runtime FP32 calibration at 1 thread" in result.stdout
    )
    payload = json.loads(run_cli("predict", "--backend", "ort", "--threads", "1", "--json").stdout)
    assert payload["predicted_ms"] > 0 and payload["expected_error"]["method"] == "cross-validated"
    assert [(r.backend, r.threads, r.current) for r in kept_rows()] == [("ort", 1, True)]


@pytest.mark.load
def test_ctrl_c_leaves_no_half_calibration(fresh_store):
    # A test run started in the background inherits an ignored SIGINT, and Python then never raises
    # KeyboardInterrupt: the child restores Python's own handler first, as in a terminal.
    main = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "sys.argv = ['explorer', 'calibrate', '--backend', 'ort', '--threads', '1', '--force']; "
        "runpy.run_module('explorer', run_name='__main__')"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", main],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    while (line := process.stderr.readline()) and "networks timed and profiled" not in line:
        pass  # until timing is under way
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130 and "nothing kept" in err and "Traceback" not in err
    assert kept_rows() == []
