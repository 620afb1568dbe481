"""Latency lab: the timing harness, ONNX export parity, the lock, the memory guard.

No timing assertions (the machine is shared): only counts, statistics of known samples,
orderings of recorded intervals and numerical parity.
"""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch
from torch import nn

from explorer import AlexNetConfig, MobileNetConfig, ShuffleNetConfig, build_model, complexity, machine
from explorer import latency as lat
from explorer.concurrency import measurement_running, torch_threads
from explorer.counting import estimate as limits
from explorer.latency.export import export_onnx, fold_batchnorm, ort_session
from explorer.latency.timing import is_noisy, summarize, time_function

FAST = {"min_time": 0.0, "warmup": 0.0, "min_samples": 2}


class FakeClock:
    """A clock that only moves when the timed function runs: exact, machine-independent."""

    def __init__(self, call_seconds: float) -> None:
        self.now = 0.0
        self.calls = 0
        self.call_seconds = call_seconds

    def __call__(self) -> float:
        return self.now

    def work(self) -> None:
        self.calls += 1
        self.now += self.call_seconds


# --------------------------------------------------------------------------- statistics


def test_median_iqr_min_of_known_samples():
    timing = summarize([5, 1, 9, 3, 7, 2, 8, 4, 6])
    assert timing.median_ms == 5
    assert timing.q1_ms == 3 and timing.q3_ms == 7  # numpy's linear interpolation
    assert timing.iqr_ms == 4
    assert timing.min_ms == 1
    assert timing.runs == 9
    even = summarize([1, 2, 3, 4])
    assert even.median_ms == 2.5
    assert even.q1_ms == pytest.approx(1.75) and even.q3_ms == pytest.approx(3.25)


def test_runs_count_blocks():
    assert summarize([1.0, 1.0], block=10).runs == 20
    assert summarize([1.0, 1.0, 1.0], runs=7).runs == 7


def test_noisy_flag_is_iqr_over_ten_percent_of_median():
    assert not is_noisy(10.0, 1.0)
    assert is_noisy(10.0, 1.0001)
    assert not summarize([10, 10, 10, 10, 30]).noisy  # one outlier leaves the IQR at 0
    assert summarize([8, 9, 10, 11, 12]).noisy  # IQR 2 > 1
    assert not summarize([9.6, 9.8, 10, 10.2, 10.4]).noisy  # IQR 0.4


def test_summarize_refuses_empty_and_nonfinite():
    with pytest.raises(ValueError):
        summarize([])
    with pytest.raises(ValueError):
        summarize([1.0, float("nan")])


# --------------------------------------------------------------------------- the harness


def test_time_function_counts_runs_with_an_exact_clock():
    step = 2.0**-9  # about 2 ms per call, exact in binary: one call per sample
    clock = FakeClock(step)
    timing = time_function(clock.work, min_time=10 * step, warmup=0.0, min_samples=5, clock=clock)
    assert timing.block == 1
    assert timing.samples_ms == (step * 1e3,) * 10  # ten calls fill min_time
    assert timing.runs == 10
    assert clock.calls == 2 + 10  # two warm-up calls
    assert timing.median_ms == step * 1e3 and timing.iqr_ms == 0.0 and not timing.noisy


def test_time_function_blocks_fast_calls_and_keeps_min_samples():
    clock = FakeClock(2.0**-13)  # 0.122 ms: nine calls make a block of at least 1 ms
    timing = time_function(clock.work, min_time=0.0, warmup=0.0, min_samples=7, block_ms=1.0, clock=clock)
    assert timing.block == 9
    assert len(timing.samples_ms) == 7
    assert timing.runs == 63
    assert timing.median_ms == pytest.approx(2.0**-13 * 1e3)


def test_time_function_stops_slow_models_at_max_time():
    clock = FakeClock(2.0)  # 2 s per call
    timing = time_function(clock.work, min_time=1.0, warmup=0.25, min_samples=5, max_time=3.0, clock=clock)
    assert clock.calls == 1 + 3  # one warm-up call (slow model), then three samples (the floor)
    assert timing.runs == 3


