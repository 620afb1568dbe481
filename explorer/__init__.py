"""ShuffleNet Explorer: build, lay out and count ShuffleNet v1 and its reference models.

No Streamlit in here: configs in, models, tables and numbers out.
"""

from . import _no_telemetry  # noqa: F401 - first: ONNX Runtime reads it when it initialises
from .analysis import Complexity, Figure, LayoutRow, ModelProfile, UnitRow, complexity, layout, profile, unit_table
from .config import (
    PAPER_GROUPS,
    PAPER_WIDTHS,
    VARIANTS,
    AlexNetConfig,
    ChannelPlan,
    MobileNetConfig,
    ModelConfig,
    ShuffleNetConfig,
    parse_input_size,
)
from .conventions import CONVENTIONS, PAPER_CONVENTION
from .model import ChannelShuffle, ShuffleNet, ShuffleUnit, channel_shuffle
from .models import alexnet, build_model, mobilenet_v1, shufflenet, shufflenet_arch2, shufflenet_shallow

__all__ = [
    "CONVENTIONS",
    "PAPER_CONVENTION",
    "PAPER_GROUPS",
    "PAPER_WIDTHS",
    "VARIANTS",
    "AlexNetConfig",
    "ChannelPlan",
    "ChannelShuffle",
    "Complexity",
    "Figure",
    "LayoutRow",
    "MobileNetConfig",
    "ModelConfig",
    "ModelProfile",
    "ShuffleNet",
    "ShuffleNetConfig",
    "ShuffleUnit",
    "UnitRow",
    "alexnet",
    "build_model",
    "channel_shuffle",
    "complexity",
    "layout",
    "mobilenet_v1",
    "parse_input_size",
    "profile",
    "shufflenet",
    "shufflenet_arch2",
    "shufflenet_shallow",
    "unit_table",
]
