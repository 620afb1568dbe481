"""Whole networks in a calibration: the sampled set, the in-network correction and its cross-validated error.

Synthetic networks with a known cost (``test_predictor.true_ms`` per kernel, and for the correction
``scale`` x that plus a fixed cost per kernel): the fits must find it, and the cross-validated error
must say how far off a prediction is when the networks disagree with it. One real export, timing
and profile of a tiny network.
"""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest
from test_predictor import OVERHEAD, synthetic_calibration, synthetic_network, true_ms

from explorer.latency.predictor import (
    Calibration,
    Kernel,
    NetworkSample,
    Predictor,
    cross_validated,
    decompose,
    fit_correction,
    sampled_networks,
    total_macs,
)
from explorer.latency.predictor.correction import IDENTITY, unaligned
from explorer.latency.predictor.kernels import cached_kernels
from explorer.latency.predictor.labels import drift_text, error_text
from explorer.latency.predictor.networks import MAX_NETWORK_MACS, MIN_CLEAN, REFERENCES, clean, slow, time_networks
from explorer.latency.timing import Cancelled
from explorer.shufflenet import ShuffleNetConfig

SCALE, PER_KERNEL_MS = 1.3, 0.01


def fitted(kernel: Kernel) -> float:
    """The kinds' regressors as the synthetic networks have them (the residual add fused: 0)."""
    return 0.0 if kernel.kind == "add" else true_ms(kernel)


def corrected_ms(config, unaligned_scale: float = 0.0) -> float:
    """A run that costs ``SCALE`` x its kernels (more outside the blocked layout) plus ``PER_KERNEL_MS`` each."""
    kernels = [(k, fitted(k)) for k in cached_kernels(config)]
    return OVERHEAD + sum((SCALE + unaligned_scale * unaligned(k)) * ms + PER_KERNEL_MS for k, ms in kernels if ms > 0)


def runs(times: dict) -> tuple[NetworkSample, ...]:
    return tuple(NetworkSample(config, ms, 0.0) for config, ms in times.items())


def test_sampled_networks_span_the_space_deterministically():
    networks = sampled_networks()
    assert networks == sampled_networks() and networks[: len(REFERENCES)] == list(REFERENCES)
    shufflenets = networks[len(REFERENCES) :]
    assert all(total_macs(decompose(c)) <= MAX_NETWORK_MACS for c in shufflenets)
    assert {c.variant for c in shufflenets} == {"standard", "arch2", "shallow"}
    assert min(c.groups for c in shufflenets) <= 2 and max(c.groups for c in shufflenets) >= 32
    assert min(c.width for c in shufflenets) < 0.2 and max(c.width for c in shufflenets) > 2.5
    pixels = [c.input_size[0] * c.input_size[1] for c in shufflenets]
    assert min(pixels) < 100 * 100 and max(pixels) > 480 * 640
    assert any(not c.shuffle for c in shufflenets)
    at_the_papers_size = [c.width for c in shufflenets if c.input_size == (224, 224)]  # weight-heavy when wide
    assert len(at_the_papers_size) >= 12 and min(at_the_papers_size) < 1.5 and max(at_the_papers_size) > 3.0


def test_correction_recovers_a_known_in_network_cost():
    configs = sampled_networks(20)
    networks = runs({c: corrected_ms(c) for c in configs})
    correction = fit_correction(networks, OVERHEAD, fitted, cached_kernels)
    assert correction.scale == pytest.approx(SCALE, rel=1e-3)
    assert correction.per_kernel_ms == pytest.approx(PER_KERNEL_MS, rel=1e-2)
    unseen = ShuffleNetConfig(5, 1.7, "arch2", input_size=(300, 500))
    kernels = cached_kernels(unseen)
    predicted = OVERHEAD + sum(correction.kernel_ms(fitted(k), k) for k in kernels if fitted(k) > 0)
    assert predicted == pytest.approx(corrected_ms(unseen), rel=1e-3)


def test_correction_recovers_what_running_outside_the_blocked_layout_costs():
    configs = sampled_networks(30)
    networks = runs({c: corrected_ms(c, unaligned_scale=0.4) for c in configs})
    correction = fit_correction(networks, OVERHEAD, fitted, cached_kernels)
    assert correction.unaligned_scale == pytest.approx(0.4, rel=1e-2)
    assert correction.scale == pytest.approx(SCALE, rel=1e-2)
    assert not unaligned(Kernel("pointwise", "expand", 480, 480, (14, 14), groups=3))  # 160 channels a group
    assert unaligned(Kernel("pointwise", "expand", 492, 492, (14, 14), groups=3))  # 164: off the SIMD block


def test_predictor_on_exact_networks_is_exact_when_cross_validated():
    predictor = Predictor(synthetic_calibration())
    unseen = ShuffleNetConfig(5, 1.7, "arch2", input_size=(300, 500))
    prediction = predictor.predict(unseen)
    assert sum(layer.ms for layer in prediction.layers) + prediction.overhead_ms == pytest.approx(
        prediction.predicted_ms
    )
    error = predictor.expected_error
    assert error["method"] == "cross-validated" and error["configs"] == len(predictor.calibration.networks)
    assert error["median_abs_error"] < 1e-3 and error["within_10_percent"] == 1.0


