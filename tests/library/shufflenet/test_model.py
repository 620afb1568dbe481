"""The built network follows the paper's unit and network description."""

import pytest
import torch
from torch import nn

from explorer import AlexNetConfig, MobileNetConfig, ShuffleNetConfig, build_model, channel_shuffle
from explorer.paper import ALL_REPORTED, TABLE8
from explorer.shufflenet import ALEXNET_MIN_SIDE, ChannelShuffle, ShuffleUnit


def units(model):
    return [u for stage in model.stages for u in stage]


def test_channel_shuffle_matches_reshape_transpose_flatten_by_hand():
    groups, per_group = 3, 4
    x = torch.arange(groups * per_group, dtype=torch.float32).view(1, -1, 1, 1)
    shuffled = channel_shuffle(x, groups).flatten().tolist()
    expected = [g * per_group + i for i in range(per_group) for g in range(groups)]
    assert shuffled == expected


def test_channel_shuffle_rejects_indivisible_channels():
    with pytest.raises(ValueError, match="groups=5"):
        channel_shuffle(torch.zeros(1, 12, 2, 2), 5)


def test_unit_structure_matches_fig2():
    model = build_model(ShuffleNetConfig(groups=3))
    first, second = model.stage2[0], model.stage2[1]
    assert first.compress[0].groups == 1, "first 1x1 of Stage2 is not grouped"
    assert second.compress[0].groups == 3
    for unit in units(model):
        assert unit.bottleneck == unit.out_channels // 4
        assert unit.depthwise[0].groups == unit.bottleneck and unit.depthwise[0].kernel_size == (3, 3)
        assert unit.expand[0].groups == 3
        assert isinstance(unit.shuffle, ChannelShuffle)
        # the ReLU follows the first 1x1 only; the depthwise and last 1x1 are linear before the merge
        assert isinstance(unit.compress[-1], nn.ReLU)
        assert not any(isinstance(m, nn.ReLU) for m in (*unit.depthwise, *unit.expand))
        if unit.stride == 2:
            assert isinstance(unit.shortcut, nn.AvgPool2d)
            assert unit.expand[0].out_channels == unit.out_channels - unit.in_channels
        else:
            assert unit.expand[0].out_channels == unit.out_channels


def test_stride2_unit_concatenates_the_pooled_input():
    unit = ShuffleUnit(24, 240, groups=3, stride=2, first_groups=1).eval()
    x = torch.randn(1, 24, 8, 8)
    pooled = nn.AvgPool2d(3, 2, 1)(x)
    with torch.no_grad():
        branch = unit.expand(unit.depthwise(unit.shuffle(unit.compress(x))))
        out = unit(x)
    assert torch.allclose(out, torch.relu(torch.cat((pooled, branch), 1)))


def test_no_shuffle_removes_only_the_shuffle():
    on = build_model(ShuffleNetConfig(groups=8, shuffle=True))
    off = build_model(ShuffleNetConfig(groups=8, shuffle=False))
    assert sum(isinstance(m, ChannelShuffle) for m in on.modules()) == 16
    assert sum(isinstance(m, ChannelShuffle) for m in off.modules()) == 0
    shapes = lambda m: [tuple(p.shape) for p in m.parameters()]  # noqa: E731
    assert shapes(on) == shapes(off)
    off.load_state_dict(on.state_dict())  # same parameters, same names
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(on(x), off(x)), "the shuffle changes what the network computes"


def test_unit_rejects_invalid_channels():
    with pytest.raises(ValueError, match="multiple of groups=3"):
        ShuffleUnit(240, 250, groups=3, stride=2)
    with pytest.raises(ValueError, match="stride"):
        ShuffleUnit(240, 240, groups=3, stride=3)


def _paper_configs():
    configs = {r.config for r in ALL_REPORTED if r.config is not None}
    configs |= {row.config for row in TABLE8}
    return sorted(configs, key=repr)


@pytest.mark.parametrize("config", _paper_configs(), ids=lambda c: c.label)
def test_every_config_in_the_papers_tables_builds_and_runs(config):
    model = build_model(config)
    with torch.no_grad():
        out = model(torch.randn(1, 3, *config.input_size))
    assert out.shape == (1, 1000)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("size", [(480, 640), (720, 1280), (33, 47)])
@pytest.mark.parametrize(
    "config", [ShuffleNetConfig(groups=3, width=0.25), AlexNetConfig(), MobileNetConfig(0.25)], ids=lambda c: c.label
)
def test_non_square_inputs(config, size):
    if isinstance(config, AlexNetConfig) and min(size) < ALEXNET_MIN_SIDE:
        pytest.skip(f"AlexNet needs at least {ALEXNET_MIN_SIDE}x{ALEXNET_MIN_SIDE}")
    config = type(config)(**{**config.__dict__, "input_size": size})
    with torch.no_grad():
        assert build_model(config)(torch.randn(1, 3, *size)).shape == (1, 1000)


@pytest.mark.parametrize("size", [(ALEXNET_MIN_SIDE, ALEXNET_MIN_SIDE), (ALEXNET_MIN_SIDE, 1000)])
def test_alexnet_runs_at_its_smallest_allowed_side(size):
    with torch.no_grad():
        assert build_model(AlexNetConfig(input_size=size))(torch.randn(1, 3, *size)).shape[1] == 1000


@pytest.mark.parametrize("size", [(ALEXNET_MIN_SIDE - 1, 500), (64, 64)])
def test_alexnet_refuses_inputs_its_classifier_cannot_cover(size):
    with pytest.raises(ValueError, match=f"input_size=.* at least {ALEXNET_MIN_SIDE}x{ALEXNET_MIN_SIDE} for AlexNet"):
        AlexNetConfig(input_size=size)


def test_build_model_rejects_unknown_configs():
    with pytest.raises(ValueError, match="expected one of"):
        build_model("shufflenet")
