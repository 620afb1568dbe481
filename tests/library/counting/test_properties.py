"""Property-based: every config either builds and reports consistent numbers, or is refused."""

import math

import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from explorer import ShuffleNetConfig, build_model, count_model
from explorer.shufflenet import MAX_INPUT_SIDE, VARIANTS, WIDTH_RANGE, plan_conv_macs

configs = st.builds(
    ShuffleNetConfig,
    groups=st.integers(1, 16),
    width=st.floats(0.1, 1.2, allow_nan=False),
    variant=st.sampled_from(["standard", "arch2", "shallow"]),
    shuffle=st.booleans(),
    input_size=st.tuples(st.integers(32, 120), st.integers(32, 120)),
    num_classes=st.integers(1, 50),
)


def _walk_shapes(model, config):
    """Run the model part by part, outside the library, and keep every stage's real shape."""
    shapes = {}
    with torch.no_grad():
        x = torch.zeros(1, 3, *config.input_size)
        shapes["Image"] = tuple(x.shape[1:])
        x = model.conv1(x)
        shapes["Conv1"] = tuple(x.shape[1:])
        x = model.maxpool(x)
        shapes["MaxPool"] = tuple(x.shape[1:])
        for number, stage in enumerate(model.stages, start=2):
            first, *repeated = stage
            x = first(x)
            shapes[f"Stage{number}"] = tuple(x.shape[1:])
            for unit in repeated:
                x = unit(x)
            shapes[f"Stage{number} repeat"] = tuple(x.shape[1:])
        x = model.globalpool(x)
        shapes["GlobalPool"] = tuple(x.shape[1:])
        shapes["FC"] = (model.fc(torch.flatten(x, 1)).shape[1],)
    return shapes


# Example counts are bounded for time: each example builds and traces a model. The closed form
# per unit is checked on a fixed sweep of 28 configs (tests/library/counting/test_complexity.py), refusals on
# 200 examples below and every bad field in tests/app/test_hardening_inputs.py.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs)
def test_random_configs_build_run_and_their_layout_matches_real_shapes(config):
    model = build_model(config)
    real = _walk_shapes(model, config)
    rows = count_model(config).layout
    by_name, stage = {}, ""
    for row in rows:  # Table 1 leaves the repeat row of a stage unnamed
        stage = row.layer or stage
        by_name[row.layer or f"{stage} repeat"] = row
    for name in ("Image", "Conv1", "Stage2", "Stage2 repeat", "Stage3", "Stage3 repeat", "Stage4", "Stage4 repeat"):
        channels, *size = real[name]
        assert by_name[name].output_channels == channels, name
        assert by_name[name].output_size == tuple(size), name
    assert by_name["MaxPool"].output_size == real["MaxPool"][1:]
    assert by_name["GlobalPool"].output_size == (1, 1)
    assert by_name["FC"].output_channels == real["FC"][0] == config.num_classes
    repeats = [r.repeat for r in rows if r.layer.startswith("Stage") or r.layer == ""]
    assert sum(repeats) == sum(config.plan().stage_repeats)


@settings(max_examples=15, deadline=None)
@given(configs)
def test_random_configs_count_consistently(config):
    result = count_model(config).complexity
    assert result.conv_macs.value == plan_conv_macs(config.plan(), config.input_size)
    assert result.conv_macs.value < result.macs_with_fc.value < result.fvcore_flops.value
    assert sum(u.macs for u in count_model(config).units) + result.per_stage_macs["conv1"] == result.conv_macs.value


@settings(max_examples=200, deadline=None)
@given(
    groups=st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=True), st.text(max_size=5), st.none()),
    width=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10**9), st.text(max_size=5)),
    variant=st.one_of(st.sampled_from(["standard", "arch2", "shallow"]), st.text(max_size=8)),
    side=st.one_of(st.integers(-10, 10**6), st.floats(allow_nan=True)),
)
def test_any_input_is_either_a_config_or_a_value_error(groups, width, variant, side):
    try:
        config = ShuffleNetConfig(groups=groups, width=width, variant=variant, input_size=(side, side))
    except ValueError as error:
        assert "is not allowed" in str(error)
        return
    plan = config.plan()
    assert all(c % (4 * config.groups) == 0 for c in plan.stage_channels)
    assert math.isfinite(config.width)