def test_time_function_on_a_real_tiny_model():
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU()).eval()
    image = torch.randn(1, 3, 16, 16)
    with torch.inference_mode():
        timing = time_function(lambda: model(image), min_time=0.05, warmup=0.01, min_samples=5)
    assert len(timing.samples_ms) >= 5
    assert timing.runs == len(timing.samples_ms) * timing.block
    assert all(s > 0 for s in timing.samples_ms)
    assert timing.min_ms <= timing.median_ms


def test_torch_threads_restored_even_on_error():
    before = torch.get_num_threads()
    seen = []
    with pytest.raises(RuntimeError):
        with torch_threads(1):
            seen.append(torch.get_num_threads())
            raise RuntimeError("boom")
    assert seen == [1]
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError):
        with torch_threads(0):
            pass


def test_runner_uses_its_threads_and_restores_torchs():
    tiny = ShuffleNetConfig(groups=2, width=0.25, input_size=(64, 64))
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with lat.LatencyRunner(threads=2, **FAST) as runner:
            measurement = runner.measure(tiny, "torch")
        assert measurement.threads == 2
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(previous)


# --------------------------------------------------------------------------- ONNX export parity

PARITY_CONFIGS = [
    ShuffleNetConfig(groups=8, width=0.25, input_size=(64, 64)),
    ShuffleNetConfig(groups=3, width=0.25, input_size=(480, 640)),
    ShuffleNetConfig(groups=3, width=0.25, shuffle=False, input_size=(96, 128)),
    ShuffleNetConfig(groups=2, width=0.5, variant="arch2", input_size=(64, 96)),
    MobileNetConfig(width=0.25, input_size=(96, 96)),
]


@pytest.mark.parametrize("config", PARITY_CONFIGS, ids=lambda c: f"{c.label}-{c.input_size}")
def test_onnx_runtime_matches_pytorch(config):
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        m = runner.measure(config, "ort")
        workdir = runner.workdir
        assert os.listdir(workdir)  # the export is there while the runner lives
    assert not os.path.exists(workdir)  # and gone afterwards
    assert m.max_abs_diff is not None and m.relative_diff is not None
    assert m.relative_diff < 1e-4, m.max_abs_diff
    assert m.timing.runs >= 2


def test_alexnet_exports_fully_convolutionally_at_480x640(tmp_path):
    """AlexNet's fc6/fc7/fc8 are convolutions, so it runs (and exports) at 480x640."""
    config = AlexNetConfig(input_size=(480, 640), num_classes=10)
    torch.manual_seed(0)
    model = build_model(config)
    path = export_onnx(model, config.input_size, str(tmp_path / "alexnet.onnx"))
    session = ort_session(path, threads=1)
    image = torch.randn(1, 3, 480, 640)
    with torch.inference_mode():
        expected = model(image).numpy()
    got = session.run(None, {"image": image.numpy()})[0]
    assert got.shape == (1, 10)
    assert np.max(np.abs(got - expected)) <= 1e-4 * max(1.0, float(np.max(np.abs(expected))))


def test_one_export_serves_every_input_size(tmp_path):
    """The export has dynamic height/width: Table 8's three inputs reuse one file."""
    config = ShuffleNetConfig(groups=3, width=0.25)
    model = build_model(config)
    session = ort_session(export_onnx(model, (224, 224), str(tmp_path / "m.onnx")), threads=1)
    for size in ((224, 224), (96, 160)):
        image = torch.randn(2, 3, *size)
        with torch.inference_mode():
            expected = model(image).numpy()
        got = session.run(None, {"image": image.numpy()})[0]
        assert np.allclose(got, expected, atol=1e-4, rtol=1e-4)


def test_folded_batchnorm_is_the_same_function():
    config = ShuffleNetConfig(groups=3, width=0.5)
    torch.manual_seed(0)
    model = build_model(config)
    for module in model.modules():  # non-trivial BN statistics, so folding has something to do
        if isinstance(module, nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    folded = fold_batchnorm(model)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in folded.modules())
    image = torch.randn(1, 3, 96, 96)
    with torch.inference_mode():
        assert torch.allclose(model(image), folded(image), atol=1e-4, rtol=1e-4)


def test_other_backends_run_and_int8_reports_its_drift():
    config = ShuffleNetConfig(groups=3, width=0.25, input_size=(64, 64))
    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = {b: runner.measure(config, b) for b in ("torch-cl", "torch-fold", "ort-int8")}
    assert results["torch-cl"].max_abs_diff is None  # PyTorch itself: nothing to compare
    drift = results["ort-int8"]
    assert drift.max_abs_diff is not None and np.isfinite(drift.max_abs_diff)
    assert 0 < drift.relative_diff < 0.5  # INT8 moves the numbers, but not beyond recognition


