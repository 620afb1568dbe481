"""Budgets that end in a decision: widest widths, the paper's errors, peak memory, the sort rule, the verdict."""

from __future__ import annotations

import math
from urllib.parse import parse_qsl

import pytest
import torch

from explorer import ShuffleNetConfig, build_model, complexity
from explorer.counting.peak import unit_live_sets
from explorer.paper import ALL_REPORTED, NO_SHUFFLE_NOTE, pareto_front, point_for, reported_points
from explorer.shufflenet import PAPER_GROUPS, VARIANTS, unit_specs
from explorer.sizing import (
    KINDS,
    SORT_RULE,
    VARIANT_MARGIN,
    best_within,
    decide,
    figure,
    network_key,
    widest_within,
    widths,
)
from explorer.sizing.decision import paper_models
from ui.shell.controls import config_from_query

GRID = widths()


# --------------------------------------------------------------------------- what the paper reports


def test_every_reported_model_with_error_and_complexity_is_a_point_once():
    points = reported_points()
    names = {p.model for p in points}
    rows = [r for r in ALL_REPORTED if r.error is not None and r.table in ("Table 2", "Table 3", "Table 5", "Table 6")]
    for row in rows:  # each row is one point (the same model in several tables: one point naming each table)
        matches = (
            [p for p in points if (p.config, p.error) == (row.config, row.error)]
            if row.config
            else [p for p in points if p.model == row.model]
        )
        assert len(matches) == 1 and row.table in matches[0].tables, row
    assert len(points) == 42
    for name in ("VGG-16", "AlexNet", "SqueezeNet", "1.0 MobileNet-224", "0.25 MobileNet-224"):
        assert name in names
    one_x = point_for(ShuffleNetConfig(groups=3, width=1.0))
    assert (one_x.mflops, one_x.error) == (140, 34.1) and one_x.tables == ("Table 2", "Table 3", "Table 5", "Table 6")
    no_shuffle = point_for(ShuffleNetConfig(groups=8, width=0.5, variant="arch2", shuffle=False))
    assert (no_shuffle.mflops, no_shuffle.error, no_shuffle.note) == (40, 46.2, NO_SHUFFLE_NOTE)
    assert point_for(ShuffleNetConfig(groups=3, width=0.52)) is None  # nothing interpolated


def test_pareto_front_is_undominated_and_best_within_is_the_papers_answer():
    points = reported_points()
    front = pareto_front(points)
    for p in front:
        assert not any(q.mflops <= p.mflops and q.error < p.error for q in points), p.model
    assert [p.mflops for p in front] == sorted(p.mflops for p in front)
    assert best_within(40).model == "ShuffleNet 0.5x (arch2) (g = 8)"  # Table 5's 40 MFLOPs answer, 42.7 %
    assert best_within(12) is None


# --------------------------------------------------------------------------- widest within


@pytest.mark.parametrize("groups", [1, 3, 8, 5, 64])
def test_standard_figures_never_decrease_with_width(groups):
    """The bisection in widest_within relies on it."""
    for metric in ("conv_macs", "params"):
        values = [figure(ShuffleNetConfig(groups=groups, width=w), metric) for w in GRID[::-1]]
        assert all(a <= b for a, b in zip(values, values[1:])), (groups, metric)


@pytest.mark.parametrize("variant", ["arch2", "shallow"])
def test_variants_stay_above_the_standard_figure_over_the_margin(variant):
    """widest_within skips widths whose standard figure exceeds the budget x VARIANT_MARGIN: safe only if this holds."""
    for groups in PAPER_GROUPS:
        for width in GRID[::9]:
            for metric in ("conv_macs", "params"):
                standard = figure(ShuffleNetConfig(groups=groups, width=width), metric)
                other = figure(ShuffleNetConfig(groups=groups, width=width, variant=variant), metric)
                assert other * VARIANT_MARGIN >= standard, (groups, width, metric)


@pytest.mark.parametrize(("metric", "budget"), [("conv_macs", 40e6), ("params", 1.2e6)])
def test_widest_within_equals_a_full_scan(metric, budget):
    for groups, variant in ((3, "standard"), (8, "arch2"), (3, "shallow")):
        answer = widest_within(budget, groups, variant, metric=metric)
        near = [w for w in GRID if abs(w - answer.config.width) <= 0.15]  # the full scan, near the answer
        fitting = [
            w for w in near if figure(ShuffleNetConfig(groups=groups, width=w, variant=variant), metric) <= budget
        ]
        assert answer.config.width == max(fitting)
        assert answer.value == figure(answer.config, metric) <= budget
        assert answer.conv_macs == figure(answer.config, "conv_macs")


