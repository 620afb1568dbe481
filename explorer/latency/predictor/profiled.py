"""Each kernel kind's time inside a whole network, from OpenVINO's own per-layer profiler.

OpenVINO runs a kernel timed alone in its own graph at 2-9 times its time inside a
network: the graph converts its input to the blocked layout and back, and does not fuse
the stride-1 unit's residual add into the convolution before it, as the network does. Its
CPU plugin reports each executed layer's time (``enable_profiling``); unlike ONNX Runtime's
profiler, which costs as much as a small node, it leaves a run's time unchanged and its
layers add up to about the run (4-19% more). So an OpenVINO calibration profiles every whole
network it times and ``fit.fit_in_network`` fits each kind on its share of the timed run
instead of on the kernels timed alone (docs/prediction.md gives the measurements).

``kind_of`` names an executed layer by the kernel kind ``kernels`` gives it (from its type and,
for a convolution, its weights' shape); layout reorders and fused element-wise subgraphs have
no kind, and scaling the kinds to the timed run spreads their time over the kinds.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

import numpy as np

PROFILED_RUNS = 7  # each kind's time is its median over these runs
_BY_TYPE = {
    "ShuffleChannels": "shuffle",
    "MaxPool": "maxpool",
    "AvgPool": "avgpool",
    "ReduceMean": "globalpool",
    "Concat": "concat",
    "FullyConnected": "fc",
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


def _weights(compiled) -> dict[str, tuple[int, ...]]:
    """Each executed convolution's weight shape, by layer name, from the compiled (runtime) model."""
    shapes = {}
    for op in compiled.get_runtime_model().get_ordered_ops():
        if op.get_input_size() > 1 and op.input_value(1).get_partial_shape().is_static:
            shapes[op.get_friendly_name()] = tuple(int(d) for d in op.input_value(1).get_partial_shape().to_shape())
    return shapes


def kind_times(path: str, image: np.ndarray, threads: int, runs: int = PROFILED_RUNS) -> dict[str, float]:
    """Each kind's summed layer time (median ms per run) in the network at ``path``, compiled as the runner compiles
    it (``explorer.latency.openvino.compile_onnx``, FP32) with profiling on."""
    from ..openvino import compile_onnx

    compiled = compile_onnx(path, image, threads, "f32", profiling=True)
    request = compiled.request
    weights = _weights(request.get_compiled_model())
    per_run: dict[str, list[float]] = defaultdict(list)
    for run in range(runs + 1):  # the first run allocates: not counted
        compiled.run()
        if run == 0:
            continue
        summed: dict[str, float] = defaultdict(float)
        for layer in request.profiling_info:
            kind = kind_of(layer.node_type, weights.get(layer.node_name))
            if kind is not None and layer.status.name == "EXECUTED":
                summed[kind] += layer.real_time.total_seconds() * 1e3
        for kind, ms in summed.items():
            per_run[kind].append(ms)
    return {kind: statistics.median(times) for kind, times in per_run.items()}