def test_runner_removes_its_directory_on_error():
    config = ShuffleNetConfig(groups=2, width=0.25, input_size=(64, 64))
    with pytest.raises(RuntimeError, match="after export"):
        with lat.LatencyRunner(threads=1, **FAST) as runner:
            runner.measure(config, "ort")
            workdir = runner.workdir
            assert os.listdir(workdir)
            raise RuntimeError("after export")
    assert not os.path.exists(workdir)


def test_measurement_reports_roofline_and_macs():
    config = ShuffleNetConfig(groups=3, width=0.25, input_size=(64, 64))
    m = lat.measure(config, "ort", threads=1, min_time=0.0, warmup=0.0, min_samples=2)
    assert m.macs == int(complexity(config).macs_with_fc.value)
    assert m.gemm_macs_per_s and m.gemm_macs_per_s > 0
    assert m.floor_ms == pytest.approx(m.macs / m.gemm_macs_per_s * 1e3)
    assert m.roofline_fraction == pytest.approx(m.floor_ms / m.median_ms)
    record = m.to_dict()
    for key in ("model", "input", "backend", "median_ms", "iqr_ms", "runs", "macs", "threads", "noisy"):
        assert key in record


def test_bad_backend_threads_and_batch_are_refused():
    with pytest.raises(ValueError, match="backends"):
        lat.parse_backends("torch,tensorrt")
    with pytest.raises(ValueError, match="threads"):
        lat.LatencyRunner(threads=0)
    with pytest.raises(ValueError, match="batch"):
        lat.LatencyRunner(batch=0)
    assert lat.parse_backends("ort, torch,ort") == ("ort", "torch")


# --------------------------------------------------------------------------- the lock


def test_two_threads_measuring_at_once_do_not_overlap():
    config = ShuffleNetConfig(groups=2, width=0.25, input_size=(64, 64))
    results: list = [None, None]
    waited = threading.Event()

    def worker(index: int) -> None:
        with lat.LatencyRunner(threads=1, min_time=0.3, warmup=0.0, min_samples=3) as runner:
            results[index] = runner.measure(config, "torch", on_wait=lambda s: waited.set())

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    first, second = sorted(results, key=lambda m: m.started_at)
    assert first.finished_at <= second.started_at  # serialised: no overlap
    assert waited.is_set()  # the second one was told it was queued
    assert not measurement_running()


def test_queued_caller_sees_the_wait_and_can_cancel():
    waits: list[float] = []
    cancel = threading.Event()
    with lat.measurement_lock():

        def queued() -> None:
            try:
                with lat.measurement_lock(on_wait=lambda s: (waits.append(s), cancel.set()), cancel=cancel, poll=0.01):
                    raise AssertionError("must not get the lock while it is held")
            except lat.Cancelled:
                waits.append(-1.0)

        thread = threading.Thread(target=queued)
        thread.start()
        thread.join(timeout=10)
    assert waits and waits[-1] == -1.0  # told it was waiting, then cancelled while queued
    assert not measurement_running()


def test_measure_many_stops_between_measurements_when_cancelled():
    config = ShuffleNetConfig(groups=2, width=0.25, input_size=(64, 64))
    cancel = threading.Event()
    seen = []

    def progress(done, total, m):
        seen.append(done)
        cancel.set()  # cancel after the first measurement

    with lat.LatencyRunner(threads=1, **FAST) as runner:
        results = runner.measure_many(
            [(config, "torch"), (config, "torch-fold"), (config, "torch-cl")], progress=progress, cancel=cancel
        )
    assert len(results.measurements) == 1 and seen == [1] and results.cancelled


# --------------------------------------------------------------------------- memory guard


