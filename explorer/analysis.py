"""Measure a built model: Table 1 layout, per-unit table and complexity, in one traced pass.

Everything here is read off the real ``nn.Module``: shapes and activations come from
forward hooks on one eager forward pass, multiply-adds and parameters from fvcore.
PyTorch FLOPs are 2 per multiply-add of convolutions and matmuls, which is exactly what
``torch.utils.flop_counter.FlopCounterMode`` reports (a test checks it on many configs);
running that mode here would triple the time of a count.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import torch
from fvcore.nn import FlopCountAnalysis, parameter_count
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from .config import ModelConfig, ShuffleNetConfig
from .conventions import CONVENTIONS
from .model import ShuffleNet, ShuffleUnit
from .models import build_model
from .threads import counting_threads


@dataclass(frozen=True)
class Figure:
    """A computed number with its unit and counting convention."""

    key: str
    value: float

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
    """All counts of one model for one image, each a ``Figure`` (computed here)."""

    conv_macs: Figure
    macs_with_fc: Figure
    fvcore_flops: Figure
    torch_flops: Figure
    params: Figure
    activations: Figure
    activation_bytes: Figure
    per_stage_macs: dict[str, int] = field(default_factory=dict)  # paper convention (FC listed apart)

    @property
    def figures(self) -> tuple[Figure, ...]:
        return tuple(getattr(self, key) for key in CONVENTIONS)

    def to_dict(self) -> dict:
        values = {f.key: int(f.value) for f in self.figures}
        return {**values, "per_stage_macs": dict(self.per_stage_macs)}


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
class ModelProfile:
    config: ModelConfig
    complexity: Complexity
    layout: tuple[LayoutRow, ...] = ()
    units: tuple[UnitRow, ...] = ()
    plan: object | None = None


class _ShapeRecorder:
    """Forward hooks that keep each module's input and output shape by name."""

    def __init__(self, model: nn.Module) -> None:
        self.inputs: dict[str, tuple[int, ...]] = {}
        self.outputs: dict[str, tuple[int, ...]] = {}
        self.activations = 0
        self._handles = [m.register_forward_hook(self._hook(name)) for name, m in model.named_modules()]
        self._counted = {m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))}

    def _hook(self, name: str):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            self.inputs[name] = tuple(int(s) for s in args[0].shape)
            self.outputs[name] = tuple(int(s) for s in output.shape)
            if module in self._counted:
                self.activations += int(output.numel())

        return hook

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def _fvcore(model: nn.Module, image: torch.Tensor) -> FlopCountAnalysis:
    analysis = FlopCountAnalysis(model, image)
    return analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)


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


def _layout(model: ShuffleNet, shapes: _ShapeRecorder) -> tuple[LayoutRow, ...]:
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


def _units(model: ShuffleNet, shapes: _ShapeRecorder, by_module: dict, params: dict) -> tuple[UnitRow, ...]:
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
def measure(config: ModelConfig, model: nn.Module | None = None) -> ModelProfile:
    """Trace ``model`` (built from ``config`` if not given) once and count everything."""
    model = build_model(config) if model is None else model
    image = torch.zeros(1, 3, *config.input_size)
    shapes = _ShapeRecorder(model)
    try:
        model(image)
    finally:
        shapes.remove()
    flops = _fvcore(model, image)
    by_operator = flops.by_operator()
    by_module = flops.by_module_and_operator()
    params = parameter_count(model)
    conv, linear = by_operator.get("conv", 0), by_operator.get("linear", 0)
    complexity = Complexity(
        conv_macs=Figure("conv_macs", conv),
        macs_with_fc=Figure("macs_with_fc", conv + linear),
        fvcore_flops=Figure("fvcore_flops", flops.total()),
        torch_flops=Figure("torch_flops", 2 * (conv + linear)),
        params=Figure("params", params[""]),
        activations=Figure("activations", shapes.activations),
        activation_bytes=Figure("activation_bytes", shapes.activations * 4),
        per_stage_macs=_stage_macs(model, by_module),
    )
    if not isinstance(model, ShuffleNet):
        return ModelProfile(config, complexity)
    return ModelProfile(
        config,
        complexity,
        layout=_layout(model, shapes),
        units=_units(model, shapes, by_module, params),
        plan=model.plan,
    )


@functools.lru_cache(maxsize=128)
def profile(config: ModelConfig) -> ModelProfile:
    """``measure`` with a bounded cache: configs are frozen, so they key it directly."""
    with counting_threads():
        return measure(config)


def complexity(config: ModelConfig) -> Complexity:
    return profile(config).complexity


def layout(config: ShuffleNetConfig) -> tuple[LayoutRow, ...]:
    return profile(config).layout


def unit_table(config: ShuffleNetConfig) -> tuple[UnitRow, ...]:
    return profile(config).units
