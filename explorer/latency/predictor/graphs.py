"""One tiny ONNX graph per kernel, and a timer for it on ONNX Runtime or OpenVINO FP32.

The calibration times each sampled kernel as the runtime runs it inside a network: a
graph with one input named ``image`` (``explorer.latency.export.INPUT_NAME``) and the
kernel's ONNX operators, written with ``onnx.helper`` (no PyTorch export: building a
graph takes milliseconds). BatchNorm is already folded (the runtimes fold it in the
network too), so a convolution is ``Conv`` with a bias, followed by ``Relu`` where the
network has one: both runtimes fuse the pair, as they do in the network. A second
operand (the concat's branch, the add's residual) is a constant of the right shape, so
every graph has exactly one input and OpenVINO's ``compile_onnx`` (static shape, FP32
precision set explicitly, the runner's threads) compiles it unchanged.

``overhead_graph`` is the "empty-ish" graph (a ReLU over 8 values): what one run costs
before any kernel does work.

Timers: ONNX Runtime runs kernel graphs through an IO binding with a preallocated
output (inside a network, intermediate tensors come from the arena; allocating a large
output per run would bill the kernel for it) and the overhead graph both ways: bound
(subtracted from each kernel) and with ``session.run`` (what a network's run pays, as
``LatencyRunner`` calls it). OpenVINO's infer request reuses its output tensor.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..export import INPUT_NAME, OPSET
from .kernels import Kernel

OUTPUT = "out"


def _tensor(name: str, shape: tuple[int, ...], fill: float = 0.01):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.full(shape, fill, dtype=np.float32), name)


def _shape_tensor(name: str, shape: tuple[int, ...]):
    from onnx import numpy_helper

    return numpy_helper.from_array(np.array(shape, dtype=np.int64), name)


def input_shape(kernel: Kernel) -> tuple[int, ...]:
    """The graph's input: NCHW with batch 1, or (1, features) for the FC."""
    if kernel.kind == "fc":
        return (1, kernel.in_channels)
    return (1, kernel.in_channels, *kernel.size)


def _conv_nodes(k: Kernel) -> tuple[list, list]:
    from onnx import helper

    weight = _tensor("w", (k.out_channels, k.in_channels // k.groups, k.kernel, k.kernel))
    bias = _tensor("b", (k.out_channels,))
    pads = [k.padding] * 4
    conv_out = "conv" if k.relu else OUTPUT
    nodes = [
        helper.make_node(
            "Conv",
            [INPUT_NAME, "w", "b"],
            [conv_out],
            kernel_shape=[k.kernel, k.kernel],
            strides=[k.stride, k.stride],
            pads=pads,
            group=k.groups,
        )
    ]
    if k.relu:
        nodes.append(helper.make_node("Relu", [conv_out], [OUTPUT]))
    return nodes, [weight, bias]


def _shuffle_nodes(k: Kernel) -> tuple[list, list]:
    from onnx import helper

    (h, w), c, g = k.size, k.in_channels, k.groups
    nodes = [
        helper.make_node("Reshape", [INPUT_NAME, "split"], ["grouped"]),
        helper.make_node("Transpose", ["grouped"], ["swapped"], perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["swapped", "merged"], [OUTPUT]),
    ]
    return nodes, [_shape_tensor("split", (1, g, c // g, h, w)), _shape_tensor("merged", (1, c, h, w))]


def _pool_nodes(k: Kernel) -> tuple[list, list]:
    from onnx import helper

    if k.kind == "globalpool":
        return [helper.make_node("GlobalAveragePool", [INPUT_NAME], [OUTPUT])], []
    op = "MaxPool" if k.kind == "maxpool" else "AveragePool"
    extra = {} if k.kind == "maxpool" else {"count_include_pad": 1}
    node = helper.make_node(
        op,
        [INPUT_NAME],
        [OUTPUT],
        kernel_shape=[k.kernel, k.kernel],
        strides=[k.stride, k.stride],
        pads=[k.padding] * 4,
        **extra,
    )
    return [node], []


def _merge_nodes(k: Kernel) -> tuple[list, list]:
    """Concat (shortcut input, branch constant) + ReLU, or Add (input, residual constant) + ReLU."""
    from onnx import helper

    h, w = k.size
    if k.kind == "concat":
        other = _tensor("other", (1, k.extra_channels, h, w))
        merge = helper.make_node("Concat", [INPUT_NAME, "other"], ["merged"], axis=1)
    else:
        other = _tensor("other", (1, k.in_channels, h, w))
        merge = helper.make_node("Add", [INPUT_NAME, "other"], ["merged"])
    return [merge, helper.make_node("Relu", ["merged"], [OUTPUT])], [other]


def _fc_nodes(k: Kernel) -> tuple[list, list]:
    from onnx import helper

    node = helper.make_node("Gemm", [INPUT_NAME, "w", "b"], [OUTPUT], transB=1)
    return [node], [_tensor("w", (k.out_channels, k.in_channels)), _tensor("b", (k.out_channels,))]


_BUILDERS = {
    "conv": _conv_nodes,
    "pointwise": _conv_nodes,
    "depthwise": _conv_nodes,
    "shuffle": _shuffle_nodes,
    "maxpool": _pool_nodes,
    "avgpool": _pool_nodes,
    "globalpool": _pool_nodes,
    "concat": _merge_nodes,
    "add": _merge_nodes,
    "fc": _fc_nodes,
}


def _model(nodes: list, initializers: list, shape: tuple[int, ...], name: str):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        nodes,
        name,
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, list(shape))],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, None)],
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)


def kernel_graph(kernel: Kernel):
    """The ``onnx.ModelProto`` that runs ``kernel`` alone (one input, ``image``)."""
    nodes, initializers = _BUILDERS[kernel.kind](kernel)
    return _model(nodes, initializers, input_shape(kernel), kernel.kind)


OVERHEAD_SHAPE = (1, 8)


def overhead_graph():
    """The "empty-ish" graph: one ReLU over 8 values, the fixed cost of a run."""
    from onnx import helper

    return _model([helper.make_node("Relu", [INPUT_NAME], [OUTPUT])], [], OVERHEAD_SHAPE, "overhead")


def write(model, directory: str, name: str) -> str:
    import onnx

    path = os.path.join(directory, f"{name}.onnx")
    onnx.save(model, path)
    return path


def image(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape, dtype=np.float32)


def ort_timer(path: str, shape: tuple[int, ...], threads: int, bound: bool = True) -> Callable[[], object]:
    """A call that runs ``path`` once on ONNX Runtime: through an IO binding (``bound``) or ``session.run``."""
    import onnxruntime as ort

    from ..export import ort_session

    session = ort_session(path, threads)
    array = image(shape)
    if not bound:
        feed = {INPUT_NAME: array}
        return lambda: session.run(None, feed)
    output = np.empty(session.run(None, {INPUT_NAME: array})[0].shape, dtype=np.float32)
    binding = session.io_binding()
    binding.bind_cpu_input(INPUT_NAME, array)
    binding.bind_ortvalue_output(OUTPUT, ort.OrtValue.ortvalue_from_numpy(output))
    keep = (array, output)  # the binding reads and writes them in place

    def run(keep: tuple = keep) -> None:
        session.run_with_iobinding(binding)

    return run


def openvino_timer(path: str, shape: tuple[int, ...], threads: int) -> Callable[[], object]:
    """A call that runs ``path`` once on OpenVINO's CPU plugin, FP32 (``compile_onnx`` sets it explicitly)."""
    from ..openvino import compile_onnx

    compiled = compile_onnx(path, image(shape), threads, "f32")
    return compiled.run
