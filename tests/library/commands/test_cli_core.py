"""``python -m explorer size`` and ``budget``, run as a user runs them."""

import json

import pytest
from conftest import assert_one_line_usage_error, run_cli, run_explorer

from explorer.shufflenet import channel_plan, plan_conv_macs
from explorer.sizing.budget import budget_table, widest_within


def test_size_json_has_the_documented_keys_and_paper_numbers():
    result = run_cli("size", "--groups", "3", "--width", "1.0", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"config", "layout", "units", "complexity"} <= payload.keys()
    assert {"conv_macs", "macs_with_fc", "fvcore_flops", "params"} <= payload["complexity"].keys()
    assert payload["complexity"]["conv_macs"] == 136_500_672
    assert payload["config"]["plan"]["stage_channels"] == [240, 480, 960]
    stage2 = next(row for row in payload["layout"] if row["Layer"] == "Stage2")
    assert stage2["Output size"] == "28x28" and stage2["Output channels"] == 240
    assert len(payload["units"]) == 16
    assert payload["conventions"]["conv_macs"]["unit"] == "multiply-adds"
    assert any(row["table"] == "Table 1" and row["mflops"] == 137 for row in payload["reported_in_paper"]["rows"])


def test_size_text_output_for_a_variant_and_non_square_input():
    result = run_cli(
        "size", "--groups", "8", "--width", "0.5", "--variant", "arch2", "--no-shuffle", "--input", "480x640"
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "ShuffleNet 0.5x arch2 (g=8, no shuffle), input 480x640" in out
    assert "widened x" in out
    assert "Stage4" in out and "15x20" in out
    assert "Multiply-adds (paper convention)" in out


def test_budget_json_gives_the_widest_fitting_width_per_group():
    result = run_cli("budget", "--mflops", "40", "--variant", "standard", "--json")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert sorted({r["groups"] for r in payload["results"]}) == [1, 2, 3, 4, 8]
    assert all(row["conv_macs"] <= 40e6 for row in payload["results"])
    for g in (1, 2, 3, 4, 8):
        row = max((r for r in payload["results"] if r["groups"] == g), key=lambda r: r["width"])
        # The next wider network (the next width with other channels) is over the budget.
        plan = channel_plan(row["groups"], row["width"], "standard")
        wider = next(
            w / 100
            for w in range(round(row["width"] * 100) + 1, 401)
            if channel_plan(row["groups"], w / 100, "standard") != plan
        )
        assert plan_conv_macs(channel_plan(row["groups"], wider, "standard"), (224, 224)) > 40e6


def test_budget_for_variants_and_impossible_budgets():
    for answer in budget_table(40e6, "arch2"):
        assert answer.conv_macs <= 40e6 and 0.4 < answer.config.width < 0.6
    assert widest_within(1e3, groups=3).config is None
    with pytest.raises(ValueError, match="budget"):
        budget_table(0)


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["size", "--groups", "0"], "groups=0"),
        (["size", "--groups", "seven"], "--groups"),
        (["size", "--width", "inf"], "--width"),
        (["size", "--width", "5"], "width=5.0"),
        (["size", "--input", "0x0"], "--input"),
        (["size", "--input", "100000x100000"], "--input"),
        (["size", "--variant", "x"], "--variant"),
        (["budget", "--mflops", "-3"], "--mflops"),
        (["budget", "--mflops", "nan"], "--mflops"),
        (["budget"], "--mflops"),
        (["nonsense"], "invalid choice"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args, names):
    assert_one_line_usage_error(run_cli(*args), names)


ENTRY_POINT_CASES = [
    ("size", "--groups", "3", "--width", "1.0", "--json"),
    ("budget", "--mflops", "40"),
    ("mixing", "--channels", "12", "--groups", "3", "--layers", "2"),
]


@pytest.mark.parametrize("argv", ENTRY_POINT_CASES, ids=" ".join)
def test_the_real_entry_point_prints_what_the_in_process_runner_prints(argv):
    """``python -m explorer`` (a real subprocess) exits 0 and prints exactly what ``run_cli`` captures."""
    real = run_explorer(*argv, timeout=300)
    assert real.returncode == 0, real.stderr
    assert real.stdout == run_cli(*argv).stdout
