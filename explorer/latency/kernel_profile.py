"""Where the time goes: ONNX Runtime's own profiler, grouped by what each node does.

``profile_ort(config, threads)`` exports the model (static shapes, as the ``ort``
backend runs it; ``profile_onnx`` profiles a file already exported, as
``LatencyRunner.profile`` does), runs it ``runs`` times with ``enable_profiling`` and sums
each node's kernel time into categories: for ShuffleNet the unit's parts (1x1 GConv
compress, 3x3 depthwise, 1x1 GConv expand, channel shuffle), ORT's NCHWc layout
reorders, the FC, and the rest; for other models, by kind of convolution. Multiply-adds
and weights per category come from the shapes ORT reports (output elements x weight
fan-in; weight tensor sizes), so each category's achieved multiply-adds per second can
be set against the GEMM roofline: this is the evidence for *why* a network reaches the
fraction of the peak it does (``explorer.latency.verdict`` turns it into sentences).

**Profiler overhead.** The profiler records every node of every run, which on small
nodes costs as much as the node itself: the summed kernel times of a ShuffleNet run were
up to 5x its median without profiling. So a ``KernelProfile`` also times the same file with a
plain session (same threads) and reports each category's *share* of the profiled time
scaled to that median (``scaled_ms``), and the overhead factor itself.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections import defaultdict
from dataclasses import asdict, dataclass

import numpy as np
import torch

from ..concurrency import torch_threads
from ..shufflenet import ModelConfig, ShuffleNetConfig, build_model, config_from_dict, config_to_dict
from .export import INPUT_NAME, export_onnx, ort_session, quantize_int8
from .timing import measurement_lock, time_function

PLAIN_MIN_TIME = 0.3  # seconds of timed runs of the plain (unprofiled) session

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
    weights: float = 0.0  # weight values read per run (conv / FC weight tensors), from ORT's shapes

    @property
    def gmacs(self) -> float | None:
        """Billions of multiply-adds per second over the profiled kernel time (``KernelProfile.rate``: over the scaled)."""
        return self.macs / (self.ms / 1e3) / 1e9 if self.macs and self.ms > 0 else None


@dataclass(frozen=True)
class KernelProfile:
    """ORT's grouped profile of one model at one input, with the plain session's median to scale it to."""

    config: ModelConfig
    threads: int
    batch: int
    rows: tuple[ProfileRow, ...]
    kernel_ms: float  # summed node kernel time per profiled run
    median_ms: float  # median latency of the same file without the profiler (same threads)
    int8: bool = False

    @property
    def overhead(self) -> float:
        """Profiled kernel time per run / plain median: how much the profiler inflates the node times."""
        return self.kernel_ms / self.median_ms if self.median_ms > 0 else float("nan")

    def overhead_text(self) -> str:
        return overhead_text(self.kernel_ms, self.median_ms)

    def scaled_ms(self, row: ProfileRow) -> float:
        """The row's share of the profiled time, applied to the plain median."""
        return row.share * self.median_ms

    def rate(self, row: ProfileRow) -> float | None:
        """The row's multiply-adds per second over its scaled time (None for rows without multiply-adds)."""
        scaled = self.scaled_ms(row)
        return row.macs / (scaled / 1e3) if row.macs and scaled > 0 else None

    def part(self, test) -> ProfileRow:
        """The rows whose category passes ``test``, summed into one (shares add up; rates recomputed)."""
        rows = [r for r in self.rows if test(r.category)]
        return ProfileRow(
            ", ".join(r.category for r in rows),
            sum(r.ms for r in rows),
            sum(r.share for r in rows),
            sum(r.nodes for r in rows),
            sum(r.macs for r in rows),
            sum(r.weights for r in rows),
        )

    def to_record(self) -> dict:
        """Everything, as JSON-able values (the store keeps this; ``from_record`` reads it back exactly)."""
        return {
            "config": config_to_dict(self.config),
            "threads": self.threads,
            "batch": self.batch,
            "rows": [asdict(row) for row in self.rows],
            "kernel_ms": self.kernel_ms,
            "median_ms": self.median_ms,
            "int8": self.int8,
        }

    @classmethod
    def from_record(cls, record: dict) -> KernelProfile:
        """The profile ``to_record`` wrote; ``KeyError`` / ``TypeError`` / ``ValueError`` for a record it did not."""
        return cls(
            config_from_dict(record["config"]),
            int(record["threads"]),
            int(record["batch"]),
            tuple(ProfileRow(**row) for row in record["rows"]),
            float(record["kernel_ms"]),
            float(record["median_ms"]),
            bool(record["int8"]),
        )

    def to_dict(self, peak_macs_per_s: float | None = None) -> dict:
        return {
            "model": self.config.label,
            "input": list(self.config.input_size),
            "threads": self.threads,
            "kernel_ms_per_run": self.kernel_ms,
            "median_ms_without_profiler": self.median_ms,
            "profiler_overhead": self.overhead,
            "rows": [
                {
                    "category": r.category,
                    "ms": r.ms,
                    "scaled_ms": self.scaled_ms(r),
                    "share": r.share,
                    "nodes": r.nodes,
                    "macs": r.macs,
                    "weights": r.weights,
                    "gmacs": None if self.rate(r) is None else self.rate(r) / 1e9,
                    "fraction_of_gemm": None
                    if self.rate(r) is None or not peak_macs_per_s
                    else self.rate(r) / peak_macs_per_s,
                }
                for r in self.rows
            ],
        }


