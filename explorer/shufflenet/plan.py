"""ShuffleNet's channel plan, its units, and their multiply-adds in closed form.

The user's choices (groups, width, variant) become concrete channel counts here, with
one documented rounding rule:

* **Stages 2-4.** Stage k's ideal width is ``base(g) * 2**(k-2) * width * widen`` where
  ``base(g)`` is Table 1's Stage2 column (144, 200, 240, 272, 384 for g = 1, 2, 3, 4, 8).
  It is rounded to the nearest multiple of ``4*g`` (ties upwards), so the bottleneck (a
  quarter of the output) divides by g, and never below ``4*g * 2**(k-2)``, so that each
  stage stays wider than the one before even at the narrowest widths.
* **Conv1.** ``24`` scaled by the width rounded *down* to a power of two, at least 12,
  then rounded up to a multiple of g, so that every stride-2 concat (pool of the input +
  residual) still divides by g. This reproduces Megvii's official tables (12/16 channels
  at 0.5x, 24 at 1x and 1.5x, 48 at 2x), and the floor of 12 reproduces the paper's 13M
  at 0.25x for g = 1..4 (a 6-channel stem would give 11M).
* **Other g.** Groups outside Table 1 get the multiple of ``4*g`` whose 1x model is
  closest to the paper's 140 MFLOPs budget, as the paper chose its own columns.
* **arch2 / shallow.** Fewer units, so the stages are widened by a factor ``widen``
  solved numerically so that the multiply-adds match the standard model at the same
  (g, width); the factor is kept in the plan so it can be shown.

**The unit rule** is written once, in ``unit_specs``: the first unit of a stage has
stride 2, the rest stride 1; Stage2's first 1x1 is not grouped; a stride-2 unit
concatenates an average-pooled shortcut, so its branch produces ``out - in`` channels.
The model, the closed-form count, the mixing prediction and the resource estimate are
all built from that list.

The closed form is the paper's own arithmetic: per stride-1 unit ``h*w*(2*c*m/g + 9*m)``;
a stride-2 unit runs its first 1x1 at the input resolution and its last 1x1 produces
only the concatenated channels. The tests check it against fvcore on the built model.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass

STAGES = (2, 3, 4)
STAGE_REPEATS: dict[str, tuple[int, int, int]] = {
    "standard": (4, 8, 4),
    "arch2": (4, 6, 4),
    "shallow": (2, 4, 2),
}
# Table 1, Stage2 output channels at width 1x.
TABLE1_STAGE2_CHANNELS = {1: 144, 2: 200, 3: 240, 4: 272, 8: 384}
CONV1_CHANNELS_1X = 24
CONV1_MIN_CHANNELS = 12
# "about 140 MFLOPs" (Table 2): the budget the paper sized its 1x columns for.
PAPER_1X_BUDGET_MACS = 140e6
REFERENCE_INPUT = (224, 224)


def round_to_multiple(value: float, multiple: int, minimum: int | None = None) -> int:
    """Nearest multiple of ``multiple`` (ties upwards), never below ``minimum`` (default ``multiple``)."""
    return max(minimum or multiple, int(math.floor(value / multiple + 0.5)) * multiple)


def conv1_channels(groups: int, width: float) -> int:
    power_of_two_width = 2.0 ** math.floor(math.log2(width))
    channels = max(CONV1_MIN_CHANNELS, CONV1_CHANNELS_1X * power_of_two_width)
    return math.ceil(channels / groups) * groups


def conv_output_side(side: int, kernel: int = 3, stride: int = 2, padding: int = 1) -> int:
    return (side + 2 * padding - kernel) // stride + 1


def halve(size: tuple[int, int]) -> tuple[int, int]:
    """Spatial size after a 3x3, stride-2, padding-1 layer (conv1, the max-pool, a stride-2 unit)."""
    return conv_output_side(size[0]), conv_output_side(size[1])


@dataclass(frozen=True)
class ChannelPlan:
    """Concrete channels and unit counts of one ShuffleNet; everything the model needs."""

    groups: int
    conv1_channels: int
    stage_channels: tuple[int, int, int]
    stage_repeats: tuple[int, int, int]
    widen: float  # factor applied to the stages on top of the width (1.0 for standard)

    @property
    def bottlenecks(self) -> tuple[int, int, int]:
        return tuple(c // 4 for c in self.stage_channels)  # type: ignore[return-value]

    def stage_input_channels(self, stage: int) -> int:
        """Channels entering Stage ``stage`` (2, 3 or 4): conv1's, or the previous stage's."""
        index = STAGES.index(stage)
        return self.conv1_channels if index == 0 else self.stage_channels[index - 1]


@dataclass(frozen=True)
class UnitSpec:
    """One ShuffleNet unit as the plan lays it out, with its spatial sizes at one input size."""

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
    def layer_macs(self) -> dict[str, int]:
        """Multiply-adds of the unit's three convolutions, named as in the model: the first 1x1
        (``compress``, at the input resolution), the 3x3 depthwise and the last 1x1 (``expand``)."""
        (hi, wi), (ho, wo) = self.in_size, self.out_size
        m = self.bottleneck
        return {
            "compress": hi * wi * self.in_channels * m // self.first_groups,
            "depthwise": ho * wo * 9 * m,
            "expand": ho * wo * m * self.branch_channels // self.groups,
        }

    @property
    def macs(self) -> int:
        return sum(self.layer_macs.values())

    @property
    def params(self) -> int:
        """Weights of the three convolutions plus the affine parameters of their three BatchNorms."""
        m, branch = self.bottleneck, self.branch_channels
        convs = self.in_channels * m // self.first_groups + 9 * m + m * branch // self.groups
        return convs + 2 * (2 * m + branch)


def stem_output_size(input_size: tuple[int, int]) -> tuple[int, int]:
    """Spatial size entering Stage2: after conv1 and the max-pool."""
    return halve(halve(input_size))


def unit_specs(plan: ChannelPlan, input_size: tuple[int, int] = REFERENCE_INPUT) -> Iterator[UnitSpec]:
    """Every unit of the network in order: the one place the unit rule is written (see the module docstring)."""
    size = stem_output_size(input_size)
    channels = plan.conv1_channels
    for stage, out, repeats in zip(STAGES, plan.stage_channels, plan.stage_repeats):
        for index in range(repeats):
            stride = 2 if index == 0 else 1
            out_size = halve(size) if stride == 2 else size
            first_groups = 1 if (stage == 2 and index == 0) else plan.groups
            yield UnitSpec(stage, index, channels, out, out // 4, first_groups, plan.groups, stride, size, out_size)
            channels, size = out, out_size


def paper_unit_formula(h: int, w: int, c: int, m: int, g: int) -> int:
    """The paper's per-unit cost of a stride-1 unit: ``h*w*(2*c*m/g + 9*m)``."""
    return h * w * (2 * c * m // g + 9 * m)


def conv1_macs(plan: ChannelPlan, input_size: tuple[int, int]) -> int:
    h, w = halve(input_size)
    return h * w * plan.conv1_channels * 3 * 9


def plan_conv_macs(plan: ChannelPlan, input_size: tuple[int, int] = REFERENCE_INPUT) -> int:
    """Multiply-adds of every convolution, FC excluded: the paper's convention."""
    return conv1_macs(plan, input_size) + sum(u.macs for u in unit_specs(plan, input_size))


# --------------------------------------------------------------------------- solving the plan


def _plan(groups: int, width: float, base: int, widen: float, variant: str) -> ChannelPlan:
    step = 4 * groups
    stages = tuple(round_to_multiple(base * 2**k * width * widen, step, step * 2**k) for k in range(3))
    return ChannelPlan(groups, conv1_channels(groups, width), stages, STAGE_REPEATS[variant], widen)  # type: ignore[arg-type]


@functools.cache
def stage2_base_channels(groups: int) -> int:
    """Table 1's Stage2 width at 1x, or for other g the multiple of 4g nearest 140M."""
    if groups in TABLE1_STAGE2_CHANNELS:
        return TABLE1_STAGE2_CHANNELS[groups]
    step = 4 * groups
    candidates = [step * k for k in range(1, 4096 // step + 2)]
    distance = lambda c: abs(plan_conv_macs(_plan(groups, 1.0, c, 1.0, "standard")) - PAPER_1X_BUDGET_MACS)  # noqa: E731
    return min(candidates, key=distance)


def _solve_widen(groups: int, width: float, base: int, variant: str) -> float:
    """The widening factor whose plan's multiply-adds are closest to the standard model's.

    Multiply-adds never decrease as the factor grows (each stage's rounded width only
    grows), so bisect for the first factor that reaches the target, then keep whichever
    of it and the last factor below it lands closer.
    """
    target = plan_conv_macs(_plan(groups, width, base, 1.0, "standard"))
    macs = lambda f: plan_conv_macs(_plan(groups, width, base, f, variant))  # noqa: E731
    low, high = 1.0, 4.0
    for _ in range(40):
        middle = (low + high) / 2
        low, high = (middle, high) if macs(middle) < target else (low, middle)
    return min((low, high), key=lambda f: abs(macs(f) - target))


@functools.lru_cache(maxsize=4096)
def channel_plan(groups: int, width: float, variant: str) -> ChannelPlan:
    base = stage2_base_channels(groups)
    widen = 1.0 if variant == "standard" else _solve_widen(groups, width, base, variant)
    return _plan(groups, width, base, widen, variant)
