"""The latency predictor without timing anything: decomposition, fit on synthetic timings, flags, round trip."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from explorer.latency.predictor import (
    Calibration,
    Kernel,
    Predictor,
    Sample,
    conv_macs,
    decompose,
    fit_kind,
    nnls,
    sampled_kernels,
    total_macs,
)
from explorer.latency.predictor.fit import FEATURES, features
from explorer.latency.predictor.kernels import LAYER_COMPRESS, LAYER_EXPAND, LAYER_OTHER, LAYER_SHUFFLE
from explorer.shufflenet import AlexNetConfig, MobileNetConfig, ShuffleNetConfig, plan_conv_macs

CONFIGS = [
    ShuffleNetConfig(3, 1.0),
    ShuffleNetConfig(8, 0.5, "arch2", input_size=(480, 640)),
    ShuffleNetConfig(64, 0.1, "shallow", False, (32, 32)),
    ShuffleNetConfig(5, 3.7, "standard", input_size=(100, 77)),
    ShuffleNetConfig(1, 4.0, "arch2", input_size=(720, 1280)),
    ShuffleNetConfig(17, 0.33, "shallow", input_size=(333, 250)),
]

# A known answer: per kind, coefficients (ms per unit of each feature) the synthetic timings follow.
TRUE = {
    kind: np.array([0.004] + [3e-8 if "macs" in n else 2e-7 if "bytes" in n else 1e-5 for n in names[1:]])
    for kind, (names, _) in FEATURES.items()
}
OVERHEAD, KERNEL_OVERHEAD = 0.05, 0.003


def synthetic_calibration(noise: float = 0.0, seed: int = 0, backend: str = "openvino") -> Calibration:
    generator = np.random.default_rng(seed)
    samples = []
    for kernel in sampled_kernels(0.5):
        ms = float(TRUE[kernel.kind] @ np.array(features(kernel)))
        ms *= float(np.exp(generator.normal(0, noise))) if noise else 1.0
        samples.append(Sample(kernel, ms + KERNEL_OVERHEAD, 0.0))
    return Calibration(
        backend, 2, "test machine", {"openvino": "0"}, OVERHEAD, KERNEL_OVERHEAD, tuple(samples), 1.0, 0.0
    )


@pytest.fixture(scope="module")
def predictor() -> Predictor:
    return Predictor(synthetic_calibration())


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: c.label)
def test_decomposition_conv_macs_match_the_closed_form(config):
    kernels = decompose(config)
    assert conv_macs(kernels) == plan_conv_macs(config.plan(), config.input_size)
    fc = config.plan().stage_channels[-1] * config.num_classes
    assert total_macs(kernels) == conv_macs(kernels) + fc


def test_decomposition_matches_the_counted_models():
    from explorer.counting import complexity

    for config in (AlexNetConfig(), MobileNetConfig(0.5, (160, 200)), ShuffleNetConfig(8, 0.5, "arch2")):
        counted = complexity(config)
        kernels = decompose(config)
        assert total_macs(kernels) == counted.macs_with_fc.value
        assert conv_macs(kernels) == counted.conv_macs.value


def test_decomposition_names_the_unit_parts():
    kernels = decompose(ShuffleNetConfig(3, 1.0))
    layers = {k.layer for k in kernels}
    assert {LAYER_COMPRESS, LAYER_SHUFFLE, LAYER_EXPAND, LAYER_OTHER} <= layers
    assert not any(k.kind == "shuffle" for k in decompose(ShuffleNetConfig(3, 1.0, shuffle=False)))
    assert sum(k.kind == "add" for k in kernels) == 16 - 3 and sum(k.kind == "concat" for k in kernels) == 3


def test_nnls_recovers_non_negative_answer():
    generator = np.random.default_rng(1)
    a = generator.uniform(0, 1, (40, 4))
    x = np.array([0.5, 0.0, 2.0, 1.0])
    assert np.allclose(nnls(a, a @ x), x, atol=1e-8)
    assert (nnls(a, -a @ x) >= 0).all()


def test_fit_recovers_the_known_answer(predictor):
    """Coefficients of collinear features (a pool's input and output bytes) are not identifiable; times are."""
    for kind, fit in predictor.fits.items():
        assert fit.p90_error < 1e-6, kind
    for kernel in sampled_kernels(1.0, predictor.fused):  # twice as many shapes as were fitted: nearly collinear
        truth = float(TRUE[kernel.kind] @ np.array(features(kernel)))  # features (a pool's input and output bytes)
        assert predictor.kernel_ms(kernel) == pytest.approx(truth, rel=0.02), kernel  # leave a little slack
    pointwise = predictor.fits["pointwise"]
    assert np.allclose(pointwise.coefficients, TRUE["pointwise"], rtol=1e-3, atol=1e-12)
    config = ShuffleNetConfig(3, 1.0)
    kernels = [k for k in decompose(config) if k.kind not in predictor.fused]
    assert predictor.fused == {"add"} and len(kernels) < len(decompose(config))  # OpenVINO fuses the residual add
    expected = OVERHEAD + sum(float(TRUE[k.kind] @ np.array(features(k))) for k in kernels)
    assert predictor.predict_ms(config) == pytest.approx(expected, rel=1e-6)


def test_fit_on_noisy_timings_stays_close():
    noisy = Predictor(synthetic_calibration(noise=0.05, seed=3))
    exact = Predictor(synthetic_calibration())
    for config in CONFIGS[:3]:
        assert noisy.predict_ms(config) == pytest.approx(exact.predict_ms(config), rel=0.1)


def test_fit_kind_prices_groups_at_equal_macs():
    """G2: at equal multiply-adds, more groups move more bytes and the fit says it takes longer."""
    dense = Kernel("pointwise", LAYER_COMPRESS, 128, 128, (28, 28), groups=1)
    grouped = Kernel("pointwise", LAYER_COMPRESS, 512, 512, (28, 28), groups=16)
    assert dense.macs == grouped.macs and grouped.activation_bytes > dense.activation_bytes
    kernels = sampled_kernels(0.5)
    pointwise = [k for k in kernels if k.kind == "pointwise"]
    fit = fit_kind("pointwise", pointwise, [float(TRUE["pointwise"] @ np.array(features(k))) for k in pointwise])
    assert fit.ms(grouped) > fit.ms(dense)


def test_prediction_per_layer_type_adds_up(predictor):
    prediction = predictor.predict(ShuffleNetConfig(8, 0.5, "arch2"))
    assert sum(layer.ms for layer in prediction.layers) + prediction.overhead_ms == pytest.approx(
        prediction.predicted_ms
    )
    assert sum(layer.share for layer in prediction.layers) == pytest.approx(
        1 - prediction.overhead_ms / prediction.predicted_ms
    )
    assert not prediction.extrapolated
    assert json.loads(json.dumps(prediction.to_dict()))["predicted_ms"] == prediction.predicted_ms


def test_extrapolation_is_flagged(predictor):
    big = predictor.predict(ShuffleNetConfig(3, 1.0, input_size=(4096, 4096)))
    assert big.extrapolated and any("outside the sampled" in reason for reason in big.extrapolation)
    assert not predictor.predict(ShuffleNetConfig(3, 1.0, input_size=(480, 640))).extrapolated


@pytest.mark.parametrize("groups", [1, 3, 8, 64])
def test_prediction_is_monotone_in_width(predictor, groups):
    widths = np.linspace(0.1, 4.0, 40)
    times = [predictor.predict_ms(ShuffleNetConfig(groups, float(w))) for w in widths]
    assert all(b >= a for a, b in itertools.pairwise(times))


def test_calibration_round_trips_through_json(predictor):
    calibration = predictor.calibration
    values = json.loads(json.dumps(calibration.to_dict()))
    again = Calibration.from_dict(values)
    assert again == calibration
    assert Predictor(again).predict_ms(ShuffleNetConfig(2, 1.5)) == predictor.predict_ms(ShuffleNetConfig(2, 1.5))
    with pytest.raises(ValueError):
        Calibration.from_dict({**values, "format": 0})
    with pytest.raises(ValueError):
        Calibration.from_dict({key: value for key, value in values.items() if key != "samples"})


def test_reference_models_predict(predictor):
    for config in (AlexNetConfig(), MobileNetConfig(1.0)):
        prediction = predictor.predict(config)
        assert prediction.predicted_ms > 0 and not prediction.extrapolated


def _fake_timing(monkeypatch) -> list:
    from explorer.latency.predictor import calibration as module

    timed: list = []
    monkeypatch.setattr(module, "_overheads", lambda backend, directory, threads, cancel, timer: (0.01, 0.005))

    def measure(backend, kernel, directory, index, threads, cancel, min_time, timer):
        timed.append(kernel)
        return Sample(kernel, 0.1 + index * 1e-3, 0.0)

    monkeypatch.setattr(module, "_measure", measure)
    return timed


def test_calibrate_reports_progress_and_returns_a_complete_calibration(monkeypatch):
    from explorer.latency.predictor import calibrate

    timed = _fake_timing(monkeypatch)
    seen: list = []
    calibration = calibrate(
        "ort",
        2,
        progress=lambda done, total, text: seen.append((done, total)),
        scale=0.3,
        machine="test machine",
        versions={"onnxruntime": "0"},
        networks=[],
    )
    assert len(calibration.samples) == len(timed) == len(seen) and seen[-1] == (len(timed), len(timed))
    assert calibration.overhead_ms == 0.01 and calibration.kernel_overhead_ms == 0.005
    assert set(calibration.kinds()) == {k.kind for k in timed}
    assert "add" not in calibration.kinds()  # ONNX Runtime fuses it: not timed
    assert calibration.networks == ()
    assert calibrate("openvino", 2, scale=0.1, machine="m", versions={}, networks=[]).kinds() == ()  # profiled only


def test_calibrate_cancelled_returns_nothing(monkeypatch):
    import threading

    from explorer.latency.predictor import calibrate
    from explorer.latency.timing import Cancelled

    timed = _fake_timing(monkeypatch)
    cancel = threading.Event()

    def stop_at_three(done: int, total: int, text: str) -> None:
        if done == 3:
            cancel.set()

    with pytest.raises(Cancelled):
        calibrate("ort", 2, progress=stop_at_three, cancel=cancel, machine="m", versions={}, networks=[])
    assert len(timed) == 3
    with pytest.raises(ValueError, match="backend"):
        calibrate("torch", 2, machine="m", versions={})


def test_pace_shrinks_the_timed_part_to_fit_the_budget():
    from explorer.latency.predictor.calibration import MIN_KERNEL_TIME, _Pace

    assert _Pace(1000.0, 10, 0.08).next_min_time(0) == 0.08
    assert _Pace(1.0, 100, 0.08).next_min_time(0) == MIN_KERNEL_TIME


def test_prediction_carries_the_held_out_error_when_measured(predictor):
    import dataclasses

    assert predictor.predict(ShuffleNetConfig()).expected_error is None
    held_out = {"configs": 40, "within_10_percent": 0.9, "median_abs_error": 0.04}
    measured = Predictor(dataclasses.replace(predictor.calibration, extra={"held_out": held_out}))
    assert measured.predict(ShuffleNetConfig()).to_dict()["expected_error"] == held_out


def test_a_calibration_with_many_noisy_kernels_is_flagged(predictor):
    import dataclasses

    calibration = predictor.calibration
    assert not calibration.noisy
    assert dataclasses.replace(calibration, noisy_samples=len(calibration.samples) // 2).noisy


@pytest.mark.parametrize("backend", ["ort", "openvino"])
def test_both_runtimes_fuse_the_residual_add(backend):
    predictor = Predictor(synthetic_calibration(backend=backend))
    adds = [k for k in decompose(ShuffleNetConfig(3, 1.0)) if k.kind == "add"]
    assert adds and all(predictor.fits["add"].ms(k) > 0 for k in adds)  # timed alone, an add costs
    assert all(predictor.kernel_ms(k) == 0 for k in adds)  # in the network it is the expand convolution's
