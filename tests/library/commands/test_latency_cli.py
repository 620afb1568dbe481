"""``python -m explorer bench`` through a real subprocess: JSON keys, text output, bad arguments."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import assert_one_line_usage_error, run_cli

QUICK = ["--threads", "1", "--min-time", "0.02"]


def bench(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return run_cli("bench", *args, timeout=timeout)


def test_one_model_json():
    done = bench("--groups", "8", "--width", "0.25", "--input", "64x96", "--backends", "torch,ort", *QUICK, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    machine = payload["machine"]
    assert machine["cpu"] and machine["threads"] == 1 and machine["gemm_gflops"] > 0
    assert machine["torch"] and machine["onnxruntime"]
    results = payload["results"]
    assert [r["backend"] for r in results] == ["torch", "ort"]
    for r in results:
        assert r["model"] == "ShuffleNet 0.25x (g=8)"
        assert r["input"] == [64, 96]
        assert r["median_ms"] > 0 and r["iqr_ms"] >= 0 and r["runs"] >= 3 and r["macs"] > 0
        assert isinstance(r["noisy"], bool)
    assert results[1]["max_abs_diff"] < 1e-3


def test_table8_json_restricted_to_one_input():
    done = bench("--table8", "--inputs", "224x224", "--backends", "ort", *QUICK, "--json")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert {"machine", "results", "summary", "wall_s"} <= set(payload)
    assert payload["machine"]["gemm_gflops"] > 0
    models = [r["model"] for r in payload["results"]]
    assert models == ["ShuffleNet 0.5x arch2 (g=3)", "ShuffleNet 1x (g=3)", "AlexNet"]
    for r in payload["results"]:
        assert r["input"] == [224, 224] and r["backend"] == "ort"
        for key in ("median_ms", "iqr_ms", "runs", "macs", "measured_speedup", "theoretical_speedup", "paper_ms"):
            assert key in r
    assert payload["results"][2]["measured_speedup"] == pytest.approx(1.0)
    summary = payload["summary"]
    speedup = summary["speedup_0_5x_arch2_vs_alexnet_224"]
    assert speedup["theoretical_speedup"] > 15
    assert speedup["rule"] == "each model on its fastest FP32 backend measured" and speedup["model_backend"] == "ort"
    assert [r["backend"] for r in summary["speedup_0_5x_arch2_vs_alexnet_224_per_backend"]] == ["ort"]
    assert all(r["compile_s"] > 0 for r in payload["results"])  # ORT session creation, apart from the latency
    # the verdict, computed from ORT's profiles of both models made on the exports this run already had
    assert [p["model"] for p in summary["profiles"]] == ["ShuffleNet 0.5x arch2 (g=3)", "AlexNet"]
    for profile in summary["profiles"]:
        assert sum(r["scaled_ms"] for r in profile["rows"]) == pytest.approx(profile["median_ms_without_profiler"])
    verdict = summary["verdict"]
    assert verdict.startswith(
        f"Measured {speedup['measured_speedup']:.1f}× against {speedup['theoretical_speedup']:.1f}× in multiply-adds"
    )
    assert "classifier" in verdict and "In ONNX Runtime's profile of ShuffleNet 0.5x arch2 (g=3)" in verdict


def test_table8_runs_the_fastest_runtimes_unless_told():
    from explorer.cli import build_parser
    from explorer.commands.bench import jobs_from_args

    parser = build_parser()
    table8 = jobs_from_args(parser.parse_args(["bench", "--table8"]))
    assert len(table8) == 18 and {b for _, b in table8} == {"ort", "openvino"}
    single = jobs_from_args(parser.parse_args(["bench", "--groups", "3"]))
    assert [b for _, b in single] == ["torch", "ort", "openvino"]  # issue 19, item 6: "fastest" among all three


def test_text_output_with_repeat_prints_the_ratio():
    done = bench(
        "--model", "mobilenet", "--width", "0.25", "--input", "64x64", "--backends", "torch", *QUICK, "--repeat", "2"
    )
    assert done.returncode == 0, done.stderr
    assert "0.25 MobileNet v1" in done.stdout
    assert "Ratio max/min" in done.stdout and "Repeatability: 2 passes" in done.stdout
    assert "NOISY = IQR > 10% of the median" in done.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--threads", "0"],
        ["--batch", "-1"],
        ["--backends", "torch,tensorrt"],
        ["--table8", "--groups", "3"],
        ["--model", "alexnet", "--groups", "3"],
        ["--inputs", "224x224"],
        ["--table8", "--inputs", "300x300"],
        ["--input", "10x10"],
        ["--min-time", "nan"],
        ["--model", "alexnet", "--input", "4096x4096", "--batch", "1000"],  # memory guard
    ],
    ids=lambda a: " ".join(a),
)
def test_bad_arguments_one_line_exit_2(args):
    done = bench(*args, timeout=120)
    assert_one_line_usage_error(done, "error")


def test_memory_refusal_states_estimate_and_limit():
    done = bench("--model", "alexnet", "--input", "4096x4096", "--batch", "1000", timeout=120)
    assert "needs about" in done.stderr and "limit is" in done.stderr


def test_profile_text():
    done = bench("--profile", "--width", "0.25", "--input", "64x64", "--threads", "1")
    assert done.returncode == 0, done.stderr
    assert "ms/run" in done.stdout and "3x3 depthwise conv (+BN)" in done.stdout
