"""Which kernels run in the blocked channel layout (NCHWc), as ONNX Runtime decides it.

Both runtimes run convolutions and pooling in a blocked layout, ``channel_block`` channels to a
vector (16 with AVX-512, else 8), when the channels allow it, and in plain NCHW otherwise. The two
are different kernels: a 3x3 depthwise convolution over 54 channels runs in NCHW at several times
the cost per byte of one over 56 channels, blocked. So the regressors (``fit``) give the two paths
their own coefficients, and the in-network correction its own scale for kernels outside the blocked
layout (``correction``).

ONNX Runtime's NCHWc transformer (1.31, measured on the graphs it optimises; ``tests`` check the
rule against it) blocks:

* a dense convolution (g = 1) reading fewer than ``channel_block`` channels (it reads them in
  NCHW), or a multiple of ``PADDED_MULTIPLE`` (the reorder pads them to whole blocks);
* a depthwise convolution over a multiple of ``PADDED_MULTIPLE`` channels;
* a grouped convolution whose every group reads and writes whole blocks;
* pooling (max, average, global) over whole blocks.

Its output channels are padded as needed. OpenVINO pads its own blocks; fitted on its networks,
the same split predicts it better too (docs/prediction.md quotes both).

Where a tensor crosses between the layouts ONNX Runtime inserts a reorder, a node of its own in its
profile (docs/prediction.md says how much they take). ``ort_kernels`` places them, and the residual adds
it runs unfused, from the network's dataflow (``Kernel.inputs``); ``tests`` check them against its profiles.

An NCHW grouped 1x1 convolution runs each group as one GEMM on one thread (MLAS's
``MlasConvGemmDirectThreaded``), the groups shared out whole: with g groups over T threads the slowest
thread runs ceil(g / T) of them where an even split would run g / T (``imbalance``): on two threads, g = 3
takes 4/3 of an even split and g = 2, 4 or 8 none extra (docs/prediction.md has the profiles).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import replace

from .kernels import Kernel, cached_kernels

PADDED_MULTIPLE = 4  # channels ONNX Runtime's reorder pads up to a whole block
POOLS = ("maxpool", "avgpool", "globalpool")


@functools.lru_cache(maxsize=1)
def channel_block() -> int:
    """Channels per blocked vector (the runtimes' NCHWc / nChw16c layouts): 16 with AVX-512, else 8."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            return 16 if " avx512f" in handle.read() else 8
    except OSError:
        return 8


def padded(channels: int) -> int:
    """``channels`` rounded up to whole blocks."""
    return -(-channels // channel_block()) * channel_block()


def blocked(kernel) -> bool:
    """Whether ``kernel`` (a ``kernels.Kernel``) runs in the blocked layout; shuffles, concats and the FC never do."""
    block = channel_block()
    if kernel.kind == "depthwise":
        return kernel.in_channels % PADDED_MULTIPLE == 0
    if kernel.kind in POOLS:
        return kernel.in_channels % block == 0
    if kernel.kind not in ("conv", "pointwise"):
        return False
    if kernel.groups == 1:
        return kernel.in_channels < block or kernel.in_channels % PADDED_MULTIPLE == 0
    per_group = (kernel.in_channels // kernel.groups, kernel.out_channels // kernel.groups)
    return all(channels % block == 0 for channels in per_group)


def imbalance(kernel, threads: int) -> float:
    """How much longer than an even split over ``threads`` ONNX Runtime runs ``kernel``: ceil(g / T) whole groups
    on its slowest thread against g / T, for a grouped 1x1 convolution in NCHW; 1 for every other kernel (dense
    and blocked convolutions split their work finely)."""
    if kernel.kind != "pointwise" or kernel.groups == 1 or threads <= 1 or blocked(kernel):
        return 1.0
    return math.ceil(kernel.groups / threads) * threads / kernel.groups


def _reads_nchw(kernel) -> bool:
    """A blocked dense convolution over fewer than a block of channels reads its input in NCHW (conv1)."""
    return kernel.kind in ("conv", "pointwise") and kernel.groups == 1 and kernel.in_channels < channel_block()


def _reorder(producer, to_blocked: bool, layer: str) -> Kernel:
    """The reorder of ``producer``'s output into the blocked layout (padded) or out of it."""
    channels = producer.out_channels
    if to_blocked:
        return Kernel("reorder_in", layer, channels, padded(channels), producer.out_size)
    return Kernel("reorder_out", layer, padded(channels), channels, producer.out_size)


def ort_kernels(kernels: Sequence[Kernel], threads: int) -> tuple[Kernel, ...]:
    """``kernels`` as ONNX Runtime runs them on ``threads`` threads: a ``reorder_in`` or ``reorder_out`` wherever a
    tensor crosses into the blocked layout or out of it (once per tensor and direction; reported under the
    consumer's layer going in and the producer's coming out), the residual ``add`` only where ONNX Runtime does not
    fuse it into the expand convolution (the expand runs blocked and the unit's input does not, so it adds in
    NCHW), and each kernel's ``imbalance``."""
    ran, layouts, done = [], [], set()

    def need(source: int, to_blocked: bool, consumer) -> None:
        if source < 0 or layouts[source] == to_blocked or (source, to_blocked) in done:
            return
        done.add((source, to_blocked))
        ran.append(_reorder(kernels[source], to_blocked, consumer.layer if to_blocked else kernels[source].layer))

    for index, kernel in enumerate(kernels):
        sources = [index - back for back in kernel.inputs]
        if kernel.kind == "add":
            expand, unit_input = sources
            if layouts[expand] and not (unit_input >= 0 and layouts[unit_input]):
                need(expand, False, kernel)  # ONNX Runtime adds in NCHW
                ran.append(kernel)
                layouts.append(False)
            else:
                need(unit_input, layouts[expand], kernel)  # the add runs inside the expand convolution
                layouts.append(layouts[expand])
            continue
        runs_blocked = blocked(kernel)
        if kernel.kind == "globalpool":  # ONNX Runtime pools globally in the blocked layout only what arrives in it
            runs_blocked = runs_blocked and layouts[sources[0]]
        if kernel.kind == "concat":  # and concatenates in it whole blocks that arrive in it
            whole = (kernel.in_channels % channel_block(), kernel.extra_channels % channel_block()) == (0, 0)
            runs_blocked = whole and all(layouts[source] for source in sources)
        for source in sources:
            need(source, runs_blocked and not _reads_nchw(kernel), kernel)
        ran.append(replace(kernel, imbalance=imbalance(kernel, threads)))
        layouts.append(runs_blocked)
    return tuple(ran)


@functools.lru_cache(maxsize=4096)
def run_kernels(config, backend: str, threads: int) -> tuple[Kernel, ...]:
    """The kernels ``config`` runs on ``backend`` at ``threads``: ``ort_kernels`` on ONNX Runtime,
    ``cached_kernels`` elsewhere."""
    kernels = cached_kernels(config)
    return ort_kernels(kernels, threads) if backend == "ort" else kernels
