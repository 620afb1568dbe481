"""Config validation and the channel rounding rule."""

import math

import pytest

from explorer import ShuffleNetConfig, parse_input_size
from explorer.shufflenet import AlexNetConfig, MobileNetConfig, channel_plan
from explorer.shufflenet.plan import conv1_channels

# Megvii's official ShuffleNet v1 release (PAPER.md): conv1, Stage2, Stage3, Stage4.
OFFICIAL = {
    (3, 0.5): (12, 120, 240, 480),
    (3, 1.0): (24, 240, 480, 960),
    (3, 1.5): (24, 360, 720, 1440),
    (3, 2.0): (48, 480, 960, 1920),
    (8, 0.5): (16, 192, 384, 768),
    (8, 1.0): (24, 384, 768, 1536),
    (8, 1.5): (24, 576, 1152, 2304),
    (8, 2.0): (48, 768, 1536, 3072),
}
TABLE1 = {1: (144, 288, 576), 2: (200, 400, 800), 3: (240, 480, 960), 4: (272, 544, 1088), 8: (384, 768, 1536)}


@pytest.mark.parametrize(("key", "channels"), OFFICIAL.items())
def test_official_channel_tables_exact(key, channels):
    groups, width = key
    plan = ShuffleNetConfig(groups=groups, width=width).plan()
    assert (plan.conv1_channels, *plan.stage_channels) == channels


@pytest.mark.parametrize(("groups", "channels"), TABLE1.items())
def test_table1_channels_exact(groups, channels):
    plan = ShuffleNetConfig(groups=groups).plan()
    assert plan.stage_channels == channels
    assert plan.conv1_channels == 24
    assert plan.stage_repeats == (4, 8, 4)


@pytest.mark.parametrize("groups", [1, 2, 3, 4, 5, 6, 7, 8, 12, 16, 64])
@pytest.mark.parametrize("width", [0.1, 0.25, 0.33, 0.5, 0.77, 1.0, 1.5, 2.0, 3.3, 4.0])
@pytest.mark.parametrize("variant", ["standard", "arch2", "shallow"])
def test_rounding_rule_keeps_every_group_convolution_divisible(groups, width, variant):
    plan = channel_plan(groups, width, variant)
    assert plan.conv1_channels % groups == 0
    previous = plan.conv1_channels
    for channels in plan.stage_channels:
        assert channels % (4 * groups) == 0, "bottleneck (out/4) must divide by g"
        assert (channels - previous) % groups == 0, "stride-2 concat branch must divide by g"
        assert channels > previous
        previous = channels


def test_conv1_rule_follows_powers_of_two_with_a_floor_of_12():
    assert [conv1_channels(1, w) for w in (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0)] == [12, 12, 24, 24, 48, 48, 96]
    assert conv1_channels(8, 0.25) == 16  # rounded up to a multiple of g


def test_variants_repeat_counts():
    assert ShuffleNetConfig(variant="arch2").plan().stage_repeats == (4, 6, 4)
    assert ShuffleNetConfig(variant="shallow").plan().stage_repeats == (2, 4, 2)
    assert ShuffleNetConfig(variant="standard").plan().widen == 1.0
    assert ShuffleNetConfig(variant="arch2").plan().widen > 1.0


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        ({"groups": 0}, "groups", "integer from 1 to 64"),
        ({"groups": -3}, "groups", "integer from 1 to 64"),
        ({"groups": 1000}, "groups", "integer from 1 to 64"),
        ({"groups": 2.5}, "groups", "integer"),
        ({"groups": True}, "groups", "integer"),
        ({"width": 0}, "width", "from 0.1 to 4.0"),
        ({"width": -1}, "width", "from 0.1 to 4.0"),
        ({"width": math.nan}, "width", "from 0.1 to 4.0"),
        ({"width": math.inf}, "width", "from 0.1 to 4.0"),
        ({"width": 1e9}, "width", "from 0.1 to 4.0"),
        ({"width": "1"}, "width", "number"),
        ({"variant": "x"}, "variant", "standard, arch2, shallow"),
        ({"shuffle": "yes"}, "shuffle", "True or False"),
        ({"input_size": (31, 31)}, "input_size", "from 32 to 4096"),
        ({"input_size": (0, 0)}, "input_size", "from 32 to 4096"),
        ({"input_size": (100000, 100000)}, "input_size", "from 32 to 4096"),
        ({"input_size": (224,)}, "input_size", "(height, width)"),
        ({"input_size": [224, 224]}, "input_size", "(height, width)"),
        ({"num_classes": 0}, "num_classes", "integer from 1"),
    ],
)
def test_invalid_values_name_field_value_and_what_is_allowed(changes, field, allowed):
    with pytest.raises(ValueError) as error:
        ShuffleNetConfig(**changes)
    message = str(error.value)
    assert message.startswith(f"{field}=")
    assert repr(next(iter(changes.values()))) in message
    assert allowed in message


def test_reference_configs_validate_too():
    with pytest.raises(ValueError, match="width="):
        MobileNetConfig(width=0)
    with pytest.raises(ValueError, match="input_size="):
        AlexNetConfig(input_size=(40, 40))


def test_parse_input_size():
    assert parse_input_size("480x640") == (480, 640)
    assert parse_input_size(" 720X1280 ") == (720, 1280)
    for bad in ("", "224", "axb", "-1x3", "1x1", "224x224x3", "1e3x4"):
        with pytest.raises(ValueError):
            parse_input_size(bad)


def test_configs_are_hashable_and_equal_by_value():
    assert ShuffleNetConfig(groups=3, width=1) == ShuffleNetConfig(groups=3, width=1.0)
    assert len({ShuffleNetConfig(), ShuffleNetConfig()}) == 1
