"""OpenVINO backends and the GEMM roofline over three libraries: parity, settings, INT8, BF16, the stored peak.

Everything runs the real OpenVINO CPU plugin on small models (no timing assertions: the
machine is shared). Faults are in ``tests/library/latency/test_latency_faults.py`` beside ONNX Runtime's.
"""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from explorer import MobileNetConfig, ShuffleNetConfig
from explorer import latency as lat
from explorer.latency import openvino as ov_backend
from explorer.latency import roofline

FAST = {"min_time": 0.0, "warmup": 0.0, "min_samples": 2}
SMALL = ShuffleNetConfig(groups=3, width=0.25, input_size=(64, 96))


@pytest.fixture(autouse=True)
def one_peak_measurement(monkeypatch):
    """A noisy GEMM peak (a busy machine) is not measured again in these tests: they are not about it."""
    monkeypatch.setattr(roofline, "NOISY_RETRIES", 0)


def cpu_flags() -> set[str]:
    with open("/proc/cpuinfo", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    return set()


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [SMALL, MobileNetConfig(width=0.25, input_size=(96, 64))],
    ids=["ShuffleNet static export", "MobileNet dynamic export"],
)
def test_openvino_fp32_matches_pytorch_and_reports_its_compile_time(config):
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        m = runner.measure(config, "openvino")
        [compiled] = [v for k, v in runner._sessions.items() if k[0] == "openvino"]
        model = compiled.request.get_compiled_model()
    assert m.backend_label == "OpenVINO FP32"
    assert m.relative_diff is not None and m.relative_diff < 1e-4, m.max_abs_diff  # judged: FP32 tolerance 1e-3
    assert m.compile_s is not None and m.compile_s > 0
    record = m.to_dict()
    assert record["compile_s"] == m.compile_s and record["precision"] == "fp32"
    assert lat.Measurement.from_record(json.loads(json.dumps(m.to_record()))).compile_s == m.compile_s  # stored
    # compiled as asked: static input shape, f32, one stream, the runner's thread count, LATENCY
    assert list(model.input(0).get_shape()) == [1, 3, *config.input_size]
    assert "f32" in str(model.get_property("INFERENCE_PRECISION_HINT")).lower().replace("float32", "f32")
    assert int(model.get_property("NUM_STREAMS")) == 1
    assert int(model.get_property("INFERENCE_NUM_THREADS")) == 1
    assert "LATENCY" in str(model.get_property("PERFORMANCE_HINT"))


@pytest.mark.slow
def test_openvino_int8_runs_the_model_onnx_runtime_int8_runs():
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many([(SMALL, "ort-int8"), (SMALL, "openvino-int8"), (SMALL, "openvino")])
        files = sorted(os.listdir(runner.workdir))
        compiled_paths = {k[1] for k in runner._sessions if k[0] == "openvino"}
    assert not results.failures
    assert [f for f in files if f.endswith("-int8.onnx")] == ["model1-int8.onnx"]  # one quantised file for both
    assert any(p.endswith("-int8.onnx") for p in compiled_paths)
    by = {m.backend: m for m in results.measurements}
    drift = by["openvino-int8"]
    assert by["openvino-int8"].backend_label == "OpenVINO INT8"
    assert 0 < drift.relative_diff < 0.5  # INT8 drift: reported, not judged
    assert by["openvino"].relative_diff < 1e-4


def test_bf16_is_offered_exactly_where_the_cpu_has_it():
    reason = lat.unavailable_reason("openvino-bf16")
    has_bf16 = bool({"avx512_bf16", "amx_bf16"} & cpu_flags())
    assert (reason is None) == has_bf16, reason
    assert ("openvino-bf16" in lat.available_backends()) == has_bf16
    assert lat.BACKENDS["openvino-bf16"].label == "OpenVINO BF16 (reduced precision)"
    if reason is None:
        m = lat.measure(SMALL, "openvino-bf16", threads=1, **FAST)
        assert m.relative_diff is not None and m.relative_diff > 0  # drift reported, not judged
        return
    assert "BF16" in reason and "OPTIMIZATION_CAPABILITIES" in reason
    with pytest.raises(ValueError, match="backend='openvino-bf16' is not allowed here: OpenVINO's CPU plugin"):
        lat.parse_backends("ort,openvino-bf16")
    with pytest.raises(ValueError, match="Choose from torch, .*openvino-int8"):
        lat.measure(SMALL, "openvino-bf16", threads=1, **FAST)


@pytest.mark.slow
def test_gemm_peak_is_the_best_of_three_libraries_and_kept_per_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(roofline, "_CACHE", {})
    monkeypatch.setattr(roofline, "_ATTEMPTS", {})
    with lat.measurement_lock():
        peak = roofline.gemm_peak(1)
    rates = dict(peak.rates)
    assert list(rates) == ["torch.mm", "ONNX Runtime MatMul", "OpenVINO MatMul"]
    assert peak.macs_per_s == max(rates.values()) and rates[peak.library] == peak.macs_per_s
    assert set(peak.to_dict()["gemm_gmacs_by_library"]) == set(rates)
    # a new process (empty cache) finds it in the data directory instead of measuring again
    monkeypatch.setattr(roofline, "_CACHE", {})
    monkeypatch.setattr(roofline, "measure_gemm", lambda *a, **k: pytest.fail("measured again"))
    stored = roofline.cached_gemm_peak(1)
    assert stored == peak
    # another machine (or other library versions) never reads it
    monkeypatch.setattr(roofline, "_CACHE", {})
    monkeypatch.setattr(roofline, "fingerprint", lambda: "another CPU | 64 cores | torch 0")
    assert roofline.cached_gemm_peak(1) is None


def test_openvino_matmul_computes_the_product():
    generator = np.random.default_rng(0)
    a, b = generator.standard_normal((64, 48), dtype=np.float32), generator.standard_normal((48, 32), dtype=np.float32)
    run = ov_backend.matmul(a, b, threads=1)
    assert np.allclose(run(), a @ b, atol=1e-4)
    assert np.allclose(run(), a @ b, atol=1e-4)  # the same request, run again
