"""ShuffleNet v1 in PyTorch, built from a ``ShuffleNetConfig`` (Zhang et al., 2017).

The unit follows Fig. 2b/2c of the paper: 1x1 GConv -> BN -> ReLU -> channel shuffle ->
3x3 depthwise conv (stride s) -> BN -> 1x1 GConv -> BN, then an identity add (stride 1)
or a concat with a 3x3 average pool of the input (stride 2), then ReLU. The stages are
built from the plan's ``unit_specs``, the one place the unit rule is written.
"""

from __future__ import annotations

import torch
from torch import nn

from ..checks import refusal
from .config import ShuffleNetConfig
from .plan import STAGES, ChannelPlan, unit_specs


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Reshape channels to (groups, C/groups), transpose, flatten (Fig. 1c)."""
    batch, channels, height, width = x.shape
    if channels % groups:
        raise ValueError(f"channel_shuffle: {channels} channels do not divide into groups={groups}")
    x = x.view(batch, groups, channels // groups, height, width)
    return x.transpose(1, 2).reshape(batch, channels, height, width)


class ChannelShuffle(nn.Module):
    """``channel_shuffle`` as a module, so it shows up in the model and its exports."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(x, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


def conv_bn(in_ch: int, out_ch: int, kernel: int, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(in_ch, out_ch, kernel, stride, padding=kernel // 2, groups=groups, bias=False),
        nn.BatchNorm2d(out_ch),
    ]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ShuffleUnit(nn.Module):
    """One ShuffleNet unit; ``stride=2`` concatenates an average-pooled shortcut."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        groups: int,
        stride: int,
        shuffle: bool = True,
        first_groups: int | None = None,
    ) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise refusal("stride", stride, "1 or 2 (a ShuffleNet unit has no other stride)")
        if stride == 1 and in_channels != out_channels:
            raise ValueError(f"a stride-1 unit keeps its channels, got {in_channels} -> {out_channels}")
        first_groups = groups if first_groups is None else first_groups
        bottleneck = out_channels // 4
        branch_out = out_channels - in_channels if stride == 2 else out_channels
        for name, value, divisor in (
            ("bottleneck", bottleneck, groups),
            ("branch output", branch_out, groups),
            ("input", in_channels, first_groups),
        ):
            if value <= 0 or value % divisor:
                raise ValueError(f"{name} channels {value} must be a positive multiple of groups={divisor}")
        self.stride = stride
        self.groups = groups
        self.in_channels, self.out_channels, self.bottleneck = in_channels, out_channels, bottleneck
        self.compress = conv_bn(in_channels, bottleneck, 1, groups=first_groups)
        self.shuffle = ChannelShuffle(groups) if shuffle and groups > 1 else nn.Identity()
        self.depthwise = conv_bn(bottleneck, bottleneck, 3, stride, groups=bottleneck, relu=False)
        self.expand = conv_bn(bottleneck, branch_out, 1, groups=groups, relu=False)
        self.shortcut = nn.AvgPool2d(3, stride=2, padding=1) if stride == 2 else nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branch = self.expand(self.depthwise(self.shuffle(self.compress(x))))
        if self.stride == 2:
            return self.relu(torch.cat((self.shortcut(x), branch), dim=1))
        return self.relu(x + branch)


class ShuffleNet(nn.Module):
    """ShuffleNet v1: conv1, max-pool, Stages 2-4 of ShuffleUnits, global pool, FC."""

    def __init__(self, config: ShuffleNetConfig) -> None:
        super().__init__()
        self.config = config
        self.plan: ChannelPlan = config.plan()
        plan = self.plan
        self.conv1 = conv_bn(3, plan.conv1_channels, 3, stride=2)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        units: dict[int, list[nn.Module]] = {stage: [] for stage in STAGES}
        for spec in unit_specs(plan):  # channels only: the layers do not depend on the input size
            units[spec.stage].append(
                ShuffleUnit(
                    spec.in_channels, spec.out_channels, plan.groups, spec.stride, config.shuffle, spec.first_groups
                )
            )
        self.stage2, self.stage3, self.stage4 = (nn.Sequential(*units[stage]) for stage in STAGES)
        self.globalpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(plan.stage_channels[-1], config.num_classes)
        _init_weights(self)

    @property
    def stages(self) -> tuple[nn.Sequential, nn.Sequential, nn.Sequential]:
        return self.stage2, self.stage3, self.stage4  # type: ignore[return-value]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        return self.stage4(self.stage3(self.stage2(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.globalpool(self.features(x)), 1))


def _init_weights(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0, 0.01)
            nn.init.zeros_(module.bias)
