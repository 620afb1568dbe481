"""The Lecture page's content: the paper's argument in eight steps, each drawn for the sidebar's model.

* ``STEPS``: the steps as data (title, the page that goes deeper, the function that
  makes the step's ``Slide``). A step function takes the config and presentation mode
  (``ui.shell.presentation``: the figures' larger fonts) and returns plain content (a sentence
  or two, one figure, a caption saying what is computed here or reported in the paper, a
  method note); ``ui/lecture/nav.py`` reads ``?step=`` and draws it.
* Every number comes from the library, in closed form wherever it can (no model is built
  on this page): ``UnitSpec.layer_macs`` for where a unit's multiply-adds go, the channel
  plan for Table 1's widths, ``explorer.mixing`` for Fig. 1, ``explorer.paper`` for Tables
  2, 3 and 8, the app's result store for this machine's latencies (never measured here).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import plotly.graph_objects as go

from explorer import PAPER_GROUPS, ShuffleNetConfig, paper
from explorer.counting import CONVENTIONS, PAPER_CONVENTION, UnitRow
from explorer.mixing import cross_equals_shuffle, default_toy_channels, toy_mixing
from explorer.shufflenet import UnitSpec, plan_conv_macs, unit_specs
from ui.figures.diagrams import unit_dot
from ui.figures.toy_diagram import toy_dot
from ui.figures.toy_figures import shuffle_animation_figure
from ui.latency.tables import latency_summary
from ui.lecture.figures import budget_channels_figure, millions, reported_errors_figure, table8_figure, unit_cost_figure
from ui.mixing.text import reach_text
from ui.shell.cache import cached_sweep
from ui.shell.text import input_size_text

TOY_LAYERS = 2
MAX_LECTURE_TOY_GROUPS = 16  # as the Channel shuffle page's toy
PAPER_COUNT = f"{CONVENTIONS[PAPER_CONVENTION].label.lower()}: every convolution, no FC, BN or pooling"


@dataclass(frozen=True)
class Slide:
    """What one step shows: ``figure`` is a plotly figure (shared: never change it), or (title, DOT) diagrams."""

    text: str
    figure: go.Figure | tuple[tuple[str, str], ...]
    caption: str
    how: str
    static: bool = False  # a chart with every value written on it: drawn without plotly's hover layer


@dataclass(frozen=True)
class Step:
    title: str
    page: str  # the page that goes deeper (a path in ui.shell.page.PAGES)
    page_label: str
    slide: Callable[[ShuffleNetConfig, bool], Slide]  # (the sidebar's model, presentation mode)


# --------------------------------------------------------------------------- steps 1-3: the cost


def stage3_unit(config: ShuffleNetConfig, stride: int) -> UnitSpec:
    """The first unit of Stage3 with this stride, at the sidebar's input size (every variant has both)."""
    return next(u for u in unit_specs(config.plan(), config.input_size) if u.stage == 3 and u.stride == stride)


def _layer_names(unit: UnitSpec) -> tuple[str, str, str]:
    return (
        f"first 1×1 ({unit.in_channels} → {unit.bottleneck} ch)",
        f"3×3 depthwise ({unit.bottleneck} ch)",
        f"second 1×1 ({unit.bottleneck} → {unit.branch_channels} ch)",
    )


def _pointwise(unit: UnitSpec) -> int:
    return unit.layer_macs["compress"] + unit.layer_macs["expand"]


def _unit_where(unit: UnitSpec) -> str:
    return (
        f"one stride-1 unit of Stage3 ({unit.in_channels} channels in and out, bottleneck {unit.bottleneck}, "
        f"{input_size_text(unit.out_size)} pixels)"
    )


CLOSED_FORM_HOW = (
    "Per layer, a 1×1 convolution costs h·w·c_in·c_out/g multiply-adds and a 3×3 depthwise one h·w·9·m "
    "(`UnitSpec.layer_macs`, the paper's own arithmetic); the tests check every layer of every unit against the "
    "kernel arithmetic of the built model, and the totals against fvcore."
)