def test_networks_timed_on_shared_threads_are_left_out_of_the_fit():
    exact = synthetic_calibration()

    def slowed(network: NetworkSample) -> NetworkSample:
        kinds = {kind: 1.5 * ms for kind, ms in network.kind_ms.items()}
        return dataclasses.replace(network, median_ms=OVERHEAD + sum(kinds.values()), kind_ms=kinds, shared=True)

    networks = tuple(
        # the references are fitted on however they were timed (the last test)
        slowed(n) if i % 4 == 0 and n.config not in REFERENCES else n
        for i, n in enumerate(exact.networks)
    )
    predictor = Predictor(dataclasses.replace(exact, networks=networks))
    config = ShuffleNetConfig(3, 1.0)
    assert predictor.predict_ms(config) == pytest.approx(Predictor(exact).predict_ms(config), rel=1e-3)
    assert predictor.expected_error["configs"] == sum(not n.shared for n in networks)
    few = tuple(dataclasses.replace(n, shared=True) for n in networks)  # too few clean ones: all are fitted on
    assert Predictor(dataclasses.replace(exact, networks=few)).expected_error["configs"] == len(few)


def test_cross_validated_error_grows_with_disagreeing_networks():
    exact = synthetic_calibration()

    def scaled(network: NetworkSample, factor: float) -> NetworkSample:
        kinds = {kind: factor * ms for kind, ms in network.kind_ms.items()}
        return dataclasses.replace(network, median_ms=OVERHEAD + sum(kinds.values()), kind_ms=kinds)

    networks = tuple(scaled(n, 1.3 if i % 2 else 0.7) for i, n in enumerate(exact.networks))
    predictor = Predictor(dataclasses.replace(exact, networks=networks))
    error = cross_validated(networks, OVERHEAD, cached_kernels, predictor._refit)
    assert error == predictor.expected_error
    assert error["median_abs_error"] > 0.15 and error["within_10_percent"] < 0.5
    text = error_text(error)
    assert "cross-validated" in text and f"{len(networks)} networks" in text and "within ±10%" in text


def test_without_networks_nothing_is_fitted_or_claimed():
    empty = dataclasses.replace(synthetic_calibration(), networks=())
    predictor = Predictor(empty)
    assert predictor.correction == IDENTITY == fit_correction((), 0.0, fitted, cached_kernels)
    assert predictor.fits == {} and predictor.expected_error is None
    with pytest.raises(ValueError, match="fitted no conv kernels"):
        predictor.predict(ShuffleNetConfig(3, 1.0))


def test_held_out_error_from_the_benchmark_wins_over_cross_validation():
    held_out = {"configs": 40, "within_10_percent": 0.9, "median_abs_error": 0.04}
    kept = Predictor(dataclasses.replace(synthetic_calibration(), extra={"held_out": held_out}))
    assert kept.expected_error == held_out


def test_networks_round_trip_through_json():
    calibration = dataclasses.replace(
        synthetic_calibration(), networks=tuple(synthetic_network(c) for c in sampled_networks(4))
    )
    again = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert again.networks == calibration.networks
    assert [n.kind_ms for n in again.networks] == [n.kind_ms for n in calibration.networks]
    with pytest.raises(ValueError):  # an older calibration is not read as this one
        Calibration.from_dict({**calibration.to_dict(), "format": 3})


def test_a_real_network_is_exported_timed_and_profiled(tmp_path):
    from explorer.latency.predictor.calibration import _time

    configs = [ShuffleNetConfig(2, 0.25, input_size=(64, 64))]
    done: list = []
    samples = time_networks(configs, "ort", 1, str(tmp_path), _time, None, lambda n, c: done.append((n, c)))
    assert samples[0].config == configs[0] and samples[0].median_ms > 0 and done == [(1, configs[0])]
    assert {"conv", "pointwise", "depthwise", "shuffle"} <= set(samples[0].kind_ms)
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        time_networks(configs, "ort", 1, str(tmp_path), _time, cancel)


def test_networks_timed_while_the_machine_ran_slow_are_left_out_of_the_fits():
    from explorer.latency.quiet import SLOW_LEVEL

    networks = [synthetic_network(c) for c in sampled_networks(MIN_CLEAN + 10)]
    levels = [1.0] * (MIN_CLEAN + 4) + [1.3] * 6  # the probe ran 30% slower after the last six
    probed = [dataclasses.replace(n, probe_ms=level) for n, level in zip(networks, levels)]
    assert slow(probed) == [level > SLOW_LEVEL for level in levels]
    assert clean(probed) == probed[: MIN_CLEAN + 4]
    assert clean(networks) == networks and not any(slow(networks))  # not probed: nothing to compare
    assert clean(probed[MIN_CLEAN - 2 :]) == probed[MIN_CLEAN - 2 :]  # too few left: all kept
    assert NetworkSample.from_dict(probed[0].to_dict()) == probed[0]


def test_the_reference_networks_are_fitted_on_however_they_were_timed():
    """AlexNet and MobileNet are the only large dense convolutions and classifiers a calibration samples: left out,
    those regressors would extrapolate from ShuffleNet's conv1 and FC."""

    networks = [synthetic_network(c) for c in sampled_networks(MIN_CLEAN + 10)]
    levels = [1.3 if n.config in REFERENCES else 1.0 for n in networks]  # every reference timed while slow
    probed = [dataclasses.replace(n, probe_ms=level, shared=level > 1) for n, level in zip(networks, levels)]
    assert {n.config for n in clean(probed)} >= set(REFERENCES)
    shuffled = dataclasses.replace(probed[-1], probe_ms=1.3)  # a ShuffleNet timed slow is still left out
    assert shuffled not in clean([*probed[:-1], shuffled])


def test_predictions_off_the_measurements_alike_are_read_as_the_machine_s_speed():
    slower_then = drift_text("openvino", [1.4, 1.5, 1.6, 0.9])
    assert "OpenVINO FP32's predictions run 45% above its 4 measurements" in slower_then
    assert "ran slower when it was calibrated" in slower_then
    assert drift_text("ort", [1.5, 1.5]) == ""  # too few to tell the machine from the configs
    assert drift_text("ort", [1.1, 0.9, 1.14, 0.88]) == ""  # within a machine's own swings (quiet.SLOW_LEVEL)
