"""Shapes read off one forward pass: the one forward-hook recorder of the library.

``ShapeRecorder`` hooks every module of a model, by name, and keeps each one's input and
output shape; for every convolution and linear layer it also keeps the multiply-adds and
the output size, from the shapes alone (``layer_macs``). The traced pass reads the
Table 1 layout off it (and falls back to its counts when fvcore fails); the resource
estimate runs it on PyTorch's ``meta`` device, where nothing is allocated or computed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


def layer_macs(module: nn.Module, output: torch.Tensor) -> tuple[str, int]:
    """Multiply-adds of one conv or linear layer from its output shape, by operator name.

    A conv output value costs ``in_channels / groups * kernel area`` multiply-adds, a linear
    output value ``in_features``: what fvcore counts for these two layers.
    """
    if isinstance(module, nn.Conv2d):
        per_value = module.in_channels // module.groups * math.prod(module.kernel_size)
        return "conv", int(output.numel()) * per_value
    if isinstance(module, nn.Linear):
        return "linear", int(output.numel()) * module.in_features
    raise TypeError(f"layer_macs counts Conv2d and Linear layers, not {type(module).__name__}")


@dataclass(frozen=True)
class Layer:
    """One conv or linear layer as the forward pass met it."""

    operator: str  # "conv" or "linear"
    macs: int
    outputs: int  # output values

    @property
    def macs_per_output(self) -> float:
        return self.macs / self.outputs if self.outputs else 0.0


class ShapeRecorder:
    """Forward hooks on every module of ``model``; use as a context manager around one forward pass."""

    def __init__(self, model: nn.Module) -> None:
        self.inputs: dict[str, tuple[int, ...]] = {}
        self.outputs: dict[str, tuple[int, ...]] = {}
        self.layers: dict[str, Layer] = {}  # conv and linear layers, by module name
        self.largest_output = 0  # values in the largest output of any leaf module
        self._counted = {m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))}
        self._handles = [
            m.register_forward_hook(self._hook(name, not list(m.children()))) for name, m in model.named_modules()
        ]

    def _hook(self, name: str, leaf: bool):
        def hook(module: nn.Module, args: tuple, output: torch.Tensor) -> None:
            self.inputs[name] = tuple(int(s) for s in args[0].shape)
            self.outputs[name] = tuple(int(s) for s in output.shape)
            if leaf:
                self.largest_output = max(self.largest_output, int(output.numel()))
            if module in self._counted:
                operator, macs = layer_macs(module, output)
                self.layers[name] = Layer(operator, macs, int(output.numel()))

        return hook

    @property
    def activations(self) -> int:
        """Output values of every conv and linear layer (fvcore's activation count)."""
        return sum(layer.outputs for layer in self.layers.values())

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers.values())

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()

    def __enter__(self) -> ShapeRecorder:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()
