"""The overhead graph, and a call that runs an exported graph once as ``LatencyRunner`` runs a network.

``overhead_graph`` is the "empty-ish" graph (a ReLU over 8 values, one input named ``image``:
``explorer.latency.export.INPUT_NAME``), written with ``onnx.helper``: what one run costs before
any kernel does work. ``ort_timer`` runs a graph with ``session.run`` (the runner's call and
session options), ``openvino_timer`` with an infer request, FP32 set explicitly
(``explorer.latency.openvino.compile_onnx``).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from ..export import INPUT_NAME, OPSET

OUTPUT = "out"
OVERHEAD_SHAPE = (1, 8)


def overhead_graph():
    """The "empty-ish" graph: one ReLU over 8 values, the fixed cost of a run."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Relu", [INPUT_NAME], [OUTPUT])],
        "overhead",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, list(OVERHEAD_SHAPE))],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], ir_version=8)


def write(model, directory: str, name: str) -> str:
    import onnx

    path = os.path.join(directory, f"{name}.onnx")
    onnx.save(model, path)
    return path


def image(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(shape, dtype=np.float32)


def ort_timer(path: str, shape: tuple[int, ...], threads: int) -> Callable[[], object]:
    """A call that runs ``path`` once on ONNX Runtime with ``session.run``, as ``LatencyRunner`` does."""
    from ..export import ort_session

    session = ort_session(path, threads)
    feed = {INPUT_NAME: image(shape)}
    return lambda: session.run(None, feed)


def openvino_timer(path: str, shape: tuple[int, ...], threads: int) -> Callable[[], object]:
    """A call that runs ``path`` once on OpenVINO's CPU plugin, FP32 (``compile_onnx`` sets it explicitly)."""
    from ..openvino import compile_onnx

    compiled = compile_onnx(path, image(shape), threads, "f32")
    return compiled.run
