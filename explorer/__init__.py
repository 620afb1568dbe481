"""ShuffleNet Explorer: build, lay out, count, mix and time ShuffleNet v1 and its reference models.

No Streamlit in here: configs in, models, tables and numbers out. One subpackage per
question the app answers, in dependency order:

* ``shufflenet``: what is built (configs, channel plan, unit specs, models);
* ``paper``: what the paper reports (data anything may read);
* ``counting``: what it costs (multiply-adds, parameters, activations; estimates);
* ``mixing``: how channels mix (Fig. 1's toy, a stage predicted and measured);
* ``store``: what outlives a process (the SQLite file in the data directory and its tables);
* ``latency``: how fast it runs here (backends, runner, Table 8);
* ``devices``: how fast it runs in visitors' browsers (ONNX Runtime Web);
* ``sizing``: what fits a budget of multiply-adds, parameters or milliseconds, and the decision;
* ``commands``: the ``python -m explorer`` command line.

Below them all: ``checks``, ``concurrency`` and ``machine`` (CPU, cores, library versions).
"""

from . import _no_telemetry  # noqa: F401 - first: ONNX Runtime reads it when it initialises
from .counting import (
    CONVENTIONS,
    PAPER_CONVENTION,
    Complexity,
    LayoutRow,
    ModelCounts,
    Quantity,
    UnitRow,
    complexity,
    count_model,
    layout,
    unit_table,
)
from .shufflenet import (
    PAPER_GROUPS,
    PAPER_WIDTHS,
    VARIANTS,
    AlexNetConfig,
    ChannelPlan,
    ChannelShuffle,
    MobileNetConfig,
    ModelConfig,
    ShuffleNet,
    ShuffleNetConfig,
    ShuffleUnit,
    alexnet,
    build_model,
    channel_shuffle,
    mobilenet_v1,
    parse_input_size,
    shufflenet,
    shufflenet_arch2,
    shufflenet_shallow,
)

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
    "LayoutRow",
    "MobileNetConfig",
    "ModelConfig",
    "ModelCounts",
    "Quantity",
    "ShuffleNet",
    "ShuffleNetConfig",
    "ShuffleUnit",
    "UnitRow",
    "alexnet",
    "build_model",
    "channel_shuffle",
    "complexity",
    "count_model",
    "layout",
    "mobilenet_v1",
    "parse_input_size",
    "shufflenet",
    "shufflenet_arch2",
    "shufflenet_shallow",
    "unit_table",
]
