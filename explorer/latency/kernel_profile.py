"""Where the time goes: ONNX Runtime's own profiler, grouped by what each node does.

``profile_ort(config, threads)`` exports the model (static shapes, as the ``ort``
backend runs it), runs it ``runs`` times with ``enable_profiling`` and sums each node's
kernel time into categories: for ShuffleNet the unit's parts (1x1 GConv compress, 3x3
depthwise, 1x1 GConv expand, channel shuffle), ORT's NCHWc layout reorders, the FC,
and the rest; for other models, by kind of convolution. Multiply-adds per category come
from the shapes ORT reports (output elements x weight fan-in), so each category's
achieved multiply-adds per second can be set against the GEMM roofline: this is the
evidence for *why* a network reaches the fraction of the peak it does.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import torch

from ..concurrency import torch_threads
from ..shufflenet import ModelConfig, ShuffleNetConfig, build_model
from .export import INPUT_NAME, export_onnx, ort_session, quantize_int8
from .timing import measurement_lock

SHUFFLENET_PARTS = (
    ("/shuffle/", "Channel shuffle (Reshape, Transpose)"),
    ("/compress/", "1x1 GConv, compress (+BN, ReLU)"),
    ("/depthwise/", "3x3 depthwise conv (+BN)"),
    ("/expand/", "1x1 GConv, expand (+BN, add, ReLU)"),
    ("/conv1/", "Conv1 3x3 (+BN, ReLU)"),
    ("/fc/", "FC"),
)
REORDER = "NCHWc layout reorders (ORT)"
OTHER = "Pooling, concat, add, ReLU, other"


@dataclass(frozen=True)
class ProfileRow:
    category: str
    ms: float  # kernel time per run
    share: float  # of the summed kernel time
    nodes: int  # per run
    macs: float  # per run, from ORT's shapes

    @property
    def gmacs(self) -> float | None:
        return self.macs / (self.ms / 1e3) / 1e9 if self.macs and self.ms > 0 else None


def _shape(entry: dict) -> list[int]:
    return next(iter(entry.values())) if entry else []


def node_macs(op: str, args: dict) -> float:
    """Multiply-adds of a Conv/FusedConv/Gemm node from ORT's reported shapes."""
    inputs = args.get("input_type_shape") or []
    outputs = args.get("output_type_shape") or []
    if not inputs or not outputs:
        return 0.0
    out = _shape(outputs[0])
    if op in ("Conv", "FusedConv", "QLinearConv") and len(inputs) >= 2:
        weight = _shape(inputs[1] if op != "QLinearConv" else inputs[3])
        return float(math.prod(out) * math.prod(weight[1:])) if weight else 0.0
    if op in ("Gemm", "MatMul") and len(inputs) >= 2:
        a = _shape(inputs[0])
        return float(math.prod(out) * a[-1]) if a else 0.0
    return 0.0


def categorize(name: str, op: str, args: dict, shufflenet: bool) -> str:
    if op.startswith("Reorder"):
        return REORDER
    if shufflenet:
        for marker, label in SHUFFLENET_PARTS:
            if marker in name:
                if marker != "/shuffle/" and op not in ("Conv", "FusedConv", "Gemm", "QLinearConv"):
                    return OTHER if marker != "/fc/" else label
                return label
        return OTHER
    if op in ("Conv", "FusedConv", "QLinearConv"):
        inputs = args.get("input_type_shape") or []
        weight = _shape(inputs[1]) if len(inputs) >= 2 else []
        if weight and weight[1] == 1 and len(weight) == 4:
            return f"{weight[2]}x{weight[3]} depthwise conv"
        if weight and len(weight) == 4:
            return f"{weight[2]}x{weight[3]} conv" + (" (classifier)" if "classifier" in name else "")
    if op in ("Gemm", "MatMul"):
        return "FC"
    return OTHER


def summarize_profile(events: list[dict], runs: int, shufflenet: bool) -> list[ProfileRow]:
    time_us: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    macs: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        args = event.get("args", {})
        op = args.get("op_name", "")
        category = categorize(event["name"], op, args, shufflenet)
        time_us[category] += event.get("dur", 0)
        count[category] += 1
        macs[category] += node_macs(op, args)
    total = sum(time_us.values()) or 1.0
    rows = [ProfileRow(c, time_us[c] / runs / 1e3, time_us[c] / total, count[c] // runs, macs[c] / runs)
            for c in time_us]
    return sorted(rows, key=lambda r: -r.ms)


def profile_ort(config: ModelConfig, threads: int, runs: int = 20, batch: int = 1, int8: bool = False,
                seed: int = 0) -> list[ProfileRow]:
    """ORT's per-node profile of ``config`` (static-shape export, all optimisations), grouped."""
    with tempfile.TemporaryDirectory(prefix="explorer-profile-") as workdir, measurement_lock(), \
            torch_threads(threads):
        torch.manual_seed(seed)
        model = build_model(config)
        path = export_onnx(model, config.input_size, os.path.join(workdir, "model.onnx"), batch, dynamic=False)
        if int8:
            path = quantize_int8(path, os.path.join(workdir, "model-int8.onnx"), config.input_size, batch)
        session = ort_session(path, threads, profile_prefix=os.path.join(workdir, "profile"))
        feed = {INPUT_NAME: np.random.default_rng(seed).standard_normal((batch, 3, *config.input_size),
                                                                        dtype=np.float32)}
        for _ in range(WARMUP_RUNS + runs):
            session.run(None, feed)
        with open(session.end_profiling(), encoding="utf-8") as handle:
            events = json.load(handle)
    return summarize_profile(drop_warmup(events, WARMUP_RUNS), runs, isinstance(config, ShuffleNetConfig))


WARMUP_RUNS = 3


def drop_warmup(events: list[dict], warmup: int) -> list[dict]:
    """Only the node events after the first ``warmup`` ``model_run`` events (allocation, first-run costs)."""
    starts = sorted(e["ts"] for e in events if e.get("name") == "model_run")
    if len(starts) <= warmup:
        return events
    cutoff = starts[warmup]
    return [e for e in events if e.get("cat") != "Node" or e.get("ts", 0) >= cutoff]
