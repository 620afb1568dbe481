"""What is built: the validated configs, ShuffleNet's channel plan and units, the models.

Config in (``ShuffleNetConfig``, ``AlexNetConfig``, ``MobileNetConfig``), ``nn.Module`` out
(``build_model``); ``plan`` holds the channel rounding rule, the one unit rule
(``unit_specs``) and the closed-form multiply-adds of a plan.
"""

from .build import alexnet, build_model, mobilenet_v1, shufflenet, shufflenet_arch2, shufflenet_shallow
from .config import (
    ALEXNET_MIN_SIDE,
    MAX_GROUPS,
    MAX_INPUT_SIDE,
    MIN_INPUT_SIDE,
    MOBILENET_WIDTHS,
    PAPER_GROUPS,
    PAPER_WIDTHS,
    VARIANTS,
    WIDTH_RANGE,
    AlexNetConfig,
    MobileNetConfig,
    ModelConfig,
    ShuffleNetConfig,
    config_from_dict,
    config_to_dict,
    parse_input_size,
)
from .model import ChannelShuffle, ShuffleNet, ShuffleUnit, channel_shuffle
from .plan import REFERENCE_INPUT, ChannelPlan, UnitSpec, channel_plan, plan_conv_macs, unit_specs
from .reference import AlexNet, MobileNetV1