# ---------------------------------------------------------------- the whole config space

# Anything a caller might pass by mistake, for any field.
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=6),
    st.binary(max_size=3),
    st.lists(st.integers(0, 300), max_size=3),
    st.just(VARIANTS),
)
# Valid values are kept small (width up to 2x, 32-64 px) so that configs that build profile
# quickly; wider ones are valid too, they only cost more time here.
valid_fields = {
    "groups": st.integers(1, 64),
    "width": st.floats(WIDTH_RANGE[0], 2.0),
    "variant": st.sampled_from(VARIANTS),
    "shuffle": st.booleans(),
    "input_size": st.tuples(st.integers(32, 64), st.integers(32, 64)),
}
bad_side = st.one_of(st.integers(-10, 31), st.integers(MAX_INPUT_SIDE + 1, 10**12), st.just(0))
side = st.one_of(st.integers(32, 64), bad_side)
any_fields = {
    "groups": st.one_of(st.integers(-5, 200), anything),
    "width": st.one_of(
        st.floats(WIDTH_RANGE[0], 2.0),
        st.sampled_from(
            [
                WIDTH_RANGE[1],
                0.0,
                -0.0,
                5e-324,
                1e-300,
                0.0999999,
                4.0000001,
                1e9,
                1e300,
                -1.0,
                math.nan,
                math.inf,
                -math.inf,
            ]
        ),
        anything,
    ),
    "variant": st.one_of(st.sampled_from(VARIANTS), st.text(max_size=10), anything),
    "shuffle": st.one_of(st.booleans(), anything),
    "input_size": st.one_of(st.tuples(side, side), st.lists(side, max_size=3).map(tuple), st.tuples(side), anything),
}
valid = st.fixed_dictionaries(valid_fields)
# A valid config with one field replaced by anything: the refusal must come from that field.
one_field_off = st.tuples(valid, st.sampled_from(sorted(any_fields))).flatmap(
    lambda pair: any_fields[pair[1]].map(lambda value: {**pair[0], pair[1]: value})
)
space = st.one_of(valid, one_field_off, st.fixed_dictionaries(any_fields))


def assert_profile_consistent(config: ShuffleNetConfig, result) -> None:
    """Counts agree with each other, and the Table 1 layout with the per-unit table."""
    counts = result.complexity
    assert 0 < counts.conv_macs.value <= counts.macs_with_fc.value
    assert counts.params.value > 0 and counts.activations.value > 0
    plan = config.plan()
    rows = {row.layer: row for row in result.layout if row.layer}
    assert rows["Conv1"].output_channels == plan.conv1_channels
    stage_rows, stage = {}, ""
    for row in result.layout:  # a stage's repeat row is unnamed in Table 1
        stage = row.layer or stage
        if stage.startswith("Stage"):
            stage_rows.setdefault(int(stage[-1]), []).append(row)
    previous = plan.conv1_channels
    for number, channels, repeats in zip((2, 3, 4), plan.stage_channels, plan.stage_repeats):
        units = [u for u in result.units if u.stage == number]
        assert len(units) == repeats == sum(r.repeat for r in stage_rows[number])
        assert {r.output_channels for r in stage_rows[number]} == {u.out_channels for u in units} == {channels}
        assert [u.in_channels for u in units] == [previous] + [channels] * (repeats - 1)
        previous = channels


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(space)
def test_whole_config_space_either_builds_consistent_numbers_or_raises_value_error(fields):
    try:
        config = ShuffleNetConfig(**fields)
    except ValueError as error:
        assert "is not allowed" in str(error)
        event("refused by the config")
        return
    try:
        result = count_model(config)
    except ValueError:  # the resource limit (explorer.counting.ResourceRefused) is a ValueError
        event("refused by the resource limit")
        return
    event("built and profiled")
    assert_profile_consistent(config, result)