def where_the_cost_goes(config: ShuffleNetConfig, present: bool = False) -> Slide:
    unit = stage3_unit(config, 1)
    dense = replace(unit, first_groups=1, groups=1)
    macs = dense.layer_macs
    total = sum(macs.values())
    text = (
        f"Take {_unit_where(unit)} with ordinary, dense 1×1 convolutions: the bottleneck unit ShuffleNet "
        f"starts from (Fig. 2a). Its two 1×1 convolutions take **{100 * _pointwise(dense) / total:.1f}%** of its "
        f"{millions(total)} multiply-adds; the 3×3 depthwise convolution, which does the spatial work, only "
        f"{100 * macs['depthwise'] / total:.1f}%."
    )
    figure = unit_cost_figure(
        (("dense 1×1 (g = 1)", 1, tuple(macs.values())),),
        _layer_names(unit),
        "Where one unit's multiply-adds go (dense 1×1)",
        present,
    )
    caption = f"Computed here for {config.label} at {input_size_text(config.input_size)}; {PAPER_COUNT}."
    return Slide(text, figure, caption, CLOSED_FORM_HOW, static=True)


def group_convolution(config: ShuffleNetConfig, present: bool = False) -> Slide:
    unit = stage3_unit(config, 1)
    dense = replace(unit, first_groups=1, groups=1)
    g = config.groups
    series = [("g = 1: dense 1×1", 1, tuple(dense.layer_macs.values()))]
    if g == 1:
        text = (
            "This model has g = 1: its 1×1 convolutions are dense. Pick g = 2, 3, 4 or 8 in the sidebar to see "
            "what a group convolution does to the same unit."
        )
    else:
        series.append((f"g = {g}: 1×1 group convolutions", g, tuple(unit.layer_macs.values())))
        text = (
            f"Split each 1×1 convolution into **g = {g} groups**, each reading only its own 1/{g} of the channels, "
            f"and its multiply-adds are divided by {g}: {millions(_pointwise(dense))} → "
            f"{millions(_pointwise(unit))} for {_unit_where(unit)}. The depthwise 3×3 is unchanged, so the whole "
            f"unit is {dense.macs / unit.macs:.1f}× cheaper."
        )
    figure = unit_cost_figure(tuple(series), _layer_names(unit), f"The same unit at g = 1 and g = {g}", present)
    caption = f"Computed here for {config.label} at {input_size_text(config.input_size)}; {PAPER_COUNT}."
    return Slide(text, figure, caption, CLOSED_FORM_HOW, static=True)


def fixed_budget(config: ShuffleNetConfig, present: bool = False) -> Slide:
    groups = PAPER_GROUPS if config.groups in PAPER_GROUPS else tuple(sorted((*PAPER_GROUPS, config.groups)))
    rows = cached_sweep(groups, (config.width,), config.variant, config.input_size)
    table = tuple((r["groups"], tuple(r["stage_channels"]), r["macs"]) for r in rows)
    first, last = table[0], table[-1]
    mine = next(r for r in table if r[0] == config.groups)
    variant = "" if config.variant == "standard" else f" {config.variant}"
    text = (
        f"ShuffleNet spends what grouping saves on **wider feature maps**: at {config.width:g}×{variant} and about "
        f"the same cost, Stage2 grows from {first[1][0]} output channels at g = {first[0]} to {last[1][0]} at "
        f"g = {last[0]}. Wider maps carry more information, which matters most for small networks. This model "
        f"(g = {config.groups}): {' · '.join(map(str, mine[1]))} channels, {millions(mine[2])} multiply-adds."
    )
    if config.width == 1.0 and config.variant == "standard" and tuple(config.input_size) == (224, 224):
        reported = ", ".join(f"{paper.TABLE1_MFLOPS[g]:g}" for g in PAPER_GROUPS)
        text += f" Table 1 reports {reported} MFLOPs for g = 1, 2, 3, 4, 8 (reported in the paper)."
    figure = budget_channels_figure(table, config.groups, "Under a fixed budget, more groups buy wider stages", present)
    caption = (
        f"Channels: the explorer's channel plan (Table 1's columns at 1×). Multiply-adds computed here at "
        f"{input_size_text(config.input_size)}; {PAPER_COUNT}."
    )
    how = (
        "Each g gets Table 1's Stage2 width times the width multiplier, rounded to a multiple of 4g so the "
        "bottleneck divides by g; Stage3 and Stage4 double it (README, “One rounding rule for channels”)."
    )
    return Slide(text, figure, caption, how, static=True)


# --------------------------------------------------------------------------- steps 4-6: the shuffle and the unit


def toy_size(groups: int) -> tuple[int, int, str]:
    """(C, g, note) of the lecture's Fig. 1 toy for the sidebar's g: the Channel shuffle page's default C."""
    toy_groups = min(max(groups, 1), MAX_LECTURE_TOY_GROUPS)
    note = ""
    if groups == 1:
        toy_groups, note = 3, " (the sidebar has g = 1, which has no groups to keep apart: shown with g = 3)"
    elif groups > MAX_LECTURE_TOY_GROUPS:
        note = f" (the sidebar's g = {groups} is drawn with g = {toy_groups})"
    return default_toy_channels(toy_groups), toy_groups, note


