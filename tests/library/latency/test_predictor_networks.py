"""Whole networks in a calibration: the sampled set, the in-network correction and its cross-validated error.

Synthetic networks with a known in-network cost (``scale`` x the isolated kernels plus a fixed cost
per kernel): the correction must find it, and its leave-one-out error must say how far off a
prediction is when the networks disagree with it. One real export and timing of a tiny network.
"""

from __future__ import annotations

import dataclasses
import json
import threading

import pytest

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
from explorer.latency.predictor.kernels import cached_kernels
from explorer.latency.predictor.labels import error_text
from explorer.latency.predictor.networks import MAX_NETWORK_MACS, REFERENCES, time_networks
from explorer.latency.timing import Cancelled
from explorer.shufflenet import ShuffleNetConfig

SCALE, PER_KERNEL_MS = 1.3, 0.01


def in_network_ms(predictor: Predictor, config, scale: float = SCALE, per_kernel: float = PER_KERNEL_MS) -> float:
    isolated = [predictor.fitted_ms(k) for k in cached_kernels(config)]
    return predictor.calibration.overhead_ms + sum(scale * ms + per_kernel for ms in isolated if ms > 0)


@pytest.fixture(scope="module")
def isolated():
    from test_predictor import synthetic_calibration

    return Predictor(synthetic_calibration())


def with_networks(predictor: Predictor, times: dict) -> Calibration:
    samples = tuple(NetworkSample(config, ms, 0.0) for config, ms in times.items())
    return dataclasses.replace(predictor.calibration, networks=samples)


def test_sampled_networks_span_the_space_deterministically():
    networks = sampled_networks()
    assert networks == sampled_networks() and networks[-len(REFERENCES) :] == list(REFERENCES)
    shufflenets = networks[: -len(REFERENCES)]
    assert all(total_macs(decompose(c)) <= MAX_NETWORK_MACS for c in shufflenets)
    assert {c.variant for c in shufflenets} == {"standard", "arch2", "shallow"}
    assert min(c.groups for c in shufflenets) <= 2 and max(c.groups for c in shufflenets) >= 32
    assert min(c.width for c in shufflenets) < 0.2 and max(c.width for c in shufflenets) > 2.5
    pixels = [c.input_size[0] * c.input_size[1] for c in shufflenets]
    assert min(pixels) < 100 * 100 and max(pixels) > 480 * 640
    assert any(not c.shuffle for c in shufflenets)


def test_correction_recovers_a_known_in_network_cost(isolated):
    configs = sampled_networks(20)
    calibration = with_networks(isolated, {c: in_network_ms(isolated, c) for c in configs})
    predictor = Predictor(calibration)
    assert predictor.correction.scale == pytest.approx(SCALE, rel=1e-3)
    assert predictor.correction.per_kernel_ms == pytest.approx(PER_KERNEL_MS, rel=1e-2)
    unseen = ShuffleNetConfig(5, 1.7, "arch2", input_size=(300, 500))
    assert predictor.predict_ms(unseen) == pytest.approx(in_network_ms(isolated, unseen), rel=1e-3)
    prediction = predictor.predict(unseen)
    assert sum(layer.ms for layer in prediction.layers) + prediction.overhead_ms == pytest.approx(
        prediction.predicted_ms
    )
    error = predictor.expected_error
    assert error["method"] == "cross-validated" and error["configs"] == len(configs)
    assert error["median_abs_error"] < 1e-3 and error["within_10_percent"] == 1.0


def test_networks_timed_on_shared_threads_are_left_out_of_the_fit(isolated):
    configs = sampled_networks(30)
    clean = {c: in_network_ms(isolated, c) for c in configs}
    samples = tuple(
        NetworkSample(c, ms * (1.5 if i % 4 == 0 else 1.0), 0.0, shared=i % 4 == 0)
        for i, (c, ms) in enumerate(clean.items())
    )
    predictor = Predictor(dataclasses.replace(isolated.calibration, networks=samples))
    assert predictor.correction.scale == pytest.approx(SCALE, rel=1e-3)  # the slowed quarter did not pull it
    assert predictor.expected_error["configs"] == sum(not n.shared for n in samples)
    few = tuple(dataclasses.replace(n, shared=True) for n in samples)  # too few clean ones: all are fitted on
    assert Predictor(dataclasses.replace(isolated.calibration, networks=few)).expected_error["configs"] == len(few)


