"""Each kernel kind's time inside a whole network, from the runtime's own per-layer profiler.

A kernel timed alone in its own graph does not cost what it costs inside a network. On
OpenVINO it runs at 2-9 times its in-network time: its graph converts the input to the blocked
layout and back, and does not fuse the stride-1 unit's residual add into the convolution before
it, as the network does. On ONNX Runtime even the sum of the kernels timed alone, each measured
rather than predicted, missed whole networks by more than 10% for most of them. So a calibration
profiles every whole network it times, and ``fit.fit_in_network`` fits each kind on its time
inside the networks (docs/prediction.md gives the measurements).

``kind_times(backend, path, image, threads)`` returns, per kind, the summed time of the
network's layers of that kind (median ms per run):

* OpenVINO's CPU plugin reports each executed layer (``enable_profiling``); ``kind_of`` names it.
  Layout reorders and fused element-wise subgraphs have no kind: scaling the kinds to the timed
  run spreads their time over the kinds.
* ONNX Runtime's profiler reports each node; ``ort_kind`` names it. It books a cost on every node,
  however small: the nodes of a profiled ShuffleNet add up to as much as three times a plain run. A
  ``Reshape`` or ``Flatten`` does no work there (it hands on its input's buffer), so its time is
  that cost: the run's median over those nodes (``ALIASES``) comes off every node first. Its layout
  reorders are kinds of their own (``reorder_in``, ``reorder_out``; ``layout.ort_kernels`` says where
  they run), as is an ``Add`` it did not fuse; a node without a kind (a ``Relu`` after a concat or an
  add, a ``Flatten``) goes to the node before it.

``fit`` then scales each network's kinds to its plain run, as the Table 8 profile scales its shares.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
from collections import defaultdict

import numpy as np

PROFILED_RUNS = 7  # each kind's time is its median over these runs
WARMUP_RUNS = 2  # not counted: the first runs allocate
ALIASES = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")  # ONNX Runtime nodes that only hand on their input
_BY_TYPE = {
    "ShuffleChannels": "shuffle",
    "MaxPool": "maxpool",
    "AvgPool": "avgpool",
    "ReduceMean": "globalpool",
    "Concat": "concat",
    "FullyConnected": "fc",
}
_BY_ORT_OP = {
    "Reshape": "shuffle",
    "Transpose": "shuffle",
    "MaxPool": "maxpool",
    "AveragePool": "avgpool",
    "GlobalAveragePool": "globalpool",
    "ReduceMean": "globalpool",
    "Concat": "concat",
    "Gemm": "fc",
    "MatMul": "fc",
    "Add": "add",
    "Sum": "add",
    "ReorderInput": "reorder_in",
    "ReorderOutput": "reorder_out",
}


def kind_of(layer_type: str, weights: tuple[int, ...] | None) -> str | None:
    """The kernel kind of an executed OpenVINO layer, or None (a reorder, a fused element-wise subgraph).

    A convolution's weights are (out, in, k, k), a group convolution's (groups, out, in, k, k)
    per group: one channel in and out per group is a depthwise convolution, as ``kernels`` has it.
    """
    if layer_type not in ("Convolution", "GroupConvolution"):
        return _BY_TYPE.get(layer_type)
    if not weights:
        return None
    if layer_type == "GroupConvolution" and weights[0] > 1 and weights[1] == weights[2] == 1:
        return "depthwise"
    return "pointwise" if weights[-1] == 1 else "conv"


def ort_kind(op: str, weights: list[int] | None) -> str | None:
    """The kernel kind of an ONNX Runtime node, or None (a layout reorder, a flatten, an element-wise op).

    A convolution's weights are (out, in per group, k, k): one channel in per group with a k > 1 kernel
    is a depthwise convolution (ShuffleNet's conv1 reads three)."""
    if op not in ("Conv", "FusedConv"):
        return _BY_ORT_OP.get(op)
    if not weights or len(weights) != 4:
        return None
    if weights[1] == 1 and weights[2] > 1:
        return "depthwise"
    return "pointwise" if weights[2] == 1 else "conv"


def kind_times(backend: str, path: str, image: np.ndarray, threads: int, runs: int = PROFILED_RUNS) -> dict[str, float]:
    """Each kind's summed layer time (median ms per run) in the network at ``path``, run as the runner runs it
    (``ort``: its session options; ``openvino``: ``compile_onnx``, FP32) with profiling on."""
    per_run = _ort_runs(path, image, threads, runs) if backend == "ort" else _openvino_runs(path, image, threads, runs)
    found: dict[str, list[float]] = defaultdict(list)
    for run in per_run:
        for kind, ms in run.items():
            found[kind].append(ms)
    return {kind: statistics.median(times) for kind, times in found.items()}


def _summed(layers: list[tuple[str, float]]) -> dict[str, float]:
    summed: dict[str, float] = defaultdict(float)
    for kind, ms in layers:
        summed[kind] += ms
    return dict(summed)


def _openvino_runs(path: str, image: np.ndarray, threads: int, runs: int) -> list[dict[str, float]]:
    from ..openvino import compile_onnx

    compiled = compile_onnx(path, image, threads, "f32", profiling=True)
    request = compiled.request
    weights = _weights(request.get_compiled_model())
    per_run = []
    for run in range(WARMUP_RUNS + runs):
        compiled.run()
        if run < WARMUP_RUNS:
            continue
        layers = [
            (kind_of(layer.node_type, weights.get(layer.node_name)), layer.real_time.total_seconds() * 1e3)
            for layer in request.profiling_info
            if layer.status.name == "EXECUTED"
        ]
        per_run.append(_summed([(kind, ms) for kind, ms in layers if kind is not None]))
    return per_run


def _weights(compiled) -> dict[str, tuple[int, ...]]:
    """Each executed convolution's weight shape, by layer name, from the compiled (runtime) model."""
    shapes = {}
    for op in compiled.get_runtime_model().get_ordered_ops():
        if op.get_input_size() > 1 and op.input_value(1).get_partial_shape().is_static:
            shapes[op.get_friendly_name()] = tuple(int(d) for d in op.input_value(1).get_partial_shape().to_shape())
    return shapes


def _ort_runs(path: str, image: np.ndarray, threads: int, runs: int) -> list[dict[str, float]]:
    from ..export import INPUT_NAME, ort_session

    with tempfile.TemporaryDirectory(prefix="explorer-profile-") as directory:
        session = ort_session(path, threads, profile_prefix=os.path.join(directory, "profile"))
        for _ in range(WARMUP_RUNS + runs):
            session.run(None, {INPUT_NAME: image})
        with open(session.end_profiling(), encoding="utf-8") as handle:
            events = json.load(handle)
    starts = sorted(e["ts"] for e in events if e.get("name") == "model_run")[WARMUP_RUNS:]
    nodes = sorted(
        (e for e in events if e.get("cat") == "Node" and e.get("name", "").endswith("_kernel_time")),
        key=lambda e: e["ts"],
    )
    per_run: list[list[dict]] = [[] for _ in starts]
    for node in nodes:
        run = int(np.searchsorted(starts, node["ts"], side="right")) - 1
        if run >= 0:
            per_run[run].append(node)
    return [_summed(_attributed(run)) for run in per_run if run]


def _attributed(nodes: list[dict]) -> list[tuple[str, float]]:
    """Each node's kind and ms less the profiler's cost per node (the median ``ALIASES`` node's), in order; a node
    without a kind takes its neighbour's (``_neighbour``)."""
    ops = [node.get("args", {}).get("op_name", "") for node in nodes]
    aliases = [node["dur"] / 1e3 for node, op in zip(nodes, ops) if op in ALIASES]
    booked = statistics.median(aliases) if aliases else 0.0
    kinds = [ort_kind(op, _weights_of(node)) for node, op in zip(nodes, ops)]
    layers = []
    for index, node in enumerate(nodes):
        kind = kinds[index] or _neighbour(kinds, index)
        if kind is not None:
            layers.append((kind, max(0.0, node["dur"] / 1e3 - booked)))
    return layers


def _weights_of(node: dict) -> list[int] | None:
    """A node's second input's shape (a convolution's weights), as ONNX Runtime's profile reports it."""
    inputs = node.get("args", {}).get("input_type_shape") or []
    return next(iter(inputs[1].values())) if len(inputs) > 1 and inputs[1] else None


def _neighbour(kinds: list[str | None], index: int) -> str | None:
    """The nearest kind before ``index``, else the nearest after it."""
    before, following = kinds[index - 1 :: -1] if index else [], kinds[index + 1 :]
    return next((kind for kind in before + following if kind is not None), None)