def overhead_text(kernel_ms: float, median_ms: float) -> str:
    """The profiler's overhead in one sentence: profiled kernel time per run against the plain median."""
    factor = kernel_ms / median_ms if median_ms > 0 else float("nan")
    why = (
        "the profiler's own per-node bookkeeping slows every node" if factor > 1.1 else "the profiler adds little here"
    )
    return (
        f"Without the profiler a run takes {median_ms:.2f} ms (median); with it the nodes' kernel times add up "
        f"to {kernel_ms:.2f} ms per run ({factor:.1f}×: {why}), so each group's time is shown as its share of "
        "the profile × that median."
    )


def _shape(entry: dict) -> list[int]:
    return next(iter(entry.values())) if entry else []


def node_weights(op: str, args: dict) -> float:
    """Weight values of a Conv/FusedConv/Gemm/MatMul node (its second input; QLinearConv's fourth)."""
    inputs = args.get("input_type_shape") or []
    index = 3 if op == "QLinearConv" else 1
    if op not in ("Conv", "FusedConv", "QLinearConv", "Gemm", "MatMul") or len(inputs) <= index:
        return 0.0
    weight = _shape(inputs[index])
    return float(math.prod(weight)) if weight else 0.0


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
    weights: dict[str, float] = defaultdict(float)
    for event in events:
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        args = event.get("args", {})
        op = args.get("op_name", "")
        category = categorize(event["name"], op, args, shufflenet)
        time_us[category] += event.get("dur", 0)
        count[category] += 1
        macs[category] += node_macs(op, args)
        weights[category] += node_weights(op, args)
    total = sum(time_us.values()) or 1.0
    rows = [
        ProfileRow(c, time_us[c] / runs / 1e3, time_us[c] / total, count[c] // runs, macs[c] / runs, weights[c] / runs)
        for c in time_us
    ]
    return sorted(rows, key=lambda r: -r.ms)


def profile_onnx(
    path: str, config: ModelConfig, threads: int, runs: int = 20, batch: int = 1, seed: int = 0, int8: bool = False
) -> KernelProfile:
    """ORT's per-node profile of the file at ``path`` (all optimisations), grouped, and its plain median.

    The caller holds the measurement lock; the profile file goes next to ``path``.
    """
    feed = {INPUT_NAME: np.random.default_rng(seed).standard_normal((batch, 3, *config.input_size), dtype=np.float32)}
    session = ort_session(path, threads, profile_prefix=os.path.splitext(path)[0] + "-profile")
    for _ in range(WARMUP_RUNS + runs):
        session.run(None, feed)
    profile_path = session.end_profiling()
    try:
        with open(profile_path, encoding="utf-8") as handle:
            events = json.load(handle)
    finally:
        os.remove(profile_path)
    del session
    plain = ort_session(path, threads)
    median_ms = time_function(lambda: plain.run(None, feed), min_time=PLAIN_MIN_TIME, threads=threads).median_ms
    rows = summarize_profile(drop_warmup(events, WARMUP_RUNS), runs, isinstance(config, ShuffleNetConfig))
    kernel_ms = sum(r.ms for r in rows)
    return KernelProfile(config, threads, batch, tuple(rows), kernel_ms, median_ms, int8)


def profile_ort(
    config: ModelConfig, threads: int, runs: int = 20, batch: int = 1, int8: bool = False, seed: int = 0
) -> KernelProfile:
    """ORT's per-node profile of ``config`` (static-shape export, all optimisations), grouped."""
    with tempfile.TemporaryDirectory(prefix="explorer-profile-") as workdir, measurement_lock(), torch_threads(threads):
        torch.manual_seed(seed)
        model = build_model(config)
        path = export_onnx(model, config.input_size, os.path.join(workdir, "model.onnx"), batch, dynamic=False)
        if int8:
            path = quantize_int8(path, os.path.join(workdir, "model-int8.onnx"), config.input_size, batch)
        return profile_onnx(path, config, threads, runs, batch, seed, int8)


WARMUP_RUNS = 3


def drop_warmup(events: list[dict], warmup: int) -> list[dict]:
    """Only the node events after the first ``warmup`` ``model_run`` events (allocation, first-run costs)."""
    starts = sorted(e["ts"] for e in events if e.get("name") == "model_run")
    if len(starts) <= warmup:
        return events
    cutoff = starts[warmup]
    return [e for e in events if e.get("cat") != "Node" or e.get("ts", 0) >= cutoff]
