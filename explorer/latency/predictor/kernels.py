"""What a network runs, kernel by kernel, after the runtime's fusions: the predictor's unit of cost.

ONNX Runtime and OpenVINO fold each BatchNorm into the convolution before it and fuse
the ReLU after it, so what runs is not the PyTorch module list but a shorter list of
*kernels*. This module writes that list down in closed form, from the channel plan's
``unit_specs`` (``explorer.shufflenet.plan``) and the reference networks' layer tables,
without building any model:

* ``conv``: a k x k convolution with k > 1 that is not depthwise (ShuffleNet's conv1,
  AlexNet's convolutions and its 6x6 classifier, MobileNet's first layer), with
  BatchNorm folded and its ReLU fused;
* ``pointwise``: a 1x1 convolution, grouped (ShuffleNet's compress/expand GConvs with
  ``groups`` g) or dense (MobileNet's, AlexNet's fc7/fc8 run as 1x1 convolutions);
* ``depthwise``: a 3x3 depthwise convolution (groups = channels), stride 1 or 2;
* ``shuffle``: the channel shuffle's reshape-transpose-reshape;
* ``maxpool`` / ``avgpool``: 3x3 stride-2 pooling; ``globalpool``: the global average;
* ``concat``: the stride-2 unit's concat of the pooled shortcut and the branch, with its ReLU;
* ``add``: the stride-1 unit's residual add, with its ReLU;
* ``fc``: the classifier's matrix-vector product.

Each ``Kernel`` knows its multiply-adds, its activation and weight bytes (FP32) and the
layer type it belongs to, named as the Table 8 verdict's profile names layer types
(``explorer.latency.kernel_profile``): the prediction is reported per those names.
A test checks that the convolutions' multiply-adds sum to ``plan_conv_macs``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, replace

from ...shufflenet import AlexNetConfig, MobileNetConfig, ModelConfig, ShuffleNetConfig
from ...shufflenet.plan import halve, stem_output_size, unit_specs
from ...shufflenet.reference import MOBILENET_LAYERS
from ..kernel_profile import OTHER, SHUFFLENET_PARTS

# Kinds a backend folds into the kernel before them, so they cost nothing of their own: OpenVINO fuses the
# stride-1 unit's residual add and its ReLU into the expand convolution (its profiler shows the expand
# convolution taking the residual as a third input, and no add). ONNX Runtime fuses it too, except where the
# layouts differ: ``layout.ort_kernels`` keeps the adds it runs, and its layout reorders.
FUSED_BY_BACKEND: dict[str, frozenset[str]] = {"openvino": frozenset({"add"})}
REORDERS = ("reorder_in", "reorder_out")  # into the blocked layout and out of it (``layout``)
KINDS = ("conv", "pointwise", "depthwise", "shuffle", "maxpool", "avgpool", "globalpool", "concat", "add", "fc")
KINDS += REORDERS
CONV_KINDS = ("conv", "pointwise", "depthwise")
BYTES = 4  # FP32

_PART = {marker.strip("/"): label for marker, label in SHUFFLENET_PARTS}
LAYER_CONV1, LAYER_COMPRESS, LAYER_SHUFFLE = _PART["conv1"], _PART["compress"], _PART["shuffle"]
LAYER_DEPTHWISE, LAYER_EXPAND, LAYER_FC = _PART["depthwise"], _PART["expand"], _PART["fc"]
LAYER_OTHER = OTHER


def _out_side(side: int, kernel: int, stride: int, padding: int) -> int:
    return (side + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class Kernel:
    """One kernel as the runtime runs it: its kind, shapes, and the layer type it is reported under.

    ``size`` is the input's spatial size; ``extra_channels`` is the second input of a
    ``concat`` (the branch, concatenated after ``in_channels`` shortcut channels). ``inputs`` says which
    kernels' outputs it reads, counted back from it (1: the kernel before; past the first: the image).
    ``imbalance`` is how much longer its slowest thread runs than an even split of its work would
    (``layout.imbalance``; 1 unless the runtime splits the work unevenly).
    """

    kind: str
    layer: str
    in_channels: int
    out_channels: int
    size: tuple[int, int]
    kernel: int = 1
    stride: int = 1
    padding: int = 0
    groups: int = 1
    relu: bool = False
    extra_channels: int = 0
    inputs: tuple[int, ...] = (1,)
    imbalance: float = 1.0

    @property
    def out_size(self) -> tuple[int, int]:
        if self.kind in ("globalpool", "fc"):
            return (1, 1)
        if self.kind in ("shuffle", "concat", "add"):
            return self.size
        return (
            _out_side(self.size[0], self.kernel, self.stride, self.padding),
            _out_side(self.size[1], self.kernel, self.stride, self.padding),
        )

    @property
    def in_elements(self) -> int:
        return (self.in_channels + self.extra_channels) * self.size[0] * self.size[1]

    @property
    def out_elements(self) -> int:
        return self.out_channels * self.out_size[0] * self.out_size[1]

    @property
    def weights(self) -> int:
        if self.kind in CONV_KINDS:
            return self.out_channels * (self.in_channels // self.groups) * self.kernel**2
        return self.in_channels * self.out_channels if self.kind == "fc" else 0

    @property
    def macs(self) -> int:
        if self.kind in CONV_KINDS:
            return self.out_elements * (self.in_channels // self.groups) * self.kernel**2
        return self.weights if self.kind == "fc" else 0

    @property
    def activation_bytes(self) -> int:
        """Bytes of the input and output feature maps (what a memory-bound kernel streams)."""
        return BYTES * (self.in_elements + self.out_elements)

    @property
    def weight_bytes(self) -> int:
        return BYTES * self.weights

    def to_dict(self) -> dict:
        return {**asdict(self), "size": list(self.size), "inputs": list(self.inputs)}

    @classmethod
    def from_dict(cls, values: dict) -> Kernel:
        return cls(**{**values, "size": tuple(values["size"]), "inputs": tuple(values.get("inputs", (1,)))})


def _conv(
    layer: str,
    cin: int,
    cout: int,
    size: tuple[int, int],
    kernel: int,
    stride: int = 1,
    padding: int | None = None,
    groups: int = 1,
    relu: bool = True,
) -> Kernel:
    """A convolution kernel (BN folded, ReLU fused when ``relu``), its kind read off its shape."""
    kind = "depthwise" if groups == cin == cout and groups > 1 else ("pointwise" if kernel == 1 else "conv")
    padding = kernel // 2 if padding is None else padding
    return Kernel(kind, layer, cin, cout, size, kernel, stride, padding, groups, relu)


def _unit_kernels(spec, groups: int, shuffle: bool) -> list[Kernel]:
    """The kernels of one ShuffleNet unit (``explorer.shufflenet.model.ShuffleUnit``)."""
    m, size = spec.bottleneck, spec.in_size
    kernels = [_conv(LAYER_COMPRESS, spec.in_channels, m, size, 1, groups=spec.first_groups)]
    if shuffle and groups > 1:
        kernels.append(Kernel("shuffle", LAYER_SHUFFLE, m, m, size, groups=groups))
    kernels.append(_conv(LAYER_DEPTHWISE, m, m, size, 3, spec.stride, groups=m, relu=False))
    kernels.append(_conv(LAYER_EXPAND, m, spec.branch_channels, spec.out_size, 1, groups=groups, relu=False))
    unit_input = len(kernels) + 1  # back from the kernel after the expand: the unit's input
    if spec.stride == 2:
        shortcut = Kernel("avgpool", LAYER_OTHER, spec.in_channels, spec.in_channels, size, 3, 2, 1)
        kernels.append(replace(shortcut, inputs=(unit_input,)))
        kernels.append(
            Kernel(
                "concat",
                LAYER_OTHER,
                spec.in_channels,
                spec.out_channels,
                spec.out_size,
                relu=True,
                extra_channels=spec.branch_channels,
                inputs=(1, 2),
            )
        )
    else:
        residual = Kernel("add", LAYER_EXPAND, spec.out_channels, spec.out_channels, spec.out_size, relu=True)
        kernels.append(replace(residual, inputs=(1, unit_input)))
    return kernels


def shufflenet_kernels(config: ShuffleNetConfig) -> list[Kernel]:
    """Every kernel of a ShuffleNet, in order, from its channel plan (no model is built)."""
    plan, size = config.plan(), config.input_size
    c1 = plan.conv1_channels
    kernels = [_conv(LAYER_CONV1, 3, c1, size, 3, 2), Kernel("maxpool", LAYER_OTHER, c1, c1, halve(size), 3, 2, 1)]
    for spec in unit_specs(plan, size):
        kernels += _unit_kernels(spec, plan.groups, config.shuffle)
    last = plan.stage_channels[-1]
    final = stem_output_size(size)
    for _ in range(3):
        final = halve(final)
    kernels.append(Kernel("globalpool", LAYER_OTHER, last, last, final))
    kernels.append(Kernel("fc", LAYER_FC, last, config.num_classes, (1, 1)))
    return kernels


def _conv_layer(kernel: int, classifier: bool = False) -> str:
    """The reference models' layer types, as ``kernel_profile.categorize`` names them."""
    return f"{kernel}x{kernel} conv" + (" (classifier)" if classifier else "")


