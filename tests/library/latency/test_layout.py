"""``layout`` against the graph ONNX Runtime really optimises: which kernels it runs in NCHWc, where it reorders."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from explorer.latency.predictor.kernels import Kernel, cached_kernels
from explorer.latency.predictor.layout import channel_block, padded
from explorer.shufflenet import AlexNetConfig, MobileNetConfig, ShuffleNetConfig

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _graph(kernel: Kernel):
    from onnx import TensorProto, helper, numpy_helper

    def constant(name: str, shape: tuple[int, ...]):
        return numpy_helper.from_array(np.full(shape, 0.01, dtype=np.float32), name)

    shape = [1, kernel.in_channels, *kernel.size]
    if kernel.kind == "globalpool":
        node, weights = helper.make_node("GlobalAveragePool", ["x"], ["y"]), []
    elif kernel.kind in ("maxpool", "avgpool"):
        op = "MaxPool" if kernel.kind == "maxpool" else "AveragePool"
        node, weights = helper.make_node(op, ["x"], ["y"], kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4), []
    else:
        per_group = kernel.in_channels // kernel.groups
        weights = [
            constant("w", (kernel.out_channels, per_group, kernel.kernel, kernel.kernel)),
            constant("b", (kernel.out_channels,)),
        ]
        pads = [kernel.kernel // 2] * 4
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"], group=kernel.groups, pads=pads)
    graph = helper.make_graph(
        [node],
        "kernel",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        weights,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def runs_blocked(kernel: Kernel, tmp_path) -> bool:
    """Whether ONNX Runtime's optimised graph runs ``kernel`` as an NCHWc node."""
    source, optimised = tmp_path / "kernel.onnx", tmp_path / "optimised.onnx"
    onnx.save(_graph(kernel), source)
    options = ort.SessionOptions()
    options.optimized_model_filepath = str(optimised)
    options.log_severity_level = 3
    ort.InferenceSession(str(source), options, providers=["CPUExecutionProvider"])
    return any(node.domain == "com.microsoft.nchwc" for node in onnx.load(optimised).graph.node)


def _kernels() -> list[Kernel]:
    kernels = []
    for channels in range(2, 70, 3):
        kernels.append(Kernel("depthwise", "d", channels, channels, (9, 9), 3, 1, 1, channels))
        kernels.append(Kernel("maxpool", "p", channels, channels, (9, 9), 3, 2, 1))
        kernels.append(Kernel("globalpool", "p", channels, channels, (9, 9)))
        kernels.append(Kernel("pointwise", "c", channels, 32, (9, 9)))
        kernels.append(Kernel("conv", "c", 3, channels, (9, 9), 3, 1, 1))
    for groups in (2, 3, 8):
        for per_group_in in (4, 12, 16, 32):
            for per_group_out in (8, 16, 24, 48):
                kernels.append(
                    Kernel("pointwise", "g", groups * per_group_in, groups * per_group_out, (9, 9), groups=groups)
                )
    return kernels


def test_blocked_is_what_onnx_runtime_runs_in_nchwc(tmp_path):
    from explorer.latency.predictor.layout import blocked

    disagree = [k for k in _kernels() if blocked(k) != runs_blocked(k, tmp_path)]
    assert not disagree, disagree[:5]


def test_padding_rounds_up_to_whole_blocks():
    block = channel_block()
    assert padded(1) == block and padded(block) == block and padded(block + 1) == 2 * block


NETWORKS = [
    ShuffleNetConfig(3, 1.0, input_size=(64, 64)),
    ShuffleNetConfig(1, 0.102, input_size=(96, 128)),  # g = 1: ONNX Runtime adds in NCHW
    ShuffleNetConfig(2, 1.288, shuffle=False, input_size=(96, 96)),  # blocked concats from stage 3
    ShuffleNetConfig(8, 0.226, "shallow", input_size=(96, 160)),
    ShuffleNetConfig(58, 0.617, "shallow", input_size=(64, 64)),  # the global pool over an NCHW input runs in NCHW
    ShuffleNetConfig(8, 2.0, "arch2", input_size=(64, 64)),
    AlexNetConfig(),
    MobileNetConfig(0.5, (64, 64)),
]
ORT_OPS = {"ReorderInput": "reorder_in", "ReorderOutput": "reorder_out", "Add": "add"}


def ran_by_onnx_runtime(config, tmp_path) -> Counter:
    """The reorders (direction, channels in and out, size) and unfused adds in one profiled run of ``config``."""
    from explorer.latency.export import INPUT_NAME, ort_session
    from explorer.latency.predictor import graphs
    from explorer.latency.predictor.networks import _export

    path = _export(config, str(tmp_path), 0)
    session = ort_session(path, 1, profile_prefix=str(tmp_path / "profile"))
    session.run(None, {INPUT_NAME: graphs.image((1, 3, *config.input_size))})
    with open(session.end_profiling(), encoding="utf-8") as handle:
        nodes = [e["args"] for e in json.load(handle) if e.get("cat") == "Node" and e["name"].endswith("_kernel_time")]
    found = Counter()
    for node in (n for n in nodes if n["op_name"] in ORT_OPS):
        (shape_in,), (shape_out,) = node["input_type_shape"][0].values(), node["output_type_shape"][0].values()
        found[(ORT_OPS[node["op_name"]], shape_in[1], shape_out[1], *shape_in[2:])] += 1
    return found


@pytest.mark.parametrize("config", NETWORKS, ids=lambda c: c.label)
def test_reorders_and_adds_are_where_onnx_runtime_runs_them(config, tmp_path):
    from explorer.latency.predictor.layout import run_kernels

    ours = Counter(
        (k.kind, k.in_channels, k.out_channels, *k.size)
        for k in run_kernels(config, "ort", 2)
        if k.kind in ORT_OPS.values()
    )
    assert ours == ran_by_onnx_runtime(config, tmp_path)
    assert run_kernels(config, "openvino", 2) == cached_kernels(config)  # OpenVINO: no reorders, every add fused


def test_a_grouped_1x1_in_nchw_runs_whole_groups_per_thread():
    from explorer.latency.predictor.layout import blocked, imbalance, run_kernels

    nchw = Kernel("pointwise", "1x1 GConv", 240, 60, (28, 28), groups=3)  # 80 -> 20 channels a group
    assert not blocked(nchw)
    assert imbalance(nchw, 2) == pytest.approx(4 / 3)  # two groups on one thread, one on the other
    assert imbalance(nchw, 4) == pytest.approx(4 / 3)  # three threads busy of four
    assert imbalance(nchw, 1) == 1.0
    assert [imbalance(Kernel("pointwise", "1x1 GConv", 32 * g, 32 * g, (28, 28), groups=g), 2) for g in (2, 3)] == [
        1.0,
        1.0,
    ]  # whole blocks a group: blocked, split finely
    assert imbalance(Kernel("pointwise", "1x1 GConv", 144, 36, (28, 28)), 2) == 1.0  # dense: the GEMM is split
    assert imbalance(Kernel("depthwise", "3x3 DWConv", 60, 60, (28, 28), 3, groups=60), 2) == 1.0
    ran = [k for k in run_kernels(ShuffleNetConfig(3, 1.0), "ort", 2) if k.kind == "pointwise" and k.groups == 3]
    nchw = [k.imbalance for k in ran if not blocked(k)]  # 1x g = 3: stages 2 and 3 in NCHW, stage 4 blocked
    assert len(nchw) == 7 + 16 and nchw == pytest.approx([4 / 3] * 23)  # stage 2 starts with a dense 1x1
    assert all(k.imbalance == 1.0 for k in ran if blocked(k))