def test_params_and_activations_are_what_fvcore_counts():
    for config in (ShuffleNetConfig(groups=8, width=0.52, variant="arch2"), ShuffleNetConfig(groups=3, width=0.55)):
        counted = complexity(config)
        decision_row = next(c for c in decide("mflops", 1000, (config.groups,), (config.variant,)).candidates)
        assert figure(config, "params") == counted.params.value
        assert figure(config, "conv_macs") == counted.conv_macs.value
        assert decision_row.params == complexity(decision_row.config).params.value
        assert decision_row.activations == complexity(decision_row.config).activations.value


# --------------------------------------------------------------------------- peak activation memory


def _measured_live_sets(config: ShuffleNetConfig) -> list[int]:
    """The same steps, read off the tensors of the built model with forward hooks."""
    model = build_model(config).eval()
    seen: dict[str, torch.Tensor] = {}
    hooks = []
    for name, module in model.named_modules():
        if name.count(".") == 2 and name.rsplit(".", 1)[1] in ("compress", "shuffle", "depthwise", "expand"):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, (i[0], o))))
        elif name.count(".") == 1 and name.startswith("stage") or name in ("conv1", "maxpool"):
            hooks.append(module.register_forward_hook(lambda m, i, o, name=name: seen.__setitem__(name, (i[0], o))))
    with torch.no_grad():
        model(torch.zeros(1, 3, *config.input_size))
    for hook in hooks:
        hook.remove()
    size = lambda t: t.numel()  # noqa: E731
    image, conv1 = seen["conv1"]
    steps = [size(image) + size(conv1), size(conv1) + size(seen["maxpool"][1])]
    for name in [n for n in seen if n.count(".") == 1]:
        x, out = seen[name]
        a = seen[f"{name}.compress"][1]
        b = seen[f"{name}.depthwise"][1]
        steps += [size(x) + size(a)]
        if config.shuffle and config.groups > 1:
            steps.append(size(x) + 2 * size(seen[f"{name}.shuffle"][1]))
        written = out if seen[f"{name}.expand"][1].shape[1] != out.shape[1] else seen[f"{name}.expand"][1]
        steps += [size(x) + size(a) + size(b), size(x) + size(b) + size(written)]
    return steps


@pytest.mark.parametrize(
    "config",
    [
        ShuffleNetConfig(groups=3, width=1.0),
        ShuffleNetConfig(groups=8, width=0.5, variant="arch2", input_size=(96, 160)),
        ShuffleNetConfig(groups=1, width=0.3, shuffle=False, input_size=(64, 64)),
    ],
    ids=lambda c: c.label,
)
def test_peak_activation_steps_match_the_built_models_tensors(config):
    assert unit_live_sets(config) == _measured_live_sets(config)


# --------------------------------------------------------------------------- the decision


def test_40_mflops_puts_the_papers_answer_first_and_says_so():
    decision = decide("mflops", 40)
    best = decision.candidates[0]
    assert best.config == ShuffleNetConfig(groups=8, width=0.5, variant="arch2")
    assert best.reported.error == 42.7 and "5" in best.reported.source
    assert best.origin == "widest"  # 0.52x arch2 g = 8, its g's widest, builds this network
    assert all(c.conv_macs <= 40e6 for c in decision.candidates)
    assert decision.recommendation.startswith(
        "Within 40 M multiply-adds the paper's best is ShuffleNet 0.5x arch2 (g=8) at 42.7 % top-1 error"
    )
    widest = decision.widest
    assert f"the widest here is {widest.config.label}" in decision.recommendation
    assert widest.conv_macs == max(c.conv_macs for c in decision.candidates)
    assert decision.rule == SORT_RULE


