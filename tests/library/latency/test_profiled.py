"""The runtimes' per-layer profiles as kernel kinds: the names, and real networks profiled here."""

from __future__ import annotations

import pytest
import torch

from explorer.latency.predictor import decompose
from explorer.latency.predictor.fit import fit_in_network
from explorer.latency.predictor.layout import run_kernels
from explorer.latency.predictor.networks import NetworkSample, time_networks
from explorer.latency.predictor.profiled import _attributed, kind_of, ort_kind
from explorer.latency.timing import time_function
from explorer.shufflenet import MobileNetConfig, ShuffleNetConfig

OVERHEAD = 0.02


@pytest.mark.parametrize(
    ("layer", "weights", "kind"),
    [
        ("Convolution", (24, 3, 3, 3), "conv"),
        ("Convolution", (240, 24, 1, 1), "pointwise"),
        ("GroupConvolution", (3, 80, 80, 1, 1), "pointwise"),
        ("GroupConvolution", (60, 1, 1, 3, 3), "depthwise"),
        ("GroupConvolution", (2, 128, 48, 5, 5), "conv"),  # AlexNet's grouped 5x5
        ("ShuffleChannels", None, "shuffle"),
        ("ReduceMean", None, "globalpool"),
        ("FullyConnected", None, "fc"),
        ("Reorder", None, None),
        ("Subgraph", None, None),
        ("Convolution", None, None),
    ],
)
def test_layers_are_named_as_the_kernels_name_them(layer, weights, kind):
    assert kind_of(layer, weights) == kind


@pytest.mark.parametrize(
    ("op", "weights", "kind"),
    [
        ("Conv", [24, 3, 3, 3], "conv"),
        ("FusedConv", [80, 80, 1, 1], "pointwise"),
        ("Conv", [60, 1, 3, 3], "depthwise"),
        ("Conv", [256, 48, 5, 5], "conv"),  # AlexNet's grouped 5x5
        ("Transpose", None, "shuffle"),
        ("ReduceMean", None, "globalpool"),
        ("Gemm", None, "fc"),
        ("ReorderInput", None, "reorder_in"),
        ("ReorderOutput", None, "reorder_out"),
        ("Add", None, "add"),
        ("Flatten", None, None),
        ("Relu", None, None),
    ],
)
def test_onnx_runtime_nodes_are_named_as_the_kernels_name_them(op, weights, kind):
    assert ort_kind(op, weights) == kind


def _node(op: str, ms: float, weights: list[int] | None = None) -> dict:
    inputs = [{"float": [1, 16, 8, 8]}] + ([{"float": weights}] if weights else [])
    return {"dur": ms * 1e3, "args": {"op_name": op, "input_type_shape": inputs}}


def test_onnx_runtime_nodes_without_a_kind_go_to_the_node_before():
    nodes = [
        _node("Conv", 0.5, [16, 1, 3, 3]),
        _node("ReorderOutput", 0.1),
        _node("Reshape", 0.01),
        _node("Transpose", 0.2),
        _node("Reshape", 0.01),
        _node("ReorderInput", 0.3),
        _node("Conv", 0.4, [32, 16, 1, 1]),
        _node("Add", 0.05),
        _node("Relu", 0.03),
    ]
    layers = _attributed(nodes)  # every node less what a Reshape, which does no work, took: the profiler's cost
    kinds = ["depthwise", "reorder_out"] + ["shuffle"] * 3 + ["reorder_in", "pointwise", "add", "add"]
    assert [kind for kind, _ in layers] == kinds  # the Relu after the unfused add goes with it
    assert [ms for _, ms in layers] == pytest.approx([0.49, 0.09, 0.0, 0.19, 0.0, 0.29, 0.39, 0.04, 0.02])


def _timed(run, cancel, min_time, threads):
    return time_function(run, min_time=min_time, threads=threads)


@pytest.fixture(scope="module", params=["openvino", "ort"])
def profiled(request, tmp_path_factory) -> tuple[str, list[NetworkSample]]:
    if request.param == "openvino":
        pytest.importorskip("openvino")
    configs = [
        ShuffleNetConfig(3, 0.5, input_size=(96, 96)),
        ShuffleNetConfig(4, 0.25, shuffle=False, input_size=(160, 192)),
    ]
    with torch.no_grad():
        return request.param, list(time_networks(configs, request.param, 2, str(tmp_path_factory.mktemp("n")), _timed))


def test_networks_carry_their_kinds_in_network_times(profiled):
    backend, profiled = profiled
    for sample in profiled:
        fused = {"add"} if backend == "openvino" else set()
        kinds = {k.kind for k in run_kernels(sample.config, backend, 2)} - fused
        assert set(sample.kind_ms) == kinds, sample.config.label  # ONNX Runtime: its reorders, and adds unfused
        assert all(ms > 0 for ms in sample.kind_ms.values())
        assert sum(sample.kind_ms.values()) < 4 * sample.median_ms  # the layers add up to about the run, or more
    assert "shuffle" in profiled[0].kind_ms and "shuffle" not in profiled[1].kind_ms
    assert NetworkSample.from_dict(profiled[0].to_dict()) == profiled[0]  # kind_ms included


def test_kinds_fitted_on_networks_reproduce_their_times():
    """Synthetic in-network times with a known per-kind answer: the row fit recovers them."""
    configs = [ShuffleNetConfig(g, w, input_size=(s, s)) for g in (1, 3, 8) for w in (0.5, 1.0, 1.5) for s in (96, 224)]
    configs.append(MobileNetConfig(0.5))
    from explorer.latency.predictor.fit import features

    def truth(kind, kernels):
        return sum(1e-3 + 2e-9 * features(k)[1] for k in kernels if k.kind == kind)

    def sample(config, inflated: float) -> NetworkSample:
        kinds = {kind: truth(kind, decompose(config)) for kind in {k.kind for k in decompose(config)}}
        total = sum(kinds.values())  # a profiled run adds up to more than the timed run: the shares count
        return NetworkSample(config, OVERHEAD + total, 0.0, {kind: ms * inflated for kind, ms in kinds.items()})

    samples = [sample(c, 1 + 0.05 * (i % 4)) for i, c in enumerate(configs)]
    fits = fit_in_network(samples, OVERHEAD, "openvino", 2)
    assert {"conv", "pointwise", "depthwise", "maxpool"} <= set(fits)
    assert "shuffle" in fits  # 12 of the 19 networks shuffle
    for sample in samples:
        for kind, fit in fits.items():
            kernels = [k for k in decompose(sample.config) if k.kind == kind]
            if kernels:
                truth_ms = sample.kind_ms[kind] * (sample.median_ms - OVERHEAD) / sum(sample.kind_ms.values())
                assert sum(fit.ms(k) for k in kernels) == pytest.approx(truth_ms, rel=1e-3), kind
