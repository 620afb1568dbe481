"""Resource limits (estimate before building) and the fvcore fallback."""

from __future__ import annotations

import logging

import pytest
from conftest import open_app
from test_app_compare import table as compare_table

import explorer.counting.trace as analysis
from explorer import ShuffleNetConfig, count_model
from explorer.cli import main
from explorer.counting.estimate import (
    DEFAULT_MEMORY_MB,
    MEMORY_ENV,
    SECONDS_ENV,
    Limits,
    ResourceRefused,
    counting_cost,
    footprint,
)
from explorer.shufflenet import AlexNetConfig, MobileNetConfig

CONFIGS = [
    ShuffleNetConfig(),
    ShuffleNetConfig(groups=8, width=0.25, shuffle=False),
    ShuffleNetConfig(groups=1, width=2.0, variant="arch2", input_size=(97, 131)),
    ShuffleNetConfig(groups=7, width=0.5, variant="shallow", input_size=(33, 47)),
    ShuffleNetConfig(groups=2, width=0.1, num_classes=10, input_size=(480, 640)),
    AlexNetConfig(),
    AlexNetConfig(input_size=(480, 640)),
    MobileNetConfig(width=0.25, input_size=(97, 131)),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.label}@{c.input_size}")
def test_footprint_equals_the_built_models_counts(config):
    """The estimate is computed from shapes alone; it must equal what counting the real model finds."""
    shape, counted = footprint(config), count_model(config).complexity
    assert shape.params == counted.params.value
    assert shape.activations == counted.activations.value
    assert shape.macs == counted.macs_with_fc.value


def test_limits_default_and_environment(monkeypatch):
    monkeypatch.delenv(MEMORY_ENV, raising=False)
    monkeypatch.delenv(SECONDS_ENV, raising=False)
    assert Limits.from_environment() == Limits(DEFAULT_MEMORY_MB * 2**20, 60.0)
    monkeypatch.setenv(MEMORY_ENV, "512")
    monkeypatch.setenv(SECONDS_ENV, "2.5")
    assert Limits.from_environment() == Limits(512 * 2**20, 2.5)


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "inf", "lots"])
def test_bad_limit_in_the_environment_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv(SECONDS_ENV, bad)
    with pytest.raises(ValueError, match=f"{SECONDS_ENV}='{bad}' is not allowed: .* positive number"):
        Limits.from_environment()


def test_profile_refuses_before_building(monkeypatch):
    built = []
    monkeypatch.setattr(analysis, "build_model", lambda config: built.append(config))
    config = ShuffleNetConfig(groups=5, width=4.0, input_size=(4096, 4096))
    cost = counting_cost(config)
    assert not cost.fits
    with pytest.raises(ResourceRefused) as refused:
        count_model(config)
    message = str(refused.value)
    assert isinstance(refused.value, ValueError)
    assert f"{cost.memory_bytes / 2**20:,.0f} MB" in message and f"> {DEFAULT_MEMORY_MB:,} MB" in message
    assert MEMORY_ENV in message and SECONDS_ENV in message  # both limits are exceeded here
    assert built == []


def test_time_limit_alone_refuses(monkeypatch):
    monkeypatch.setenv(SECONDS_ENV, "0.5")
    config = ShuffleNetConfig(groups=3, width=1.5, input_size=(480, 640))
    with pytest.raises(ResourceRefused, match=r"time \d+\.\d s > 0\.5 s, set by `EXPLORER_MAX_SECONDS`"):
        count_model(config)


def test_cli_refusal_is_one_line(monkeypatch, capsys):
    monkeypatch.setenv(MEMORY_ENV, "100")
    count_model.cache_clear()  # a config counted before costs nothing and is not refused
    assert main(["size", "--groups", "6", "--width", "0.7", "--input", "480x640"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    [line] = captured.err.strip().splitlines()
    assert "is refused" in line and "> 100 MB" in line


def _fvcore_raises(*args, **kwargs):
    raise RuntimeError("unsupported operator aten::something")


@pytest.mark.parametrize(
    "config",
    [ShuffleNetConfig(groups=8, width=0.5, input_size=(97, 131)), AlexNetConfig(), MobileNetConfig(width=0.5)],
    ids=lambda c: c.label,
)
def test_fvcore_failure_falls_back_to_shape_arithmetic(monkeypatch, caplog, config):
    exact = analysis.trace_model(config)
    monkeypatch.setattr(analysis, "FlopCountAnalysis", _fvcore_raises)
    with caplog.at_level(logging.ERROR, logger="explorer.counting.trace"):
        fallback = analysis.trace_model(config)
    assert fallback.complexity.fell_back and not exact.complexity.fell_back
    assert "fvcore failed (RuntimeError: unsupported operator" in fallback.complexity.counter
    for computed, counted in zip(fallback.complexity.quantities, exact.complexity.quantities):
        expected = None if counted.key == "fvcore_flops" else counted.value
        assert computed.value == expected, counted.key
    assert fallback.complexity.per_stage_macs == exact.complexity.per_stage_macs
    assert fallback.units == exact.units and fallback.layout == exact.layout
    assert "Traceback" in caplog.text  # logged server-side with the traceback


def test_fvcore_failure_in_the_app_says_so_and_still_shows_counts(monkeypatch):
    from ui.shell.cache import cached_counts

    monkeypatch.setattr(analysis, "FlopCountAnalysis", _fvcore_raises)
    count_model.cache_clear()
    cached_counts.clear()
    try:
        at = open_app("pages/2_Complexity.py", {"groups": "6", "width": "0.35"})
    finally:
        count_model.cache_clear()
        cached_counts.clear()
    assert not at.exception
    [warning] = [w.value for w in at.warning if "fvcore failed" in w.value]
    assert "counted from layer shapes instead" in warning
    expected = analysis.trace_model(ShuffleNetConfig(groups=6, width=0.35)).complexity
    metrics = {m.label: m.value for m in at.metric}
    assert metrics[expected.conv_macs.label] == f"{expected.conv_macs.value / 1e6:.2f}M"
    table = at.dataframe[0].value.set_index("Figure")
    assert table.loc["fvcore total", "In millions"] == "not available"


def test_compare_confirms_each_large_model_once():
    """Compare counts several models: confirming one must not un-confirm another (it used to loop)."""
    at = open_app("pages/5_Compare.py", {"input": "1400x1400"})
    at.multiselect(key="compare_models").set_value(["Current model (sidebar)", "ShuffleNet 1x (g = 8)"]).run()
    asked = []
    while any(button.key == "confirm_large_input" for button in at.button):
        asked.append(next(w.value for w in at.warning if "is estimated to take" in w.value))
        assert len(asked) < 8, "the confirmation keeps coming back"
        at.button(key="confirm_large_input").click().run()
    assert not at.exception
    assert len(asked) >= 2 and len(set(asked)) == len(asked)  # several large models, each asked about once
    assert at.dataframe  # the side-by-side table is drawn


def test_compare_leaves_out_a_model_over_the_limit(monkeypatch):
    monkeypatch.setenv("EXPLORER_MAX_SECONDS", "2")  # AlexNet's count at 480x640 is estimated above 2 s
    at = open_app("pages/5_Compare.py", {"input": "480x640", "groups": "8", "width": "0.25"})
    at.multiselect(key="compare_models").set_value(["Current model (sidebar)", "AlexNet"]).run()
    assert not at.exception
    [warning] = [w.value for w in at.warning if "is left out" in w.value]
    assert warning.startswith("AlexNet is left out.") and "> 2.0 s" in warning
    models = compare_table(at)["Model"].tolist()
    assert "AlexNet" not in models and len(models) == 1
