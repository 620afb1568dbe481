"""Peak activation memory of one image through a ShuffleNet, in closed form from the plan's units.

A layer-by-layer executor (BN folded into the convolutions, ReLU, the residual add and
the concat done in place, as ONNX Runtime runs the exported graph) holds, at any moment,
the tensor a layer reads, the tensor it writes, and, inside a unit, the unit's input kept
for its shortcut. For each unit (``unit_specs``), with X its input, A the bottleneck at
the input resolution, B the depthwise output and C the branch output (O the concat output
of a stride-2 unit, written in place of C and the pooled shortcut):

* first 1x1 group conv: X + A; channel shuffle (a copy): X + 2A;
* 3x3 depthwise: X + A + B; second 1x1: X + B + C (stride 1) or X + B + O (stride 2).

Conv1 holds the image and its output, the max-pool conv1's output and its own. The peak
is the largest of these sums, x 4 bytes (convention ``PEAK_ACTIVATIONS``). It is a floor
for any runtime: PyTorch eager also keeps BatchNorm's separate outputs and the stage
inputs its call stack holds. ``tests/library/sizing/test_budget_decision.py`` recomputes it from the
tensors of the built model.
"""

from __future__ import annotations

from ..shufflenet import ShuffleNetConfig
from ..shufflenet.plan import halve, unit_specs

BYTES_PER_VALUE = 4  # float32


def unit_live_sets(config: ShuffleNetConfig) -> list[int]:
    """Values held at each step of the network, in order (see the module docstring)."""
    plan = config.plan()
    height, width = config.input_size
    conv1 = plan.conv1_channels * halve((height, width))[0] * halve((height, width))[1]
    pooled = plan.conv1_channels * halve(halve((height, width)))[0] * halve(halve((height, width)))[1]
    steps = [3 * height * width + conv1, conv1 + pooled]
    shuffles = config.shuffle and plan.groups > 1
    for unit in unit_specs(plan, config.input_size):
        inner = unit.in_size[0] * unit.in_size[1]
        outer = unit.out_size[0] * unit.out_size[1]
        x, a, b = unit.in_channels * inner, unit.bottleneck * inner, unit.bottleneck * outer
        written = (unit.out_channels if unit.stride == 2 else unit.branch_channels) * outer
        steps += [x + a, *([x + 2 * a] if shuffles else []), x + a + b, x + b + written]
    return steps


def peak_activation_values(config: ShuffleNetConfig) -> int:
    return max(unit_live_sets(config))


def peak_activation_bytes(config: ShuffleNetConfig) -> int:
    return BYTES_PER_VALUE * peak_activation_values(config)
