"""For a fixed multiply-add budget, how wide can each group count go?"""

from __future__ import annotations

from dataclasses import dataclass

from ..checks import refusal
from ..shufflenet import PAPER_GROUPS, REFERENCE_INPUT, WIDTH_RANGE, ShuffleNetConfig, channel_plan, plan_conv_macs

WIDTH_STEP = 0.01  # the answer's resolution
# arch2 and shallow are solved to within 3% of the standard model at the same width, so
# widths whose standard model exceeds the budget by more than this margin cannot fit;
# skipping them saves solving hundreds of widenings.
VARIANT_MARGIN = 1.1


@dataclass(frozen=True)
class BudgetAnswer:
    groups: int
    config: ShuffleNetConfig | None  # None: even the narrowest width exceeds the budget
    conv_macs: int | None  # paper convention, closed form (fvcore agrees: see the tests)


def _widths() -> list[float]:
    low, high = WIDTH_RANGE
    steps = round((high - low) / WIDTH_STEP)
    return [round(high - i * WIDTH_STEP, 2) for i in range(steps + 1)]


def widest_within(budget_macs: float, groups: int, variant: str = "standard",
                  input_size: tuple[int, int] = REFERENCE_INPUT) -> BudgetAnswer:
    """The widest width (in steps of 0.01) whose paper-convention multiply-adds fit."""
    for width in _widths():
        standard = plan_conv_macs(channel_plan(groups, width, "standard"), input_size)
        if variant != "standard" and standard > budget_macs * VARIANT_MARGIN:
            continue
        macs = standard if variant == "standard" else plan_conv_macs(channel_plan(groups, width, variant), input_size)
        if macs <= budget_macs:
            config = ShuffleNetConfig(groups=groups, width=width, variant=variant, input_size=input_size)
            return BudgetAnswer(groups, config, macs)
    return BudgetAnswer(groups, None, None)


def budget_table(budget_macs: float, variant: str = "standard", groups: tuple[int, ...] = PAPER_GROUPS,
                 input_size: tuple[int, int] = REFERENCE_INPUT) -> list[BudgetAnswer]:
    if not budget_macs > 0:
        raise refusal("budget", budget_macs, "a positive number of multiply-adds")
    return [widest_within(budget_macs, g, variant, input_size) for g in groups]
