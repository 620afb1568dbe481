"""For a fixed budget in multiply-adds or parameters, how wide can each group count and variant go?

Both figures are closed form and instant: multiply-adds (paper convention) from the plan
(``plan_conv_macs``, equal to fvcore's count of the built model) and parameters from the
shapes (``estimate.footprint``, equal to fvcore's ``parameter_count``); tests check both.
The answer is the widest width on the 0.01 grid of the sidebar's range whose figure fits:
a bisection on the standard model (whose figures never decrease with the width) finds
where to start, and a scan downwards from there checks the variant itself; ``smallest`` is what the narrowest width needs,
the smallest budget that fits at all.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from ..checks import check_choice, refusal
from ..counting.estimate import footprint
from ..shufflenet import (
    PAPER_GROUPS,
    REFERENCE_INPUT,
    WIDTH_RANGE,
    ShuffleNetConfig,
    channel_plan,
    plan_conv_macs,
)

WIDTH_STEP = 0.01  # the answer's resolution
# arch2 and shallow are widened to the standard model's multiply-adds (within 3%), and over
# the whole grid their parameters are at least 0.94x the standard model's (tested): so a
# width whose *standard* figure exceeds the budget by more than this margin cannot fit, and
# skipping it saves solving hundreds of widenings.
VARIANT_MARGIN = 1.1
METRICS = {"conv_macs": "multiply-adds (paper convention)", "params": "parameters"}


@dataclass(frozen=True)
class BudgetAnswer:
    groups: int
    config: ShuffleNetConfig | None  # None: even the narrowest width exceeds the budget
    conv_macs: int | None  # paper convention, closed form (fvcore agrees: see the tests)
    variant: str = "standard"
    metric: str = "conv_macs"
    value: int | None = None  # the budgeted figure of ``config``
    smallest: int = 0  # the budgeted figure of the narrowest width: the smallest budget that fits


def network_key(config: ShuffleNetConfig) -> tuple:
    """What a ShuffleNet builds: its channels and units, not the width that asked for them.

    Two widths can build the same network (0.5x and 0.52x arch2 g = 8: the solved widening
    factor differs, 1.0833 and 1.0417, the rounded channels do not), so the plan itself is no key.
    """
    plan = config.plan()
    return (
        config.groups,
        config.variant,
        config.shuffle,
        plan.conv1_channels,
        plan.stage_channels,
        plan.stage_repeats,
        tuple(config.input_size),
        config.num_classes,
    )


def widths() -> list[float]:
    """Every width of the grid, widest first."""
    low, high = WIDTH_RANGE
    steps = round((high - low) / WIDTH_STEP)
    return [round(high - i * WIDTH_STEP, 2) for i in range(steps + 1)]


def figure(config: ShuffleNetConfig, metric: str = "conv_macs") -> int:
    """The budgeted figure of a ShuffleNet, in closed form: multiply-adds (paper convention) or parameters."""
    if metric == "conv_macs":
        return plan_conv_macs(config.plan(), config.input_size)
    check_choice("metric", metric, METRICS)
    return footprint(config).params


def _standard(groups: int, width: float, metric: str, input_size: tuple[int, int]) -> int:
    if metric == "conv_macs":
        return plan_conv_macs(channel_plan(groups, width, "standard"), input_size)
    return footprint(ShuffleNetConfig(groups=groups, width=width, input_size=input_size)).params


def _first_within(grid: list[float], limit: float, groups: int, metric: str, input_size: tuple[int, int]) -> int:
    """Index of the widest width whose *standard* figure is within ``limit`` (``len(grid)`` if none).

    The standard model's figures never decrease with the width (every stage's rounded
    channels and conv1 only grow), so a bisection finds it with about nine evaluations.
    """
    low, high = 0, len(grid)  # grid is widest first: figures decrease with the index
    while low < high:
        middle = (low + high) // 2
        if _standard(groups, grid[middle], metric, input_size) <= limit:
            high = middle
        else:
            low = middle + 1
    return low


def widest_within(
    budget: float,
    groups: int,
    variant: str = "standard",
    input_size: tuple[int, int] = REFERENCE_INPUT,
    metric: str = "conv_macs",
) -> BudgetAnswer:
    """The widest width (in steps of 0.01) whose figure (``metric``) fits ``budget``."""
    check_choice("metric", metric, METRICS)
    grid = widths()
    narrowest = ShuffleNetConfig(groups=groups, width=grid[-1], variant=variant, input_size=input_size)
    smallest = figure(narrowest, metric)
    margin = 1.0 if variant == "standard" else VARIANT_MARGIN
    for width in grid[_first_within(grid, budget * margin, groups, metric, input_size) :]:
        config = ShuffleNetConfig(groups=groups, width=width, variant=variant, input_size=input_size)
        value = figure(config, metric)
        if value <= budget:
            macs = value if metric == "conv_macs" else figure(config, "conv_macs")
            return BudgetAnswer(groups, config, macs, variant, metric, value, smallest)
    return BudgetAnswer(groups, None, None, variant, metric, None, smallest)


def check_budget(budget: float, metric: str = "conv_macs") -> float:
    """``budget`` as a float if it is a positive finite number, else ``ValueError`` naming it."""
    if isinstance(budget, bool) or not isinstance(budget, numbers.Real) or not math.isfinite(budget) or budget <= 0:
        raise refusal("budget", budget, f"a positive number of {METRICS.get(metric, metric)}")
    return float(budget)


def budget_table(
    budget: float,
    variant: str = "standard",
    groups: tuple[int, ...] = PAPER_GROUPS,
    input_size: tuple[int, int] = REFERENCE_INPUT,
    metric: str = "conv_macs",
) -> list[BudgetAnswer]:
    """``widest_within`` for each g."""
    check_budget(budget, metric)
    return [widest_within(budget, g, variant, input_size, metric) for g in groups]