def test_memory_guard_refuses_a_huge_request_with_estimate_and_limit(monkeypatch):
    monkeypatch.setenv("EXPLORER_MAX_MEMORY_MB", "100000")  # so half the available memory is the tighter limit
    huge = ShuffleNetConfig(groups=3, width=2.0, input_size=(4096, 4096))
    with pytest.raises(limits.MemoryRefused) as error:
        limits.check_memory(huge, 256, ["ort"], available=8 * 10**9)
    message = str(error.value)
    assert "refused" in message and "needs about" in message and "limit is 4.00 GB" in message
    estimate = limits.memory_estimate(huge, 256, ["ort"], available=8 * 10**9)
    assert f"{estimate.total / 1e9:.2f} GB" in message
    assert not estimate.fits


def test_memory_guard_obeys_the_configured_limit(monkeypatch):
    config = ShuffleNetConfig(groups=3, width=1.0, input_size=(480, 640))
    assert limits.memory_estimate(config, 8, ["ort"], available=10**12).fits
    monkeypatch.setenv("EXPLORER_MAX_MEMORY_MB", "50")
    with pytest.raises(limits.MemoryRefused, match=r"limit is 0\.05 GB .*EXPLORER_MAX_MEMORY_MB"):
        limits.check_memory(config, 8, ["ort"], available=10**12)


def test_memory_guard_through_the_runner_before_any_work():
    huge = AlexNetConfig(input_size=(4096, 4096))
    with lat.LatencyRunner(threads=1, batch=1024, **FAST) as runner:
        with pytest.raises(limits.MemoryRefused, match="limit"):
            runner.measure(huge, "torch")
        assert runner._models == {}  # refused before building anything


def test_memory_estimate_grows_with_batch_and_uses_exact_shapes_at_any_size():
    small = ShuffleNetConfig(groups=3, width=1.0)
    one = limits.memory_estimate(small, 1, ["torch"], available=10**12)
    eight = limits.memory_estimate(small, 8, ["torch"], available=10**12)
    assert eight.total > one.total and one.fits
    activations, weights = limits.activation_and_weight_bytes(small)
    figures = complexity(small)
    assert activations == figures.activation_bytes.value and weights == 4 * figures.params.value
    big = small.with_(input_size=(2240, 2240))
    activations_big, weights_big = limits.activation_and_weight_bytes(big)  # nothing built at this size
    assert activations_big == pytest.approx(100 * activations, rel=0.01) and weights_big == weights


# --------------------------------------------------------------------------- Table 8 bookkeeping


def _fake_measurement(config, backend, ms):
    figures = complexity(config)
    return lat.Measurement(
        config, backend, 2, 1, summarize([ms] * 5), int(figures.macs_with_fc.value), int(figures.conv_macs.value), 1e10
    )


def test_table8_jobs_and_speedups():
    jobs = lat.table8_jobs(("torch", "ort"))
    assert len(jobs) == 18
    assert {c.input_size for c, _ in jobs} == {(224, 224), (480, 640), (720, 1280)}
    from explorer import paper

    half, one, alex = (r.config for r in paper.TABLE8)
    ms = [
        _fake_measurement(alex, "ort", 40.0),
        _fake_measurement(half, "ort", 4.0),
        _fake_measurement(half, "torch", 8.0),
        _fake_measurement(alex, "torch", 100.0),
    ]
    records = {(r["model"], r["backend"]): r for r in lat.table8_records(ms)}
    half_ort = records[(half.label, "ort")]
    assert half_ort["measured_speedup"] == pytest.approx(10.0)
    alex_macs = complexity(alex).macs_with_fc.value
    assert half_ort["theoretical_speedup"] == pytest.approx(alex_macs / complexity(half).macs_with_fc.value)
    assert half_ort["paper_ms"] == 15.2
    assert "reported in the paper" in half_ort["paper_note"]
    best = lat.best_speedup(ms, half)
    assert best["model_backend"] == "ort" and best["alexnet_backend"] == "ort"
    assert best["measured_speedup"] == pytest.approx(10.0)
    assert lat.summary(ms)["shufflenet_1x_g3_224_fastest"] is None  # 1x not measured


def test_machine_description():
    assert machine.cpu_model()
    assert lat.default_threads() >= 1
    info = lat.machine_dict(1, None)
    for key in ("cpu", "threads", "torch", "onnxruntime", "gemm_gflops"):
        assert key in info


def test_reference_models_are_alexnet_and_four_mobilenets():
    assert [c.label for c in lat.REFERENCE_MODELS.values()] == [
        "AlexNet",
        "1.0 MobileNet v1",
        "0.75 MobileNet v1",
        "0.5 MobileNet v1",
        "0.25 MobileNet v1",
    ]
    assert "fully convolutionally" in lat.ALEXNET_DEFINITION


