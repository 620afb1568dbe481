"""The bracket a latency-budget search narrows for one g and variant: the width grid, the next probe, a probe's lesson.

Pure arithmetic on the plan and the probes (no measuring): ``explorer.sizing.latency_search``
measures. Widths are the 0.01 grid of the sidebar's range, narrowest first; a probe
always stands for the *widest* width of its channel plan (the same network), so the
bracket is (widest plan measured within the budget, narrowest width measured over it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..shufflenet import ShuffleNetConfig, channel_plan, plan_conv_macs
from .budget import network_key, widths

FIRST_WIDTH = 1.0  # the first probe when nothing has been measured yet


@dataclass(frozen=True)
class Probe:
    config: ShuffleNetConfig  # the widest width of its channel plan
    ms: float  # median per image, measured here
    stored: bool  # True: taken from the store, not measured by this search
    flags: str = ""  # "noisy", "busy"


@dataclass
class GroupSearch:
    """The search of one (g, variant): its probes and the bracket they found."""

    groups: int
    variant: str
    probes: list[Probe] = field(default_factory=list)
    low: int = -1  # grid index (narrowest first) of the widest plan measured within the budget
    high: int = -1  # grid index of the narrowest width measured over it (len(grid): none)
    fit: Probe | None = None
    over: Probe | None = None
    status: str = "searching"  # searching, found, widest fits, nothing fits, stopped, failed
    reason: str = ""
    same_side: int = 0  # consecutive probes on the same side of the budget (two in a row: bisect)

    @property
    def done(self) -> bool:
        return self.status != "searching"


class Grid:
    """The width grid of one (g, variant), narrowest first, with each width's plan and multiply-adds."""

    def __init__(self, groups: int, variant: str, input_size: tuple[int, int]) -> None:
        self.groups, self.variant, self.input_size = groups, variant, input_size
        self.widths = widths()[::-1]

    def plan(self, index: int):
        return channel_plan(self.groups, self.widths[index], self.variant)

    def network(self, index: int) -> tuple:
        return network_key(self.config(index))

    def widest_of_plan(self, index: int) -> int:
        network = self.network(index)
        while index + 1 < len(self.widths) and self.network(index + 1) == network:
            index += 1
        return index

    def narrowest_of_plan(self, index: int) -> int:
        network = self.network(index)
        while index > 0 and self.network(index - 1) == network:
            index -= 1
        return index

    def config(self, index: int) -> ShuffleNetConfig:
        return ShuffleNetConfig(
            groups=self.groups, width=self.widths[index], variant=self.variant, input_size=self.input_size
        )

    def macs(self, index: int) -> int:
        return plan_conv_macs(channel_plan(self.groups, self.widths[index], "standard"), self.input_size)

    def index_for_macs(self, target: float) -> int:
        """The widest index whose standard multiply-adds are at most ``target`` (standard counts only grow)."""
        low, high = 0, len(self.widths) - 1
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if self.macs(middle) <= target else (low, middle - 1)
        return low

    def index_of(self, width: float) -> int:
        return min(range(len(self.widths)), key=lambda i: abs(self.widths[i] - width))


def predict(search: GroupSearch, grid: Grid, budget_ms: float, rate: float | None) -> int:
    """The next grid index to probe, strictly inside the bracket (see the module docstring)."""
    low, high = search.low, search.high
    points = sorted(((p.config.width, p.ms) for p in search.probes), key=lambda p: abs(p[1] - budget_ms))
    if search.same_side >= 2 and low >= 0 and high < len(grid.widths):
        guess = (low + high) // 2
    elif len(points) >= 2 and points[0][1] != points[1][1]:
        (w1, t1), (w2, t2) = points[:2]
        m1, m2 = grid.macs(grid.index_of(w1)), grid.macs(grid.index_of(w2))
        guess = grid.index_for_macs(m1 + (budget_ms - t1) * (m2 - m1) / (t2 - t1))
    elif points:
        w1, t1 = points[0]
        guess = grid.index_for_macs(grid.macs(grid.index_of(w1)) * budget_ms / t1)
    elif rate:
        guess = grid.index_for_macs(budget_ms * rate)
    else:
        guess = grid.index_of(FIRST_WIDTH)
    return min(max(guess, low + 1), high - 1)


def record(search: GroupSearch, grid: Grid, index: int, probe: Probe, budget_ms: float) -> None:
    """Narrow the bracket with one probe (at the widest index of its plan) and say when it is closed."""
    fits = probe.ms <= budget_ms
    last = search.probes[-1].ms <= budget_ms if search.probes else None
    search.same_side = search.same_side + 1 if fits == last else 1
    search.probes.append(probe)
    if fits:
        search.low, search.fit = index, probe
    else:
        search.high, search.over = grid.narrowest_of_plan(index), probe
    if search.low + 1 >= search.high:
        search.status = "found"
        if search.low == len(grid.widths) - 1:
            search.status = "widest fits"
        elif search.low < 0:
            search.status = "nothing fits"