ALEXNET_FEATURES = (
    (3, 96, 11, 4, 2, 1, True),
    (96, 256, 5, 1, 2, 2, True),
    (256, 384, 3, 1, 1, 1, False),
    (384, 384, 3, 1, 1, 2, False),
    (384, 256, 3, 1, 1, 2, True),
)  # cin, cout, k, s, pad, g, pool
ALEXNET_CLASSIFIER = ((256, 4096, 6, True), (4096, 4096, 1, True))  # then 4096 -> classes, 1x1, no ReLU


def alexnet_kernels(config: AlexNetConfig) -> list[Kernel]:
    """AlexNet's kernels (``explorer.shufflenet.reference.AlexNet``), its classifier run as convolutions."""
    size, kernels = config.input_size, []
    for cin, cout, k, stride, pad, groups, pool in ALEXNET_FEATURES:
        conv = _conv(_conv_layer(k), cin, cout, size, k, stride, pad, groups)
        kernels.append(conv)
        size = conv.out_size
        if pool:
            kernels.append(Kernel("maxpool", LAYER_OTHER, cout, cout, size, 3, 2, 0))
            size = kernels[-1].out_size
    layers = ALEXNET_CLASSIFIER + ((4096, config.num_classes, 1, False),)
    for cin, cout, k, relu in layers:
        conv = _conv(_conv_layer(k, True), cin, cout, size, k, 1, 0, 1, relu)
        kernels.append(conv)
        size = conv.out_size
    kernels.append(Kernel("globalpool", LAYER_OTHER, config.num_classes, config.num_classes, size))
    return kernels