def test_gemm_peak_is_cached_per_thread_count():
    from explorer.latency import roofline

    with lat.measurement_lock():
        first = roofline.gemm_peak(1)
        second = roofline.gemm_peak(1)
    assert first.macs_per_s > 0 and first.gflops == pytest.approx(2 * first.macs_per_s / 1e9)
    if not first.timing.noisy:
        assert second is first
    assert roofline.cached_gemm_peak(1) is not None


# --------------------------------------------------------------------------- contention meter


def test_cpu_meter_sees_another_busy_process():
    import subprocess
    import sys

    from explorer.latency.timing import CpuMeter

    meter = CpuMeter()
    subprocess.run(
        [sys.executable, "-c", "import time\nend = time.process_time() + 1.0\nwhile time.process_time() < end: pass"],
        check=True,
        timeout=120,
    )
    share = meter.others_share()
    if share is None:
        pytest.skip("no /proc/stat here")
    # One busy core out of os.cpu_count(): the child's CPU second is someone else's time.
    assert share >= 0.5 / (os.cpu_count() or 1)


def test_contended_flag_follows_the_share():
    assert summarize([1.0, 1.0], others_share=0.5).contended
    assert not summarize([1.0, 1.0], others_share=0.05).contended
    assert not summarize([1.0, 1.0]).contended  # unknown is not contended
    # one thread on two cores: a neighbour on the other core is not contention
    assert not summarize([1.0, 1.0], others_share=0.5, spare_share=0.5).contended
    assert summarize([1.0, 1.0], others_share=0.7, spare_share=0.5).contended
    assert summarize([1.0], others_share=0.5).to_dict()["contended"] is True


# --------------------------------------------------------------------------- ORT profile


def test_ort_profile_groups_shufflenet_nodes_and_counts_their_macs():
    from explorer.latency.kernel_profile import profile_ort

    config = ShuffleNetConfig(groups=2, width=0.5, input_size=(64, 64))
    profile = profile_ort(config, threads=1, runs=3)
    rows = profile.rows
    by = {r.category: r for r in rows}
    for part in (
        "1x1 GConv, compress (+BN, ReLU)",
        "3x3 depthwise conv (+BN)",
        "1x1 GConv, expand (+BN, add, ReLU)",
        "Channel shuffle (Reshape, Transpose)",
        "Conv1 3x3 (+BN, ReLU)",
        "FC",
    ):
        assert part in by, sorted(by)
    assert sum(r.share for r in rows) == pytest.approx(1.0)
    assert by["Channel shuffle (Reshape, Transpose)"].macs == 0
    counted = sum(r.macs for r in rows)
    model_macs = complexity(config).macs_with_fc.value
    assert model_macs <= counted <= 1.5 * model_macs  # NCHWc may pad channels to multiples of 8
    # scaled to the median measured without the profiler: the scaled times add up to that median
    assert profile.median_ms > 0 and profile.kernel_ms == pytest.approx(sum(r.ms for r in rows))
    assert sum(profile.scaled_ms(r) for r in rows) == pytest.approx(profile.median_ms)
    assert profile.overhead == pytest.approx(profile.kernel_ms / profile.median_ms)
    text = profile.overhead_text()
    assert f"{profile.median_ms:.2f} ms" in text and f"{profile.kernel_ms:.2f} ms" in text
    compress = by["1x1 GConv, compress (+BN, ReLU)"]
    assert profile.rate(compress) == pytest.approx(compress.macs / (profile.scaled_ms(compress) / 1e3))
    assert profile.rate(by["Channel shuffle (Reshape, Transpose)"]) is None
    # the weights each group reads: the depthwise layers' are 9 per channel, far fewer than the 1x1 layers'
    assert 0 < by["3x3 depthwise conv (+BN)"].weights < compress.weights


def test_ort_profile_of_a_non_shufflenet_by_conv_kind():
    from explorer.latency.kernel_profile import profile_ort

    profile = profile_ort(MobileNetConfig(width=0.25, input_size=(64, 64)), threads=1, runs=2)
    kinds = {r.category for r in profile.rows}
    assert "3x3 depthwise conv" in kinds and "1x1 conv" in kinds
