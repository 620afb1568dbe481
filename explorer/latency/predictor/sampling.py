"""The kernels a calibration times, drawn from the networks themselves.

Every kernel of every ShuffleNet on a grid spanning the allowed space (g 1, 2, 3, 4, 8, 16, 32, 64; width 0.1
to 4.0; the three variants; inputs 32x32, 224x224, 480x640 and 720x1280) and of the
reference networks (AlexNet at 224x224 and 480x640, MobileNet v1 at its four widths) is
pooled, de-duplicated by shape, and drawn per kernel kind: first, for each feature a
predictor reads (multiply-adds, input and output elements, weights, groups), the pooled
kernels with the smallest and largest value, so the sampled ranges equal the pool's;
then, per power-of-two bucket of groups, kernels spread evenly over the log of their size
(kinds a backend fuses away, ``kernels.FUSED_BY_BACKEND``, are not timed). Kernels above ``MAX_SAMPLE_MACS``
(AlexNet's classifier at 720x1280, about 2 s a run) are left out: predictions that need
them say they extrapolate.
"""

from __future__ import annotations

import functools
import math

from ...shufflenet import AlexNetConfig, MobileNetConfig, ShuffleNetConfig
from ...shufflenet.config import MOBILENET_WIDTHS, VARIANTS
from .kernels import KINDS, Kernel, decompose

POOL_GROUPS = (1, 2, 3, 4, 8, 16, 32, 64)
POOL_WIDTHS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0)
POOL_INPUTS = ((32, 32), (224, 224), (480, 640), (720, 1280))
REFERENCE_INPUTS = ((224, 224), (480, 640))
MAX_SAMPLE_MACS = 2e9
SAMPLE_COUNTS = {
    "pointwise": 120,
    "depthwise": 60,
    "conv": 40,
    "shuffle": 40,
    "maxpool": 16,
    "avgpool": 20,
    "globalpool": 16,
    "concat": 24,
    "add": 30,
    "fc": 16,
}
RANGE_FEATURES = ("macs", "in_elements", "out_elements", "weights", "groups")


def _shape_key(kernel: Kernel) -> tuple:
    """A kernel's identity for timing: everything but the layer type it is reported under."""
    return (
        kernel.kind,
        kernel.in_channels,
        kernel.out_channels,
        kernel.size,
        kernel.kernel,
        kernel.stride,
        kernel.padding,
        kernel.groups,
        kernel.relu,
        kernel.extra_channels,
    )


def _pool_configs() -> list:
    shufflenets = [
        ShuffleNetConfig(g, w, v, True, size)
        for g in POOL_GROUPS
        for w in POOL_WIDTHS
        for v in VARIANTS
        for size in POOL_INPUTS
    ]
    references = [AlexNetConfig(size) for size in REFERENCE_INPUTS]
    references += [MobileNetConfig(w, size) for w in MOBILENET_WIDTHS for size in REFERENCE_INPUTS]
    return shufflenets + references


@functools.lru_cache(maxsize=1)
def kernel_pool() -> dict[str, tuple[Kernel, ...]]:
    """Every distinct kernel of the pooled networks, per kind, under ``MAX_SAMPLE_MACS``."""
    found: dict[tuple, Kernel] = {}
    for config in _pool_configs():
        for kernel in decompose(config):
            if kernel.macs <= MAX_SAMPLE_MACS:
                found.setdefault(_shape_key(kernel), kernel)
    return {kind: tuple(k for k in found.values() if k.kind == kind) for kind in KINDS}


def _size(kernel: Kernel) -> float:
    return math.log(1 + kernel.macs + kernel.in_elements + kernel.out_elements)


def _spread(kernels: list[Kernel], count: int) -> list[Kernel]:
    """``count`` kernels evenly spaced over log size."""
    ordered = sorted(kernels, key=_size)
    return [ordered[round((i + 0.5) * (len(ordered) - 1) / max(1, count))] for i in range(count)]


def select(pool: tuple[Kernel, ...], count: int) -> list[Kernel]:
    """``count`` kernels: each range feature's extremes, then per power-of-two bucket of groups (so that g 1
    to 64 are all timed: G2 is about them) kernels evenly spread over log size (deterministic)."""
    chosen: dict[tuple, Kernel] = {}
    for name in RANGE_FEATURES:
        for pick in (min, max):
            kernel = pick(pool, key=lambda k: (getattr(k, name), _size(k)))
            chosen.setdefault(_shape_key(kernel), kernel)
    buckets: dict[int, list[Kernel]] = {}
    for kernel in pool:
        buckets.setdefault(round(math.log2(kernel.groups)), []).append(kernel)
    slots = max(0, count - len(chosen))
    keys = sorted(buckets)
    for position, key in enumerate(keys):
        share = slots * (position + 1) // len(keys) - slots * position // len(keys)
        for kernel in _spread(buckets[key], share):
            chosen.setdefault(_shape_key(kernel), kernel)
    return list(chosen.values())


def sampled_kernels(scale: float = 1.0, skip: frozenset[str] = frozenset()) -> list[Kernel]:
    """The kernels a calibration times: ``SAMPLE_COUNTS`` (times ``scale``) per kind, but the ``skip`` kinds."""
    pool = kernel_pool()
    kernels: list[Kernel] = []
    for kind in KINDS:
        if pool[kind] and kind not in skip:
            kernels += select(pool[kind], max(2, round(SAMPLE_COUNTS[kind] * scale)))
    return kernels
