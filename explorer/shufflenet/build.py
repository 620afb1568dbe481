"""One entry point to build any model the explorer knows, and thin named factories."""

from __future__ import annotations

from torch import nn

from .config import AlexNetConfig, MobileNetConfig, ModelConfig, ShuffleNetConfig
from .model import ShuffleNet
from .reference import AlexNet, MobileNetV1

_BUILDERS: dict[type, type[nn.Module]] = {
    ShuffleNetConfig: ShuffleNet,
    AlexNetConfig: AlexNet,
    MobileNetConfig: MobileNetV1,
}


def build_model(config: ModelConfig) -> nn.Module:
    """A freshly initialised model in eval mode (random weights: nothing is downloaded)."""
    builder = _BUILDERS.get(type(config))
    if builder is None:
        raise ValueError(
            f"config={config!r} is not allowed: expected one of {', '.join(t.__name__ for t in _BUILDERS)}"
        )
    return builder(config).eval()


def shufflenet(groups: int = 3, width: float = 1.0, **kwargs) -> ShuffleNetConfig:
    return ShuffleNetConfig(groups=groups, width=width, **kwargs)


def shufflenet_arch2(groups: int = 3, width: float = 1.0, **kwargs) -> ShuffleNetConfig:
    return ShuffleNetConfig(groups=groups, width=width, variant="arch2", **kwargs)


def shufflenet_shallow(groups: int = 3, width: float = 1.0, **kwargs) -> ShuffleNetConfig:
    return ShuffleNetConfig(groups=groups, width=width, variant="shallow", **kwargs)


def alexnet(**kwargs) -> AlexNetConfig:
    return AlexNetConfig(**kwargs)


def mobilenet_v1(width: float = 1.0, **kwargs) -> MobileNetConfig:
    return MobileNetConfig(width=width, **kwargs)
