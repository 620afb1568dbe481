"""How each number is counted: the one place that names every figure's unit and convention."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Convention:
    label: str
    unit: str
    definition: str


CONVENTIONS: dict[str, Convention] = {
    "conv_macs": Convention(
        "Multiply-adds (paper convention)",
        "multiply-adds",
        "Multiply-adds of every convolution (conv1 and all units), counted by fvcore; the FC layer, "
        "BN, pooling and additions are not counted. This is what the paper calls FLOPs.",
    ),
    "macs_with_fc": Convention(
        "Multiply-adds incl. FC",
        "multiply-adds",
        "The paper convention plus the final fully connected layer (what official code and most counters report).",
    ),
    "fvcore_flops": Convention(
        "fvcore total",
        "fvcore flops",
        "fvcore's FlopCountAnalysis total: one 'flop' per multiply-add of convolutions and linear layers, "
        "plus its own counts for batch norm and adaptive pooling.",
    ),
    "torch_flops": Convention(
        "PyTorch FLOPs",
        "FLOPs",
        "torch.utils.flop_counter.FlopCounterMode: 2 FLOPs (one multiply, one add) per multiply-add of "
        "convolutions and matrix multiplications.",
    ),
    "params": Convention(
        "Parameters",
        "parameters",
        "All learnable weights and biases (BN affine included), counted by fvcore.parameter_count.",
    ),
    "activations": Convention(
        "Activations",
        "values",
        "Output elements of every convolution and linear layer for one image (fvcore's activation definition).",
    ),
    "activation_bytes": Convention(
        "Activation memory",
        "bytes",
        "Activations x 4 bytes (float32) for one image: the memory written by conv and linear layers, not the peak.",
    ),
}

PAPER_CONVENTION = "conv_macs"

# Figures of the budget answer that are not part of a model's complexity counts (kept out of
# CONVENTIONS so that ``size --json`` keeps its schema).
PEAK_ACTIVATIONS = Convention(
    "Peak activation memory",
    "bytes",
    "The most float32 activation values held at once when one image runs layer by layer (BN folded into the "
    "convolutions, ReLU, add and concat in place): a layer's input and output plus the unit input kept for its "
    "shortcut, x 4 bytes. Computed from the shapes; the input image counts while conv1 reads it.",
)
LATENCY = Convention(
    "Latency (measured here)",
    "milliseconds",
    "Median of time-based runs after warm-up, one image, on this machine, with the backend and thread count named "
    "beside it (explorer.latency).",
)
