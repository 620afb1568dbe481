"""``layout.blocked`` against the graph ONNX Runtime really optimises: which kernels it runs in NCHWc."""

from __future__ import annotations

import numpy as np
import pytest

from explorer.latency.predictor.kernels import Kernel
from explorer.latency.predictor.layout import channel_block, padded

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
