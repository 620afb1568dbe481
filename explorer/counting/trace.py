"""Count a built model: Table 1 layout, per-unit table and complexity, in one traced pass.

Everything here is read off the real ``nn.Module``: shapes and activations come from
forward hooks on one eager forward pass, multiply-adds and parameters from fvcore.
PyTorch FLOPs are 2 per multiply-add of convolutions and matmuls, which is exactly what
``torch.utils.flop_counter.FlopCounterMode`` reports (a test checks it on many configs);
running that mode here would triple the time of a count.

fvcore is a tracer: should it raise on some model (a new operator, a JIT change), the
counts fall back to kernel arithmetic on the shapes the same forward pass recorded
(``explorer.counting.shapes``, equal to fvcore for every layer here; a test says so).
``Complexity.counter`` then says so and why, and fvcore's own total is not available.

``count_model`` refuses a config whose estimated memory or time is over the limit
(``explorer.counting.estimate``) before building anything.
"""

from __future__ import annotations

import functools
import logging
from collections import defaultdict
from dataclasses import dataclass, field

import torch
from fvcore.nn import FlopCountAnalysis, parameter_count
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ..concurrency import counting_threads
from ..shufflenet import ModelConfig, ShuffleNet, ShuffleNetConfig, ShuffleUnit, build_model
from .conventions import CONVENTIONS
from .estimate import check_counting
from .shapes import ShapeRecorder

log = logging.getLogger(__name__)
FVCORE = "fvcore"


@dataclass(frozen=True)
class Quantity:
    """A computed number with its unit and counting convention."""

    key: str
    value: float | None  # None: this counter could not produce it (see ``Complexity.counter``)

    @property
    def label(self) -> str:
        return CONVENTIONS[self.key].label

    @property
    def unit(self) -> str:
        return CONVENTIONS[self.key].unit

    @property
    def convention(self) -> str:
        return CONVENTIONS[self.key].definition


@dataclass(frozen=True)
class Complexity:
    """All counts of one model for one image, each a ``Quantity`` (computed here)."""

    conv_macs: Quantity
    macs_with_fc: Quantity
    fvcore_flops: Quantity
    torch_flops: Quantity
    params: Quantity
    activations: Quantity
    activation_bytes: Quantity
    per_stage_macs: dict[str, int] = field(default_factory=dict)  # paper convention (FC listed apart)
    counter: str = FVCORE  # or a sentence saying why the fallback counted instead

    @property
    def quantities(self) -> tuple[Quantity, ...]:
        return tuple(getattr(self, key) for key in CONVENTIONS)

    @property
    def fell_back(self) -> bool:
        return self.counter != FVCORE

    def to_dict(self) -> dict:
        values = {f.key: None if f.value is None else int(f.value) for f in self.quantities}
        return {**values, "per_stage_macs": dict(self.per_stage_macs), "counter": self.counter}


@dataclass(frozen=True)
class LayoutRow:
    """One row of Table 1."""

    layer: str
    output_size: tuple[int, int] | None
    kernel: tuple[int, int] | None
    stride: int | None
    repeat: int | None
    output_channels: int | None


@dataclass(frozen=True)
class UnitRow:
    stage: int
    unit: int  # 1-based within the stage
    stride: int
    in_channels: int
    out_channels: int
    bottleneck: int
    first_groups: int
    last_groups: int
    shuffle: bool
    output_size: tuple[int, int]
    macs: int  # conv multiply-adds of the unit (fvcore)
    params: int


@dataclass(frozen=True)
class ModelCounts:
    config: ModelConfig
    complexity: Complexity
    layout: tuple[LayoutRow, ...] = ()
    units: tuple[UnitRow, ...] = ()
    plan: object | None = None


@dataclass(frozen=True)
class _Counts:
    by_operator: dict[str, int]  # "conv" / "linear" -> multiply-adds
    by_module: dict[str, dict[str, int]]  # module name (and every parent, "" for all) -> by operator
    params: dict[str, int]  # module name (and every parent) -> parameters
    total: int | None  # fvcore's own total, None in the fallback
    counter: str = FVCORE


def _fvcore_counts(model: nn.Module, image: torch.Tensor) -> _Counts:
    analysis = FlopCountAnalysis(model, image).unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    by_operator = analysis.by_operator()
    return _Counts(dict(by_operator), analysis.by_module_and_operator(), dict(parameter_count(model)), analysis.total())


def _parents(name: str) -> list[str]:
    """``"stage2.0.compress.0"`` -> ``["", "stage2", "stage2.0", "stage2.0.compress", "stage2.0.compress.0"]``."""
    parts = name.split(".") if name else []
    return [""] + [".".join(parts[: i + 1]) for i in range(len(parts))]


def _shape_counts(model: nn.Module, shapes: ShapeRecorder, reason: str) -> _Counts:
    """The same counts from the recorded shapes (conv and linear layers) and the parameters."""
    by_module: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for name, layer in shapes.layers.items():
        for parent in _parents(name):
            by_module[parent][layer.operator] += layer.macs
    params: dict[str, int] = defaultdict(int)
    for name, parameter in model.named_parameters():
        for parent in _parents(name.rpartition(".")[0]):
            params[parent] += parameter.numel()
    everything = by_module[""]
    return _Counts({"conv": everything["conv"], "linear": everything["linear"]}, by_module, params, None, reason)