def test_cross_validated_error_grows_with_disagreeing_networks(isolated):
    configs = sampled_networks(20)
    times = {c: in_network_ms(isolated, c) * (1.3 if i % 2 else 0.7) for i, c in enumerate(configs)}
    error = cross_validated(
        with_networks(isolated, times).networks, isolated.calibration.overhead_ms, isolated.fitted_ms, cached_kernels
    )
    assert error["median_abs_error"] > 0.15 and error["within_10_percent"] < 0.5
    text = error_text(error)
    assert "cross-validated" in text and f"{len(configs)} networks" in text and "within ±10%" in text


def test_without_networks_nothing_is_corrected_or_claimed(isolated):
    assert isolated.correction == fit_correction((), 0.0, isolated.fitted_ms, cached_kernels)
    assert isolated.correction.scale == 1.0 and isolated.expected_error is None
    config = ShuffleNetConfig(3, 1.0)
    assert isolated.predict_ms(config) == pytest.approx(
        isolated.calibration.overhead_ms + sum(isolated.fitted_ms(k) for k in cached_kernels(config))
    )


def test_held_out_error_from_the_benchmark_wins_over_cross_validation(isolated):
    configs = sampled_networks(10)
    calibration = with_networks(isolated, {c: in_network_ms(isolated, c) for c in configs})
    held_out = {"configs": 40, "within_10_percent": 0.9, "median_abs_error": 0.04}
    kept = Predictor(dataclasses.replace(calibration, extra={"held_out": held_out}))
    assert kept.expected_error == held_out


def test_networks_round_trip_through_json(isolated):
    configs = sampled_networks(4)
    calibration = with_networks(isolated, {c: 1.0 + i for i, c in enumerate(configs)})
    again = Calibration.from_dict(json.loads(json.dumps(calibration.to_dict())))
    assert again.networks == calibration.networks
    old = {key: value for key, value in calibration.to_dict().items() if key != "networks"}
    with pytest.raises(ValueError):  # an older calibration without networks is not read as one with none
        Calibration.from_dict({**old, "format": 1})


def test_a_real_network_is_exported_and_timed(tmp_path):
    from explorer.latency.predictor.calibration import _time

    configs = [ShuffleNetConfig(2, 0.25, input_size=(64, 64))]
    done: list = []
    samples = time_networks(configs, "ort", 1, str(tmp_path), _time, None, lambda n, c: done.append((n, c)))
    assert samples[0].config == configs[0] and samples[0].median_ms > 0 and done == [(1, configs[0])]
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(Cancelled):
        time_networks(configs, "ort", 1, str(tmp_path), _time, cancel)


def test_correction_recovers_what_unaligned_channels_cost_in_a_network(isolated):
    from explorer.latency.predictor.correction import unaligned

    def in_network(config) -> float:
        kernels = [(k, isolated.fitted_ms(k)) for k in cached_kernels(config)]
        return isolated.calibration.overhead_ms + sum(
            (SCALE + 0.4 * unaligned(k)) * ms + PER_KERNEL_MS for k, ms in kernels if ms > 0
        )

    configs = sampled_networks(30)
    predictor = Predictor(with_networks(isolated, {c: in_network(c) for c in configs}))
    assert predictor.correction.unaligned_scale == pytest.approx(0.4, rel=1e-2)
    assert predictor.correction.scale == pytest.approx(SCALE, rel=1e-2)
    assert not unaligned(Kernel("pointwise", "expand", 480, 480, (14, 14), groups=3))  # 160 channels a group
    assert unaligned(Kernel("pointwise", "expand", 492, 492, (14, 14), groups=3))  # 164: off the SIMD block
    aligned, off_block = ShuffleNetConfig(3, 1.0), ShuffleNetConfig(3, 1.017)  # 480 stage-3 channels, then 492
    for config in (aligned, off_block):
        assert predictor.predict_ms(config) == pytest.approx(in_network(config), rel=1e-3)