def test_candidates_follow_the_stated_sort_rule_and_carry_errors_only_for_reported_models():
    decision = decide("mflops", 140)
    reported = [c for c in decision.candidates if c.reported is not None]
    others = [c for c in decision.candidates if c.reported is None]
    assert decision.candidates == (*reported, *others)
    assert [c.reported.error for c in reported] == sorted(c.reported.error for c in reported)
    assert [c.conv_macs for c in others] == sorted((c.conv_macs for c in others), reverse=True)
    for c in decision.candidates:
        assert (c.reported is not None) == (point_for(c.config) is not None)
        assert len({network_key(c.config) for c in decision.candidates}) == len(decision.candidates)  # one network once
    widest_rows = [c for c in decision.candidates if c.origin == "widest" and c.config.variant == "standard"]
    for c in widest_rows:
        wider = ShuffleNetConfig(groups=c.config.groups, width=round(c.config.width + 0.01, 2))
        assert figure(wider) > 140e6
    papers = {c.config for c in decision.candidates if c.origin == "paper"}
    assert papers <= set(paper_models(PAPER_GROUPS, ("standard", "arch2", "shallow")))


def _built(config: ShuffleNetConfig) -> tuple:
    """The network a config builds, read off its units (not through ``network_key``): stem, every unit, shuffle."""
    plan = config.plan()
    return plan.conv1_channels, tuple(unit_specs(plan, config.input_size)), config.shuffle


BUDGET_RANGE = {
    "mflops": [round(5.5 * 1.16**k, 2) for k in range(32)],
    "params": [round(0.14 * 1.2**k, 3) for k in range(24)],
}


@pytest.mark.parametrize("kind", BUDGET_RANGE)
def test_one_network_one_row_over_the_whole_budget_range(kind):
    """Issue 19, item 7: 0.5x and 0.52x arch2 g = 8 build one network (the widening factor differs, the channels
    do not): listed once, as the paper's row where the paper reports it, still marked as its g's widest, and no
    answer is lost."""
    seen_twice = 0
    for budget in BUDGET_RANGE[kind]:
        decision = decide(kind, budget)
        built = [_built(c.config) for c in decision.candidates]
        assert len(set(built)) == len(built), (kind, budget, [c.config.label for c in decision.candidates])
        answers = [widest_within(budget * 1e6, g, v, metric=KINDS[kind][1]) for g in PAPER_GROUPS for v in VARIANTS]
        for answer in (a for a in answers if a.config is not None):
            row = next(c for c in decision.candidates if _built(c.config) == _built(answer.config))
            assert row.origin == "widest", (kind, budget, row.config.label)
            if row.config != answer.config:  # listed as the paper's model, which builds the same network
                seen_twice += 1
                assert row.reported is not None and row.reported == point_for(row.config)
    assert seen_twice > 0  # the range holds widths that build a paper model's network


def test_40_mflops_lists_g8_and_g4_arch2_once_each():
    decision = decide("mflops", 40)
    arch2 = [c.config.width for c in decision.candidates if c.config.variant == "arch2" and c.config.groups in (4, 8)]
    assert arch2 == [0.5, 0.5]
    assert network_key(ShuffleNetConfig(8, 0.52, "arch2")) == network_key(ShuffleNetConfig(8, 0.5, "arch2"))
    assert ShuffleNetConfig(8, 0.52, "arch2").plan() != ShuffleNetConfig(8, 0.5, "arch2").plan()


def test_parameter_budget_and_links_that_reopen_each_candidate():
    decision = decide("params", 1.0, variants=("standard", "arch2"))
    assert decision.candidates and all(c.params <= 1e6 for c in decision.candidates)
    assert "Within 1 M parameters" in decision.recommendation
    for c in decision.candidates:
        config, warnings = config_from_query(dict(parse_qsl(c.url.removeprefix("?"))))
        assert config == c.config and not warnings


def test_below_the_minimum_names_the_smallest_budget_of_each_g_and_variant():
    decision = decide("mflops", 5)
    assert not decision.candidates and decision.recommendation.startswith("Nothing fits within 5 M multiply-adds")
    assert {(o.groups, o.variant) for o in decision.over} == {
        (g, v) for g in PAPER_GROUPS for v in ("standard", "arch2", "shallow")
    }
    for over in decision.over:
        narrowest = ShuffleNetConfig(groups=over.groups, width=0.1, variant=over.variant)
        assert over.smallest == figure(narrowest) / 1e6 > 5
        assert decide("mflops", over.smallest, (over.groups,), (over.variant,)).candidates  # that budget does fit


@pytest.mark.parametrize("budget", [0, -1, math.nan, math.inf, "40", True, None])
def test_bad_budgets_are_refused_with_their_value(budget):
    with pytest.raises(ValueError, match="budget"):
        decide("mflops", budget)
    with pytest.raises(ValueError, match="kind"):
        decide("furlongs", 40)
