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
"""

from __future__ import annotations

import functools

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
