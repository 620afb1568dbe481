"""Closed-form multiply-adds of a ShuffleNet channel plan (the paper's own arithmetic).

Used to solve widths quickly and, in the tests, as an independent check of fvcore's
count of the built model. Per stride-1 unit the paper's formula is
``h*w*(2*c*m/g + 9*m)``; a stride-2 unit runs its first 1x1 at the input resolution and
its last 1x1 produces only the ``out - in`` channels that are concatenated to the pool.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterator

import torch
from torch import nn

if TYPE_CHECKING:
    from .config import ChannelPlan


def conv_output_side(side: int, kernel: int = 3, stride: int = 2, padding: int = 1) -> int:
    return (side + 2 * padding - kernel) // stride + 1


def halve(size: tuple[int, int]) -> tuple[int, int]:
    return conv_output_side(size[0]), conv_output_side(size[1])


@dataclass(frozen=True)
class UnitSpec:
    stage: int  # 2, 3 or 4 as in Table 1
    index: int  # 0-based position in its stage
    in_channels: int
    out_channels: int
    bottleneck: int
    first_groups: int  # groups of the first 1x1 (1 in Stage2's first unit)
    groups: int  # groups of the last 1x1
    stride: int
    in_size: tuple[int, int]
    out_size: tuple[int, int]

    @property
    def branch_channels(self) -> int:
        """Channels the residual branch produces: all of them, or out - in before a concat."""
        return self.out_channels - self.in_channels if self.stride == 2 else self.out_channels

    @property
    def macs(self) -> int:
        (hi, wi), (ho, wo) = self.in_size, self.out_size
        m = self.bottleneck
        first = hi * wi * self.in_channels * m // self.first_groups
        depthwise = ho * wo * 9 * m
        last = ho * wo * m * self.branch_channels // self.groups
        return first + depthwise + last


def paper_unit_formula(h: int, w: int, c: int, m: int, g: int) -> int:
    """The paper's per-unit cost of a stride-1 unit: ``h*w*(2*c*m/g + 9*m)``."""
    return h * w * (2 * c * m // g + 9 * m)


def unit_specs(plan: "ChannelPlan", input_size: tuple[int, int]) -> Iterator[UnitSpec]:
    size = halve(halve(input_size))  # conv1 and max-pool
    channels = plan.conv1_channels
    for stage, (out, repeats) in enumerate(zip(plan.stage_channels, plan.stage_repeats), start=2):
        for index in range(repeats):
            stride = 2 if index == 0 else 1
            out_size = halve(size) if stride == 2 else size
            first_groups = 1 if (stage == 2 and index == 0) else plan.groups
            yield UnitSpec(stage, index, channels, out, out // 4, first_groups, plan.groups, stride, size, out_size)
            channels, size = out, out_size


def conv1_macs(plan: "ChannelPlan", input_size: tuple[int, int]) -> int:
    h, w = halve(input_size)
    return h * w * plan.conv1_channels * 3 * 9


def plan_conv_macs(plan: "ChannelPlan", input_size: tuple[int, int]) -> int:
    """Multiply-adds of every convolution, FC excluded: the paper's convention."""
    return conv1_macs(plan, input_size) + sum(u.macs for u in unit_specs(plan, input_size))


def layer_macs(module: nn.Module, output: torch.Tensor) -> tuple[str, int]:
    """Multiply-adds of one conv or linear layer from its output shape, by operator name.

    A conv output value costs ``in_channels / groups * kernel area`` multiply-adds, a linear
    output value ``in_features``: what fvcore counts for these two layers.
    """
    if isinstance(module, nn.Conv2d):
        per_value = module.in_channels // module.groups * math.prod(module.kernel_size)
        return "conv", int(output.numel()) * per_value
    if isinstance(module, nn.Linear):
        return "linear", int(output.numel()) * module.in_features
    raise TypeError(f"layer_macs counts Conv2d and Linear layers, not {type(module).__name__}")