def mobilenet_kernels(config: MobileNetConfig) -> list[Kernel]:
    """MobileNet v1's kernels (``explorer.shufflenet.reference.MobileNetV1``): depthwise-separable layers."""

    def scale(c: int) -> int:
        return max(8, int(c * config.width))

    first = _conv(_conv_layer(3), 3, scale(32), config.input_size, 3, 2)
    kernels, channels, size = [first], scale(32), first.out_size
    for out, stride in MOBILENET_LAYERS:
        depthwise = _conv("3x3 depthwise conv", channels, channels, size, 3, stride, groups=channels)
        kernels += [depthwise, _conv(_conv_layer(1), channels, scale(out), depthwise.out_size, 1)]
        channels, size = scale(out), depthwise.out_size
    kernels.append(Kernel("globalpool", LAYER_OTHER, channels, channels, size))
    kernels.append(Kernel("fc", LAYER_FC, channels, config.num_classes, (1, 1)))
    return kernels


def decompose(config: ModelConfig) -> list[Kernel]:
    """The kernels ``config`` runs, in order: ShuffleNet (any g, width, variant, shuffle, input) or a reference."""
    if isinstance(config, ShuffleNetConfig):
        return shufflenet_kernels(config)
    if isinstance(config, AlexNetConfig):
        return alexnet_kernels(config)
    if isinstance(config, MobileNetConfig):
        return mobilenet_kernels(config)
    raise TypeError(f"no kernel decomposition for {type(config).__name__}")


@functools.lru_cache(maxsize=4096)
def cached_kernels(config: ModelConfig) -> tuple[Kernel, ...]:
    """``decompose(config)``, kept: configs are frozen and hashable."""
    return tuple(decompose(config))


def conv_macs(kernels: list[Kernel]) -> int:
    """Multiply-adds of the convolutions (the paper's convention: FC excluded)."""
    return sum(k.macs for k in kernels if k.kind in CONV_KINDS)


def total_macs(kernels: list[Kernel]) -> int:
    return sum(k.macs for k in kernels)


def spatial_scale(kernel: Kernel) -> float:
    """log2 of the output pixels: a summary of where a kernel sits between 32x32 and 720x1280 inputs."""
    h, w = kernel.out_size
    return math.log2(max(1, h * w))
