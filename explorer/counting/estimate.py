"""What a model will cost before anything is built: memory and time, against a limit.

Building a network is cheap (its weights: 72 MB for the widest ShuffleNet, 4x arch2 g=1).
What grows without bound is the work at the chosen input size: counting (one eager
forward pass plus one fvcore trace), an ONNX export (one traced pass) and a latency
measurement all hold the activations of a full-size image. A link like
``input=4096x4096`` with ``width=4`` must therefore be refused *before* it runs, with the
estimate and the limit, instead of swapping a shared laptop to death.

Estimates (``footprint``): closed form for a ShuffleNet (from the plan's ``unit_specs``,
equal to the built model's counts; a test says so), and a forward pass on PyTorch's
``meta`` device (shapes only, no memory, no compute) for the reference models. From the
footprint:

* memory = ``BASE_BYTES`` + weights + ``COUNT_ACTIVATION_FACTOR`` x every conv/linear output
  of one image (float32). The measured growth of resident memory while counting stayed near
  or under the activation bytes themselves (``benchmarks/limits.py``; BN, ReLU and concat
  temporaries come on top of them), so with that margin it is an upper bound, not a guess from below.
* time = ``BASE_SECONDS`` + weight initialisation + multiply-adds at one of two rates
  (one thread, both passes, this kind of 2-core machine): layers doing at least
  ``DENSE_MACS_PER_VALUE`` multiply-adds per output value run as efficient GEMMs
  (AlexNet, wide 1x1s); the rest (depthwise, narrow grouped 1x1s, conv1) are memory-bound
  and several times slower per multiply-add. Both rates are the slow end of what
  ``benchmarks/limits.py`` measured, so a quiet machine finishes well under the estimate.

The limits are read from the environment on every check, so a teacher can raise them
for one server without touching code: ``EXPLORER_MAX_MEMORY_MB`` (default 2048: safe
beside a browser on a few-GB laptop) and ``EXPLORER_MAX_SECONDS`` (default 60).

A latency measurement holds more than a count (exported copies of the weights, runtime
sessions, a batch of images), so it has its own guard (``check_memory``): it is refused
above the smaller of half the memory the machine has available and the same limit.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch

from ..shufflenet import ModelConfig, ShuffleNetConfig, build_model
from ..shufflenet.plan import conv1_macs, halve, unit_specs
from .shapes import ShapeRecorder

MEMORY_ENV = "EXPLORER_MAX_MEMORY_MB"
SECONDS_ENV = "EXPLORER_MAX_SECONDS"
DEFAULT_MEMORY_MB = 2048
DEFAULT_SECONDS = 60.0
BYTES_PER_VALUE = 4  # float32
BASE_BYTES = 64 * 2**20  # tracer and allocator overhead of one count, measured at 224x224
COUNT_ACTIVATION_FACTOR = 1.25  # conv/linear outputs, plus the BN/ReLU/concat temporaries beside them
BASE_SECONDS = 0.3  # building the model and the Python side of tracing it
INIT_PARAMS_PER_SECOND = 50e6  # random weight initialisation
DENSE_MACS_PER_VALUE = 256
DENSE_MACS_PER_SECOND = 4e9  # one thread, eager pass + fvcore trace
LIGHT_MACS_PER_SECOND = 0.8e9  # the same for depthwise / narrow grouped layers (g=8 is the slow case)
# Pages ask for a click above these (allowed, but long enough to surprise a user).
CONFIRM_SECONDS = 5.0
CONFIRM_BYTES = 512 * 2**20


class ResourceRefused(ValueError):
    """A request whose estimated memory or time exceeds the configured limit."""


@dataclass(frozen=True)
class Limits:
    memory_bytes: int
    seconds: float

    @classmethod
    def from_environment(cls) -> Limits:
        return cls(
            int(_positive_env(MEMORY_ENV, DEFAULT_MEMORY_MB) * 2**20), _positive_env(SECONDS_ENV, DEFAULT_SECONDS)
        )


def _positive_env(name: str, default: float) -> float:
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={text!r} is not allowed: {name} must be a positive number (default {default:g})")
    return value


@dataclass(frozen=True)
class Footprint:
    """What one image through the model touches, from shapes alone."""

    params: int
    activations: int  # conv and linear output values (the ``activations`` convention)
    largest_tensor: int  # values in the largest single output
    macs: int  # multiply-adds of convolutions and the classifier
    dense_macs: int  # the part in layers with at least DENSE_MACS_PER_VALUE multiply-adds per output value

    @property
    def weight_bytes(self) -> int:
        return self.params * BYTES_PER_VALUE

    @property
    def activation_bytes(self) -> int:
        return self.activations * BYTES_PER_VALUE


@dataclass(frozen=True)
class Cost:
    """Estimated peak memory and wall time of one job, and the limits it is checked against."""

    what: str
    memory_bytes: int
    seconds: float
    limits: Limits

    @property
    def fits(self) -> bool:
        return self.memory_bytes <= self.limits.memory_bytes and self.seconds <= self.limits.seconds

    @property
    def needs_confirmation(self) -> bool:
        return self.memory_bytes > CONFIRM_BYTES or self.seconds > CONFIRM_SECONDS

    def describe(self) -> str:
        return f"about {megabytes(self.memory_bytes)} of memory and {seconds_text(self.seconds)}"

    def refusal(self) -> str:
        over = []
        if self.memory_bytes > self.limits.memory_bytes:
            over.append(
                f"memory {megabytes(self.memory_bytes)} > {megabytes(self.limits.memory_bytes)}, set by `{MEMORY_ENV}`"
            )
        if self.seconds > self.limits.seconds:
            over.append(
                f"time {seconds_text(self.seconds)} > {seconds_text(self.limits.seconds)}, set by `{SECONDS_ENV}`"
            )
        return (
            f"{self.what} is refused: it is estimated to need {self.describe()}, over the limit "
            f"({'; '.join(over)}). Choose a smaller input size or width, or raise that limit."
        )


def megabytes(count: int) -> str:
    return f"{count / 2**20:,.0f} MB"


def seconds_text(seconds: float) -> str:
    return f"{seconds:.1f} s" if seconds < 100 else f"{seconds / 60:.1f} min"


def footprint(config: ModelConfig) -> Footprint:
    if isinstance(config, ShuffleNetConfig):
        return _shufflenet_footprint(config)
    return _meta_footprint(config)


def _shufflenet_footprint(config: ShuffleNetConfig) -> Footprint:
    plan = config.plan()
    height, width = halve(config.input_size)
    classes = config.num_classes
    c1 = plan.conv1_channels
    params = 27 * c1 + 2 * c1
    activations = largest = c1 * height * width
    macs, dense = conv1_macs(plan, config.input_size), 0
    for unit in unit_specs(plan, config.input_size):
        m, branch = unit.bottleneck, unit.branch_channels
        inner, outer = unit.in_size[0] * unit.in_size[1], unit.out_size[0] * unit.out_size[1]
        params += unit.params
        activations += m * inner + m * outer + branch * outer
        largest = max(largest, m * inner, unit.out_channels * outer)
        macs += unit.macs
        for per_value, values in (
            (unit.in_channels // unit.first_groups, m * inner),
            (m // unit.groups, branch * outer),
        ):
            dense += per_value * values if per_value >= DENSE_MACS_PER_VALUE else 0
    channels = plan.stage_channels[-1]
    params += channels * classes + classes
    classifier = channels * classes
    dense += classifier if channels >= DENSE_MACS_PER_VALUE else 0
    return Footprint(
        params,
        activations + classes,
        max(largest, 3 * config.input_size[0] * config.input_size[1]),
        macs + classifier,
        dense,
    )


@functools.lru_cache(maxsize=32)
def _meta_footprint(config: ModelConfig) -> Footprint:
    """Shapes from a forward pass on the ``meta`` device: no weights or activations allocated."""
    with torch.device("meta"):
        model = build_model(config)
    with ShapeRecorder(model) as shapes, torch.no_grad():
        model(torch.empty(1, 3, *config.input_size, device="meta"))
    layers = shapes.layers.values()
    dense = sum(layer.macs for layer in layers if layer.macs_per_output >= DENSE_MACS_PER_VALUE)
    params = sum(p.numel() for p in model.parameters())
    return Footprint(
        params, shapes.activations, max(shapes.largest_output, 3 * math.prod(config.input_size)), shapes.macs, dense
    )


def counting_cost(config: ModelConfig, limits: Limits | None = None, what: str | None = None) -> Cost:
    """Estimated cost of building, running and counting ``config`` for one image."""
    shape = footprint(config)
    memory = BASE_BYTES + shape.weight_bytes + round(COUNT_ACTIVATION_FACTOR * shape.activation_bytes)
    light = shape.macs - shape.dense_macs
    seconds = (
        BASE_SECONDS
        + shape.params / INIT_PARAMS_PER_SECOND
        + shape.dense_macs / DENSE_MACS_PER_SECOND
        + light / LIGHT_MACS_PER_SECOND
    )
    size = f"{config.input_size[0]}x{config.input_size[1]}"
    return Cost(what or f"counting {config.label} at {size}", memory, seconds, limits or Limits.from_environment())


def check(cost: Cost) -> Cost:
    """``cost`` if it fits its limits; ``ResourceRefused`` saying the estimate and the limit otherwise."""
    if not cost.fits:
        raise ResourceRefused(cost.refusal())
    return cost


def check_counting(config: ModelConfig, what: str | None = None) -> Cost:
    return check(counting_cost(config, what=what))


# --------------------------------------------------------------------------- latency measurements

MEMORY_FRACTION = 0.5  # of MemAvailable a measurement may plan to use
ACTIVATION_FACTOR = 2.0  # conv/linear outputs x2: BN/ReLU/concat temporaries, runtime arenas
WEIGHT_COPIES = {
    "torch": 1,
    "torch-cl": 2,
    "torch-fold": 2,
    "ort": 3,
    "ort-int8": 4,  # model + exports + sessions
    "openvino": 3,
    "openvino-int8": 4,
    "openvino-bf16": 3,
}  # OpenVINO: read model + compiled model
CALIBRATION_COPIES = 4  # INT8 calibration keeps every intermediate tensor of each calibration input


class MemoryRefused(ResourceRefused):
    """A measurement that would need more memory than the machine can spare."""


def available_memory() -> int:
    """Bytes the kernel reports as available (``MemAvailable`` in /proc/meminfo)."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def memory_limit(available: int) -> int:
    """The smaller of ``MEMORY_FRACTION`` of what is available and the configured limit."""
    return min(int(available * MEMORY_FRACTION), Limits.from_environment().memory_bytes)


