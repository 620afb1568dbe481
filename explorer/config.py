"""Configurations of every model the explorer builds, and ShuffleNet's channel plan.

A config is a frozen, hashable dataclass: it validates itself on construction, so a
config that exists is a config that builds. ``ShuffleNetConfig.plan()`` turns the
user's choices (groups, width, variant) into concrete channel counts with one
documented rounding rule:

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
"""

from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass, replace
from typing import Literal

Variant = Literal["standard", "arch2", "shallow"]

PAPER_GROUPS = (1, 2, 3, 4, 8)
PAPER_WIDTHS = (0.25, 0.5, 1.0, 1.5, 2.0)
VARIANTS: tuple[str, ...] = ("standard", "arch2", "shallow")
MAX_GROUPS = 64
WIDTH_RANGE = (0.1, 4.0)
MIN_INPUT_SIDE = 32
MAX_INPUT_SIDE = 4096
MAX_CLASSES = 100_000
ALEXNET_MIN_SIDE = 223  # the smallest side whose features are at least the classifier's 6x6 kernel

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


def _fail(field_name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{field_name}={value!r} is not allowed: {field_name} must be {allowed}")


def _is_integer(value: object) -> bool:
    """Python and numpy integers, but not bools (``True`` is an int to Python, not a group count)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_int(field_name: str, value: object, low: int, high: int) -> int:
    if not _is_integer(value) or not low <= value <= high:
        raise _fail(field_name, value, f"an integer from {low} to {high}")
    return int(value)


def _check_input_size(value: object) -> tuple[int, int]:
    allowed = f"(height, width), two integers from {MIN_INPUT_SIDE} to {MAX_INPUT_SIDE}"
    if not isinstance(value, tuple) or len(value) != 2:
        raise _fail("input_size", value, allowed)
    for side in value:
        if not _is_integer(side) or not MIN_INPUT_SIDE <= side <= MAX_INPUT_SIDE:
            raise _fail("input_size", value, allowed)
    return int(value[0]), int(value[1])


def _check_width(value: object) -> float:
    low, high = WIDTH_RANGE
    allowed = f"a number from {low} to {high} (the paper uses {', '.join(map(str, PAPER_WIDTHS))})"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail("width", value, allowed)
    if not (math.isfinite(value) and low <= value <= high):
        raise _fail("width", value, allowed)
    return float(value)


def _set(config: object, **values: object) -> None:
    """Store checked, normalised values on a frozen config (numpy ints become ints, so equal configs hash equal)."""
    for name, value in values.items():
        object.__setattr__(config, name, value)


def round_to_multiple(value: float, multiple: int, minimum: int | None = None) -> int:
    """Nearest multiple of ``multiple`` (ties upwards), never below ``minimum`` (default ``multiple``)."""
    return max(minimum or multiple, int(math.floor(value / multiple + 0.5)) * multiple)


def conv1_channels(groups: int, width: float) -> int:
    power_of_two_width = 2.0 ** math.floor(math.log2(width))
    channels = max(CONV1_MIN_CHANNELS, CONV1_CHANNELS_1X * power_of_two_width)
    return math.ceil(channels / groups) * groups


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


@dataclass(frozen=True)
class ShuffleNetConfig:
    """A ShuffleNet v1 as the user picks it. Invalid values raise ``ValueError``."""

    groups: int = 3
    width: float = 1.0
    variant: Variant = "standard"
    shuffle: bool = True
    input_size: tuple[int, int] = REFERENCE_INPUT
    num_classes: int = 1000

    family = "shufflenet"

    def __post_init__(self) -> None:
        groups = _check_int("groups", self.groups, 1, MAX_GROUPS)
        width = _check_width(self.width)
        if not isinstance(self.variant, str) or self.variant not in VARIANTS:
            raise _fail("variant", self.variant, "one of " + ", ".join(VARIANTS))
        if not isinstance(self.shuffle, bool):
            raise _fail("shuffle", self.shuffle, "True or False")
        input_size = _check_input_size(self.input_size)
        num_classes = _check_int("num_classes", self.num_classes, 1, MAX_CLASSES)
        _set(self, groups=groups, width=width, input_size=input_size, num_classes=num_classes)

    @property
    def label(self) -> str:
        variant = "" if self.variant == "standard" else f" {self.variant}"
        shuffle = "" if self.shuffle else ", no shuffle"
        return f"ShuffleNet {self.width:g}x{variant} (g={self.groups}{shuffle})"

    @property
    def is_paper_config(self) -> bool:
        return self.groups in PAPER_GROUPS and self.width in PAPER_WIDTHS

    def with_(self, **changes) -> "ShuffleNetConfig":
        return replace(self, **changes)

    def plan(self) -> ChannelPlan:
        return channel_plan(self.groups, self.width, self.variant)


@functools.lru_cache(maxsize=None)
def stage2_base_channels(groups: int) -> int:
    """Table 1's Stage2 width at 1x, or for other g the multiple of 4g nearest 140M."""
    if groups in TABLE1_STAGE2_CHANNELS:
        return TABLE1_STAGE2_CHANNELS[groups]
    step = 4 * groups
    candidates = [step * k for k in range(1, 4096 // step + 2)]
    return min(candidates, key=lambda c: abs(_plan_macs(_plan(groups, 1.0, c, 1.0, "standard")) - PAPER_1X_BUDGET_MACS))


def _plan(groups: int, width: float, base: int, widen: float, variant: str) -> ChannelPlan:
    step = 4 * groups
    stages = tuple(round_to_multiple(base * 2**k * width * widen, step, step * 2**k) for k in range(3))
    return ChannelPlan(groups, conv1_channels(groups, width), stages, STAGE_REPEATS[variant], widen)  # type: ignore[arg-type]


def _plan_macs(plan: ChannelPlan, input_size: tuple[int, int] = REFERENCE_INPUT) -> float:
    """Paper-convention multiply-adds of a plan, in closed form (used to solve widths)."""
    from .analytic import plan_conv_macs

    return plan_conv_macs(plan, input_size)


def _solve_widen(groups: int, width: float, base: int, variant: str) -> float:
    """The widening factor whose plan's multiply-adds are closest to the standard model's.

    Multiply-adds never decrease as the factor grows (each stage's rounded width only
    grows), so bisect for the first factor that reaches the target, then keep whichever
    of it and the last factor below it lands closer.
    """
    target = _plan_macs(_plan(groups, width, base, 1.0, "standard"))
    macs = lambda f: _plan_macs(_plan(groups, width, base, f, variant))  # noqa: E731
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


@dataclass(frozen=True)
class AlexNetConfig:
    """AlexNet as in the paper's Table 8, run fully convolutionally (see reference.py)."""

    input_size: tuple[int, int] = REFERENCE_INPUT
    num_classes: int = 1000

    family = "alexnet"

    def __post_init__(self) -> None:
        input_size = _check_input_size(self.input_size)
        if min(input_size) < ALEXNET_MIN_SIDE:
            raise _fail("input_size", self.input_size, f"at least {ALEXNET_MIN_SIDE}x{ALEXNET_MIN_SIDE} for AlexNet "
                        "(its classifier is a 6x6 convolution over the 6x6 features of a 223-pixel side)")  # fmt: skip
        _set(self, input_size=input_size, num_classes=_check_int("num_classes", self.num_classes, 1, MAX_CLASSES))

    @property
    def label(self) -> str:
        return "AlexNet"


MOBILENET_WIDTHS = (1.0, 0.75, 0.5, 0.25)


@dataclass(frozen=True)
class MobileNetConfig:
    """MobileNet v1 (Howard et al. 2017) with width multiplier alpha (Table 5)."""

    width: float = 1.0
    input_size: tuple[int, int] = REFERENCE_INPUT
    num_classes: int = 1000

    family = "mobilenet"

    def __post_init__(self) -> None:
        width = _check_width(self.width)
        input_size = _check_input_size(self.input_size)
        _set(self, width=width, input_size=input_size,
             num_classes=_check_int("num_classes", self.num_classes, 1, MAX_CLASSES))  # fmt: skip

    @property
    def label(self) -> str:
        return f"{self.width:g} MobileNet v1"


ModelConfig = ShuffleNetConfig | AlexNetConfig | MobileNetConfig


MAX_SIDE_DIGITS = 9  # longer digit strings are refused before int() (which also refuses > 4300 digits)


def parse_input_size(text: str) -> tuple[int, int]:
    """``"480x640"`` -> ``(480, 640)`` (height x width); ``ValueError`` names the text.

    Only ASCII digits count: ``str.isdigit`` also accepts superscripts such as ``"²"``,
    which ``int`` then refuses with a message that names neither field nor rule.
    """
    parts = text.lower().replace(" ", "").split("x") if isinstance(text, str) else []
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() and len(p) <= MAX_SIDE_DIGITS for p in parts):
        raise ValueError(f"input size {text!r} is not allowed: write HEIGHTxWIDTH with each side from "
                         f"{MIN_INPUT_SIDE} to {MAX_INPUT_SIDE}, e.g. 224x224 or 480x640")  # fmt: skip
    return _check_input_size((int(parts[0]), int(parts[1])))


__all__ = [
    "AlexNetConfig",
    "ChannelPlan",
    "MobileNetConfig",
    "ModelConfig",
    "ShuffleNetConfig",
    "channel_plan",
    "parse_input_size",
]