TOY_HOW = (
    "The toy stacks 1×1 group convolutions of C channels and follows which input channel each output channel is "
    "computed from (`explorer.mixing.toy`, 0/1 matrices multiplied as booleans). The Channel shuffle page draws it "
    "for any C, g and L, and measures the same on the real network."
)


def no_cross_talk(config: ShuffleNetConfig, present: bool = False) -> Slide:
    channels, groups, note = toy_size(config.groups)
    toy = toy_mixing(channels, groups, TOY_LAYERS, "none")
    text = (
        f"The side effect: stack two 1×1 group convolutions (C = {channels}, g = {groups}{note}) and each output "
        f"channel sees **{reach_text(toy)}**: its own group only, however many layers are stacked. Information "
        "never crosses groups, which weakens what the network can represent (Fig. 1a)."
    )
    figure = (
        (
            "Fig. 1a: two stacked group convolutions, no exchange",
            toy_dot(channels, groups, TOY_LAYERS, "none", present=present, compact=True),
        ),
    )
    caption = "Computed here: every node is a channel (or a group of them), an edge a real connection; colour = group."
    return Slide(text, figure, caption, TOY_HOW)


def the_shuffle(config: ShuffleNetConfig, present: bool = False) -> Slide:
    channels, groups, note = toy_size(config.groups)
    none, shuffled = (toy_mixing(channels, groups, TOY_LAYERS, wiring) for wiring in ("none", "shuffle"))
    text = (
        f"**Channel shuffle**: reshape the {channels} channels to ({groups}, {channels // groups}), transpose, "
        f"flatten{note}. The next group convolution's groups then read channels from every group, and after two "
        f"layers each output channel sees **{reach_text(shuffled)}** instead of {reach_text(none)} (Fig. 1c). "
        "It costs no multiply-adds."
    )
    if cross_equals_shuffle(channels, groups, TOY_LAYERS):
        text += " It wires exactly what Fig. 1b draws, with cheap ordinary group convolutions."
    if not config.shuffle:
        text += " The sidebar has the shuffle off (the Table 3 ablation): this is what that model is missing."
    caption = (
        f"Computed here: the shuffle of {channels} channels in {groups} groups, animated (Play, or step with the "
        "slider: reshape, transpose, flatten); colour and marker shape = the group a channel comes from."
    )
    return Slide(text, shuffle_animation_figure(channels, groups, present), caption, TOY_HOW)


def unit_row(unit: UnitSpec, shuffle: bool) -> UnitRow:
    """The diagram's view of a unit, from the plan alone (no model is built)."""
    return UnitRow(
        stage=unit.stage,
        unit=unit.index + 1,
        stride=unit.stride,
        in_channels=unit.in_channels,
        out_channels=unit.out_channels,
        bottleneck=unit.bottleneck,
        first_groups=unit.first_groups,
        last_groups=unit.groups,
        shuffle=shuffle and unit.groups > 1,
        output_size=unit.out_size,
        macs=unit.macs,
        params=unit.params,
    )


def the_unit(config: ShuffleNetConfig, present: bool = False) -> Slide:
    one, two = stage3_unit(config, 1), stage3_unit(config, 2)
    text = (
        "**The ShuffleNet unit**: 1×1 group convolution, channel shuffle, 3×3 depthwise convolution, 1×1 group "
        "convolution; then add the input (stride 1, Fig. 2b) or concatenate a 3×3 average pool of it (stride 2, "
        f"Fig. 2c), which widens the stage at no extra cost. In this model's Stage3 a stride-1 unit costs "
        f"{millions(one.macs)} multiply-adds, the stride-2 unit {millions(two.macs)}."
    )
    figure = (
        ("Stride 1 (Fig. 2b)", unit_dot(unit_row(one, config.shuffle), one.in_size, present, compact=True)),
        ("Stride 2 (Fig. 2c)", unit_dot(unit_row(two, config.shuffle), two.in_size, present, compact=True)),
    )
    caption = (
        f"Computed here for {config.label} at {input_size_text(config.input_size)}: channels from the channel "
        f"plan, {PAPER_COUNT}. Coloured cells: channel groups."
    )
    how = (
        "The diagrams are drawn from the plan's unit list (`unit_specs`), the list the model itself is built "
        "from. Stage2's first 1×1 convolution is not grouped: it has only the 24 channels of Conv1 as input."
    )
    return Slide(text, figure, caption, how)