@dataclass(frozen=True)
class MemoryEstimate:
    activation_bytes: int  # per image (conv + linear outputs, float32)
    weight_bytes: int
    batch: int
    backends: tuple[str, ...]
    total: int
    limit: int
    available: int

    @property
    def fits(self) -> bool:
        return self.total <= self.limit

    def message(self, label: str) -> str:
        gb = lambda b: f"{b / 1e9:.2f} GB"  # noqa: E731
        return (
            f"refused: {label} at batch {self.batch} needs about {gb(self.total)} "
            f"(activations {gb(self.activation_bytes)} per image x batch {self.batch} x {ACTIVATION_FACTOR:g} "
            f"+ weights {gb(self.weight_bytes)} x copies for {', '.join(self.backends)}), "
            f"but the limit is {gb(self.limit)} (the smaller of {MEMORY_FRACTION:.0%} of the {gb(self.available)} "
            f"available and `{MEMORY_ENV}`). Use a smaller batch or input."
        )


def activation_and_weight_bytes(config: ModelConfig) -> tuple[int, int]:
    """Activation bytes per image and weight bytes, from shapes alone (``footprint``).

    Nothing is built or run: for a huge input that would be the very allocation the guard
    must prevent. The figures equal the built model's counts (tests/library/counting/test_limits.py).
    """
    shape = footprint(config)
    return shape.activation_bytes, shape.weight_bytes


def memory_estimate(
    config: ModelConfig, batch: int, backends: Iterable[str], available: int | None = None
) -> MemoryEstimate:
    activations, weights = activation_and_weight_bytes(config)
    backends = tuple(backends)
    copies = max(WEIGHT_COPIES[b] for b in backends)
    image = BYTES_PER_VALUE * batch * 3 * math.prod(config.input_size)
    total = ACTIVATION_FACTOR * activations * batch + copies * weights + image
    if {"ort-int8", "openvino-int8"} & set(backends):  # the INT8 model is calibrated first
        total += CALIBRATION_COPIES * activations * batch
    available = available_memory() if available is None else available
    return MemoryEstimate(activations, weights, batch, backends, int(total), memory_limit(available), available)


def check_memory(
    config: ModelConfig, batch: int, backends: Iterable[str], available: int | None = None
) -> MemoryEstimate:
    estimate = memory_estimate(config, batch, backends, available)
    if not estimate.fits:
        raise MemoryRefused(estimate.message(config.label + f" at {config.input_size[0]}x{config.input_size[1]}"))
    return estimate