def _counts(model: nn.Module, image: torch.Tensor, shapes: ShapeRecorder) -> _Counts:
    try:
        return _fvcore_counts(model, image)
    except Exception as error:  # noqa: BLE001 - whatever the tracer raises, the user keeps their numbers
        log.exception("fvcore failed on %s; counting from layer shapes instead", type(model).__name__)
        reason = f"fvcore failed ({type(error).__name__}: {str(error)[:160]}); counted from layer shapes instead"
        return _shape_counts(model, shapes, reason)


def torch_flop_counter_total(model: nn.Module, image: torch.Tensor) -> int:
    """PyTorch's own FLOP count, for checking the derived ``torch_flops`` figure."""
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(image)
    return counter.get_total_flops()


def _stage_macs(model: nn.Module, by_module: dict[str, dict[str, int]]) -> dict[str, int]:
    """Conv multiply-adds per top-level child (conv1, stage2, ...), FC under its own name."""
    stages = {}
    for name, _ in model.named_children():
        ops = by_module.get(name, {})
        stages[name] = int(ops.get("conv", 0) + ops.get("linear", 0))
    return stages


def _layout(model: ShuffleNet, shapes: ShapeRecorder) -> tuple[LayoutRow, ...]:
    image = shapes.inputs["conv1"]
    size = lambda name: tuple(shapes.outputs[name][2:])  # noqa: E731
    conv1, maxpool = model.conv1[0], model.maxpool
    rows = [
        LayoutRow("Image", tuple(image[2:]), None, None, None, image[1]),
        LayoutRow("Conv1", size("conv1"), conv1.kernel_size, conv1.stride[0], 1, conv1.out_channels),
        LayoutRow("MaxPool", size("maxpool"), (maxpool.kernel_size,) * 2, maxpool.stride, None, None),
    ]
    for stage_number, stage in enumerate(model.stages, start=2):
        name = f"stage{stage_number}"
        first, rest = stage[0], stage[1:]
        rows.append(LayoutRow(f"Stage{stage_number}", size(f"{name}.0"), None, first.stride, 1, first.out_channels))
        if len(rest):
            last = len(stage) - 1
            rows.append(LayoutRow("", size(f"{name}.{last}"), None, rest[0].stride, len(rest), rest[0].out_channels))
    pooled = tuple(shapes.inputs["globalpool"][2:])
    rows.append(LayoutRow("GlobalPool", size("globalpool"), pooled, None, None, None))
    rows.append(LayoutRow("FC", None, None, None, None, model.fc.out_features))
    return tuple(rows)


def _units(model: ShuffleNet, shapes: ShapeRecorder, by_module: dict, params: dict) -> tuple[UnitRow, ...]:
    rows = []
    for stage_number, stage in enumerate(model.stages, start=2):
        for index, unit in enumerate(stage):
            name = f"stage{stage_number}.{index}"
            assert isinstance(unit, ShuffleUnit)
            rows.append(
                UnitRow(
                    stage=stage_number,
                    unit=index + 1,
                    stride=unit.stride,
                    in_channels=shapes.inputs[name][1],
                    out_channels=shapes.outputs[name][1],
                    bottleneck=unit.bottleneck,
                    first_groups=unit.compress[0].groups,
                    last_groups=unit.expand[0].groups,
                    shuffle=not isinstance(unit.shuffle, nn.Identity),
                    output_size=tuple(shapes.outputs[name][2:]),
                    macs=int(by_module[name].get("conv", 0)),
                    params=int(params[name]),
                )
            )
    return tuple(rows)


@torch.no_grad()
def trace_model(config: ModelConfig, model: nn.Module | None = None) -> ModelCounts:
    """Trace ``model`` (built from ``config`` if not given) once and count everything."""
    model = build_model(config) if model is None else model
    image = torch.zeros(1, 3, *config.input_size)
    with ShapeRecorder(model) as shapes:
        model(image)
    counts = _counts(model, image, shapes)
    by_module, params = counts.by_module, counts.params
    conv, linear = counts.by_operator.get("conv", 0), counts.by_operator.get("linear", 0)
    complexity = Complexity(
        conv_macs=Quantity("conv_macs", conv),
        macs_with_fc=Quantity("macs_with_fc", conv + linear),
        fvcore_flops=Quantity("fvcore_flops", counts.total),
        torch_flops=Quantity("torch_flops", 2 * (conv + linear)),
        params=Quantity("params", params[""]),
        activations=Quantity("activations", shapes.activations),
        activation_bytes=Quantity("activation_bytes", shapes.activations * 4),
        per_stage_macs=_stage_macs(model, by_module),
        counter=counts.counter,
    )
    if not isinstance(model, ShuffleNet):
        return ModelCounts(config, complexity)
    return ModelCounts(
        config,
        complexity,
        layout=_layout(model, shapes),
        units=_units(model, shapes, by_module, params),
        plan=model.plan,
    )


@functools.lru_cache(maxsize=128)
def count_model(config: ModelConfig) -> ModelCounts:
    """``trace_model`` with a bounded cache: configs are frozen, so they key it directly.

    Raises ``explorer.counting.ResourceRefused`` (a ``ValueError``) before building a model
    whose count is estimated to exceed the memory or time limit.
    """
    check_counting(config)
    with counting_threads():
        return trace_model(config)


def complexity(config: ModelConfig) -> Complexity:
    return count_model(config).complexity


def layout(config: ShuffleNetConfig) -> tuple[LayoutRow, ...]:
    return count_model(config).layout


def unit_table(config: ShuffleNetConfig) -> tuple[UnitRow, ...]:
    return count_model(config).units