# --------------------------------------------------------------------------- steps 7-8: what the paper reports


def _errors(config: ShuffleNetConfig) -> str:
    with_shuffle = [r for r in paper.reported_for(config.with_(shuffle=True)) if r.table in ("Table 2", "Table 3")]
    without = [r for r in paper.reported_for(config.with_(shuffle=False)) if r.table == "Table 3"]
    model = config.with_(shuffle=True).label
    if not with_shuffle:
        return (
            f"The paper reports no ImageNet error for {model}: pick width 0.25, 0.5 or 1 (standard or arch2) "
            "and g = 1, 2, 3, 4 or 8 to see its row highlighted."
        )
    text = f"For {model} the paper reports **{with_shuffle[0].error:g}%** top-1 error"
    return text + (f", and {without[0].error:g}% without the shuffle." if without else ".")


def what_the_paper_measured(config: ShuffleNetConfig, present: bool = False) -> Slide:
    gains = [without.error - with_.error for without, with_ in zip(paper.TABLE3[::2], paper.TABLE3[1::2])]
    text = (
        "On ImageNet (reported in the paper, not reproduced here) grouped models (g > 1) beat g = 1 at every "
        f"width, most at the smallest; and the shuffle lowers the error by {min(gains):.1f} to {max(gains):.1f} "
        f"points (Table 3). {_errors(config)}"
    )
    figure = reported_errors_figure(config.groups, config.width, config.variant, present)
    caption = f"Reported in the paper ({paper.SOURCE}): classification error, ImageNet validation set, single crop."
    how = (
        "Error rates need training on ImageNet, which a CPU explorer cannot do: every model here has random "
        "weights, so these numbers are only ever the paper's."
    )
    return Slide(text, figure, caption, how)


def real_time(config: ShuffleNetConfig, present: bool = False) -> Slide:
    small, one_x, alexnet = paper.TABLE8
    text = (
        f"Fewer multiply-adds matter only if they become time. On {paper.TABLE8_DEVICE} (reported in the paper), "
        f"{small.model} takes {small.milliseconds[0]:g} ms at 224×224 against AlexNet's "
        f"{alexnet.milliseconds[0]:g} ms: about {paper.TABLE8_MEASURED_SPEEDUP:g}× faster, for "
        f"{paper.TABLE8_THEORETICAL_SPEEDUP:g}× fewer multiply-adds."
    )
    text += (
        f" The sidebar's {config.label} needs {millions(plan_conv_macs(config.plan(), config.input_size))} "
        f"multiply-adds at {input_size_text(config.input_size)} (computed here, {PAPER_COUNT})."
    )
    measured = [(row.model, latency_summary(row.config)) for row in (small, one_x, alexnet)]
    measured.append((config.label, latency_summary(config)))
    lines = [
        f"- {model} at {input_size_text(config.input_size if model == config.label else (224, 224))}: {summary}"
        for model, summary in dict(measured).items()
        if summary
    ]
    if lines:
        text += "\n\nOn this machine:\n" + "\n".join(lines)
    else:
        text += " Nothing has been timed on this machine yet: the Latency page measures the sidebar's model and runs "
        text += "Table 8 here."
    caption = (
        "Bars: reported in the paper (its own runtime on a phone core). Measured here: the fastest backend "
        "already timed by the Latency page in this server, never mixed into the chart."
    )
    how = (
        "Nothing is timed on this page: a class stepping through it must not queue behind measurements. The "
        "Latency page times every backend here and reproduces Table 8 on this machine."
    )
    return Slide(text, table8_figure(present), caption, how, static=True)


STEPS: tuple[Step, ...] = (
    Step("Where a unit's multiply-adds go", "pages/2_Complexity.py", "Complexity", where_the_cost_goes),
    Step("A group convolution divides them by g", "pages/2_Complexity.py", "Complexity: across g", group_convolution),
    Step("What that buys under a fixed budget", "pages/1_Architecture.py", "Architecture: Table 1", fixed_budget),
    Step("The side effect: groups never talk", "pages/3_Channel_shuffle.py", "Channel shuffle: Fig. 1", no_cross_talk),
    Step("The channel shuffle", "pages/3_Channel_shuffle.py", "Channel shuffle", the_shuffle),
    Step("The ShuffleNet unit", "pages/1_Architecture.py", "Architecture: the unit", the_unit),
    Step("What the paper measured", "pages/2_Complexity.py", "Complexity: reported", what_the_paper_measured),
    Step("What it costs in real time", "pages/4_Latency.py", "Latency", real_time),
)
