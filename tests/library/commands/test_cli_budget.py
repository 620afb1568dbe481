"""``python -m explorer budget`` for people and for scripts; ``size`` in 80 columns with human units."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

import pytest
from conftest import assert_one_line_usage_error, run_cli

from explorer import ShuffleNetConfig
from explorer.latency import default_threads, measure
from explorer.latency.stored import open_store
from ui.shell.controls import config_from_query

CANDIDATE_KEYS = {
    "groups",
    "variant",
    "width",
    "origin",
    "conv_macs",
    "params",
    "activations",
    "peak_activation_bytes",
    "reported",
    "latency_ms",
    "url",
    "config",
}


def budget_json(*args: str) -> dict:
    result = run_cli("budget", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_40_mflops_json_is_a_decision_with_the_papers_answer_first():
    payload = budget_json("--mflops", "40")
    first = payload["results"][0]
    assert (first["groups"], first["width"], first["variant"]) == (8, 0.5, "arch2")
    assert first["reported"] == {"table": "Table 2, 3, 5, 6", "error": 42.7, "model": "ShuffleNet 0.5x (arch2) (g = 8)"}
    assert payload["verdict"].startswith("Within 40 M multiply-adds the paper's best is ShuffleNet 0.5x arch2 (g=8)")
    assert payload["sort_rule"].startswith("Models the paper reports come first")
    assert payload["budget"] == {"kind": "mflops", "value": 40.0, "unit": "million multiply-adds (paper convention)"}
    for row in payload["results"]:
        assert set(row) == CANDIDATE_KEYS
        assert all(isinstance(row[k], int) for k in ("conv_macs", "params", "activations", "peak_activation_bytes"))
        config, warnings = config_from_query(dict(parse_qsl(row["url"].removeprefix("?"))))
        assert not warnings and (config.groups, config.width, config.variant) == (
            row["groups"],
            row["width"],
            row["variant"],
        )
        assert row["reported"] is None or row["origin"] == "paper" or row["reported"]["error"] > 0
    assert {r["variant"] for r in payload["results"]} == {"standard", "arch2", "shallow"}


def test_40_mflops_json_lists_each_network_once():
    """Issue 19, item 7: g = 8 arch2 at 0.5x and 0.52x (and g = 4 arch2 at 0.5x and 0.51x) build one network each."""
    rows = budget_json("--mflops", "40")["results"]
    built = [(r["groups"], r["variant"], r["conv_macs"], r["params"], r["activations"]) for r in rows]
    assert len(set(built)) == len(built)
    arch2 = {(r["groups"], r["width"], r["origin"]) for r in rows if r["variant"] == "arch2" and r["groups"] in (4, 8)}
    assert arch2 == {(8, 0.5, "widest"), (4, 0.5, "widest")}  # the paper's rows, marked as their g's widest


def test_a_stored_latency_appears_in_the_json_and_the_table():
    config = ShuffleNetConfig(groups=8, width=0.5, variant="arch2")
    measured = measure(config, "ort", min_time=0.05)  # a real measurement, kept where the app keeps it
    open_store().put(measured)
    first = budget_json("--mflops", "40", "--variant", "arch2")["results"][0]
    assert first["config"]["label"] == config.label and first["latency_ms"] == measured.per_image_ms
    assert f"{measured.per_image_ms:.2f} ms" in run_cli("budget", "--mflops", "40", "--variant", "arch2").stdout


def test_parameter_budgets_are_answered_in_closed_form():
    payload = budget_json("--params", "0.8", "--groups", "3,8")
    assert payload["budget"]["kind"] == "params" and payload["convention"] == "params"
    assert payload["results"] and all(r["params"] <= 0.8e6 for r in payload["results"])
    assert {r["groups"] for r in payload["results"]} <= {3, 8}


def test_below_the_minimum_says_the_smallest_budget_of_each_g_and_variant():
    payload = budget_json("--mflops", "3", "--variant", "arch2")
    assert payload["results"] == [] and payload["verdict"].startswith("Nothing fits")
    assert [(o["groups"], o["variant"]) for o in payload["does_not_fit"]] == [(g, "arch2") for g in (1, 2, 3, 4, 8)]
    assert all(5 < o["smallest_budget"] < 8 for o in payload["does_not_fit"])
    text = run_cli("budget", "--mflops", "3").stdout
    assert "smallest budget that fits" in text and "5.73 M multiply-adds" in text  # g = 1 standard at 0.1x


def assert_fits_80_columns(text: str) -> None:
    long = [line for line in text.splitlines() if len(line) > 80]
    assert not long, long[:3]


@pytest.mark.parametrize(
    "args",
    [
        ("budget", "--mflops", "40"),
        ("budget", "--params", "1.5"),
        ("budget", "--mflops", "2"),
        ("size", "--groups", "3"),
        ("size", "--groups", "64", "--width", "4", "--input", "480x640", "--variant", "arch2"),
    ],
    ids=" ".join,
)
def test_text_output_fits_80_columns(args):
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    assert_fits_80_columns(result.stdout)


def test_counts_print_in_human_units_and_json_keeps_exact_integers():
    text = run_cli("size", "--groups", "3").stdout
    assert "136.5 M" in text and "1.87 M" in text and "8.33 M" in text  # conv_macs, params, Stage2 unit 1
    assert "8326080" not in text and "136500672" not in text
    assert json.loads(run_cli("size", "--groups", "3", "--json").stdout)["complexity"]["conv_macs"] == 136_500_672
    budget = run_cli("budget", "--mflops", "40").stdout
    assert "39.03 M" in budget and "42.7 %" in budget and "?groups=8&width=0.5&variant=arch2" in budget


@pytest.mark.slow
def test_ms_budget_measures_then_answers_from_the_store():
    args = ("--ms", "2", "--groups", "8", "--input", "64x64")
    first = budget_json(*args)
    assert first["budget"]["kind"] == "ms" and first["search"]["measured"] > 0
    assert first["latency"]["backend"] == "ort" and first["latency"]["threads"] == default_threads()
    assert all(r["latency_ms"] <= 2 for r in first["results"])
    second = budget_json(*args)
    assert second["search"]["measured"] == 0 and second["search"]["reused"] > 0 and second["search"]["seconds"] < 1
    assert [r["url"] for r in second["results"]] == [r["url"] for r in first["results"]]
    text = run_cli("budget", *args)
    assert "from the result store" in text.stdout and "Within 2 ms (ONNX Runtime FP32" in text.stdout.replace("\n", " ")
    assert_fits_80_columns(text.stdout)


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("--mflops", "40", "--params", "1"), ("--params", "--mflops")),
        (("--ms", "5", "--mflops", "40"), ("--mflops", "--ms")),
        (("--params", "1", "--ms", "5"), ("--ms", "--params")),
        (("--groups", "40"), ("--mflops", "--params", "--ms")),
    ],
)
def test_a_mix_of_budgets_or_none_is_one_line_and_exit_2(args, named):
    assert_one_line_usage_error(run_cli("budget", *args), *named)
