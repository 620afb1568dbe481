"""Channel dependencies measured on the built ShuffleNet with forward-mode autograd.

How it is measured (``measure_stage``)
--------------------------------------
Forward-mode autograd (``torch.func.jvp``) on a copy of the stage taken from the model
``build_model`` returns, with one probe per input channel: the tangent of probe ``c``
is a random non-zero value on channel ``c`` and zero on every other channel; output
channel ``o`` depends on ``c`` iff the pushed-forward tangent is non-zero on ``o``. One
pass gives the tangents at the output of every unit, hence the matrices for 1, 2, ...
stacked units at once. Why it is sound:

* **Structural, not input-dependent.** The copy is in eval mode (BatchNorm is then a
  per-channel affine map, which never mixes channels) and its ReLUs are replaced by the
  identity. A ReLU acts on one element at a time: it can switch a path off for some
  inputs (derivative 0) but never creates a channel-to-channel path, so the structural
  pattern is that of the network with every ReLU in its active regime. The copy is then
  affine, its Jacobian is the same at every input, and probing it at one point is
  enough: no dependence on a random input, no "dead ReLU" false zeros.
* **No cancellations.** A probe's output on channel ``o`` is a linear function of the
  random probe values; it is identically zero only if no path exists (or if the
  weights cancel exactly, a measure-zero event for the model's random weights). In
  float32 a sum can still round to exactly 0 now and then (about once in 10^8 entries
  in our runs), so two independent rounds of probes are OR-ed.
* **A 1x1 spatial probe is enough.** Every op that moves information between channels
  (1x1 group convs, channel shuffle, identity add, concat) acts on each pixel separately
  and identically; the spatial ops (3x3 depthwise conv, 3x3 average pool) act within one
  channel. So which channel reaches which is the same at 224x224 as at 1x1, where the
  depthwise conv keeps its (non-zero) centre tap. The tests check that batches of 3x3
  and 5x5 probe images through the unmodified units give the same matrices.
* **Fast.** For the stride-1 units the 1x1 probes are laid side by side on one image
  (probe ``c`` at pixel ``c``), with each 3x3 depthwise conv replaced by its centre tap
  (``pixelwise``: exact for 1x1 probes, and it makes every op per-pixel so neighbouring
  probes cannot interact). One large grouped 1x1 convolution is several times faster on a CPU
  than a vmapped batch of 1536 tiny ones, which is what brings a 1x model's widest stage
  (1536 channels) well under the 2 s target. The stride-2 unit (average pool, strided
  depthwise conv) is probed with ``vmap`` over a batch of 1x1 probe images instead.
* **Whole-stage matrices compose.** The ``"stage"`` scope multiplies (as booleans) the
  measured stride-2-unit matrix by the measured stride-1 matrices: the chain rule makes
  the Jacobian of a composition the product of the Jacobians, whose pattern is the
  boolean product (again barring exact cancellation). ``compose=False`` measures it end
  to end instead (the tests check both agree).
"""

from __future__ import annotations

import contextlib
import copy
import threading

import numpy as np
import torch
from torch import nn

from ..checks import check_int, refusal
from ..concurrency import torch_threads
from ..shufflenet import ShuffleNet, ShuffleNetConfig, build_model
from .network import StageMixing, check_stage

PROBE_SIZE = 1
REPEATS = 2  # independent rounds of random probes (see probe_dependencies)
# PyTorch's forward-mode AD keeps its dual levels process-wide, not per thread: two threads
# inside ``jvp`` at once fail ("Trying to access a forward AD level with an invalid index").
# The app measures for several sessions in one process, so one probe pass runs at a time.
FORWARD_AD_LOCK = threading.Lock()
# Probes per vmapped pass: bounds memory (a chunk of P probes of C channels holds P*C
# floats per activation) for very wide models; 1x models never need a second chunk.
PROBE_CHUNK = 2048


def linearised(stage: nn.Module) -> nn.Module:
    """A copy in eval mode with every ReLU replaced by the identity (see the module docstring)."""
    copied = copy.deepcopy(stage).eval()
    for module in list(copied.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(module, name, nn.Identity())
    for parameter in copied.parameters():
        parameter.requires_grad_(False)
    return copied


def pixelwise(units: list[nn.Module]) -> list[nn.Module]:
    """Stride-1 units rewritten so that every op acts on each pixel separately.

    On a 1x1 input a 3x3 depthwise convolution with zero padding 1 sees only its centre
    tap, so it is replaced by a 1x1 depthwise convolution holding that tap (an exact
    rewrite at 1x1). Every other op of a stride-1 unit (1x1 group convs, BN, shuffle,
    identity add) already acts per pixel, so probes can then sit side by side on a grid
    of pixels instead of in a batch of 1x1 images: the same numbers, ~5-10x faster on a
    CPU (one large grouped 1x1 convolution instead of a batch of tiny ones).
    """
    rewritten = copy.deepcopy(units)
    for unit in rewritten:
        if getattr(unit, "stride", 1) != 1:
            raise ValueError("pixelwise: only stride-1 units act per pixel")
        for module in list(unit.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, nn.Conv2d) and child.kernel_size != (1, 1):
                    if child.groups != child.in_channels or child.stride != (1, 1) or child.padding != (1, 1):
                        raise ValueError(f"pixelwise: unexpected spatial layer {child}")
                    tap = nn.Conv2d(child.in_channels, child.out_channels, 1, groups=child.groups, bias=False)
                    tap.weight.data = child.weight.data[:, :, 1:2, 1:2].clone()
                    tap.requires_grad_(False)
                    setattr(module, name, tap)
                elif isinstance(child, (nn.AvgPool2d, nn.MaxPool2d)):
                    raise ValueError(f"pixelwise: unexpected pooling layer {child}")
    return rewritten


def _random_probes(count: int, size: int, generator: torch.Generator) -> torch.Tensor:
    # Away from zero, so no probe value is (nearly) zero by chance.
    signs = torch.randint(0, 2, (count, size, size), generator=generator) * 2 - 1
    return signs * (0.5 + torch.rand(count, size, size, generator=generator))


def _chain(units: list[nn.Module]):
    def outputs(x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        result = []
        for unit in units:
            x = unit(x)
            result.append(x)
        return tuple(result)

    return outputs


def probe_dependencies(
    units: list[nn.Module],
    in_channels: int,
    probe_size: int = PROBE_SIZE,
    layout: str = "batch",
    repeats: int = REPEATS,
    seed: int = 0,
) -> list[np.ndarray]:
    """Dependency matrices (out x in) at the output of each of ``units`` applied in turn.

    Forward-mode AD: ``jvp`` of the composed (linearised) units at a zero input, with one
    tangent per input channel, non-zero on that channel only.

    * ``layout="batch"``: a ``vmap`` over a batch of tangents, each a random
      ``probe_size`` x ``probe_size`` image on its channel. Works for any unit.
    * ``layout="pixels"``: one tangent image, channel ``c``'s probe at its own pixel
      (1x1 probes); only for units that act per pixel (see ``pixelwise``).

    Each of the ``repeats`` rounds draws fresh random probe values; a dependency found
    in any round counts. One round can, very rarely, miss a dependency: float32 sums
    can cancel to exactly 0 (seen about once in 10^8 entries); two independent rounds
    make that vanishingly unlikely.
    """
    if not units:
        return []
    if layout not in ("batch", "pixels"):
        raise refusal("layout", layout, "batch or pixels")
    generator = torch.Generator().manual_seed(seed)
    outputs = _chain(units)
    if layout == "pixels":
        blocks: list[list[np.ndarray]] = [[] for _ in units]
        for start in range(0, in_channels, PROBE_CHUNK):
            count = min(PROBE_CHUNK, in_channels - start)
            side = int(np.ceil(np.sqrt(count)))
            rows = -(-count // side)
            pixel = torch.arange(count)  # probe of channel start + i sits at pixel i
            tangent = torch.zeros(repeats, in_channels, rows, side)
            for r in range(repeats):  # the batch holds the rounds
                tangent[r, start + pixel, pixel // side, pixel % side] = _random_probes(count, 1, generator).flatten()
            with torch.no_grad(), FORWARD_AD_LOCK:
                pushed = torch.func.jvp(outputs, (torch.zeros_like(tangent),), (tangent,))[1]
            # (rounds, out, rows, side) -> (out, pixels): non-zero at probe i's pixel in any round
            for k, t in enumerate(pushed):
                blocks[k].append((t.abs().amax(dim=0).flatten(start_dim=1)[:, :count] > 0).numpy())
        return [np.concatenate(parts, axis=1).astype(np.uint8) for parts in blocks]

    primal = torch.zeros(1, in_channels, probe_size, probe_size)

    def push(tangent: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return torch.func.jvp(outputs, (primal,), (tangent,))[1]

    columns: list[list[np.ndarray]] = [[] for _ in units]
    for start in range(0, in_channels, PROBE_CHUNK):
        probes = torch.arange(start, min(in_channels, start + PROBE_CHUNK))
        reached: list[torch.Tensor | None] = [None] * len(units)
        for _ in range(repeats):
            tangents = torch.zeros(len(probes), 1, in_channels, probe_size, probe_size)
            tangents[torch.arange(len(probes)), 0, probes] = _random_probes(len(probes), probe_size, generator)
            with torch.no_grad(), FORWARD_AD_LOCK:
                pushed = torch.func.vmap(push)(tangents)
            for k, tangent_out in enumerate(pushed):
                # (probes, 1, out_channels, h, w) -> (probes, out_channels): any non-zero pixel
                hit = tangent_out.flatten(start_dim=3).abs().amax(dim=3)[:, 0] > 0
                reached[k] = hit if reached[k] is None else reached[k] | hit
        for k, hit in enumerate(reached):
            columns[k].append(hit.numpy())
    return [np.concatenate(parts, axis=0).T.astype(np.uint8) for parts in columns]


def measure_stage(
    config: ShuffleNetConfig,
    stage: int,
    model: ShuffleNet | None = None,
    probe_size: int = PROBE_SIZE,
    compose: bool = True,
    threads: int | None = None,
) -> StageMixing:
    """Measure a stage's channel dependencies on the model ``build_model(config)`` returns.

    ``model``: pass an already built model of this config (the app caches one) to skip
    building it. ``compose=False`` also measures the whole-stage matrices end to end
    (one more pass) instead of composing them. ``threads``: this thread's intra-op
    thread count for the measurement (``None``: leave it; the app counts with one thread
    as foreground work, ``explorer.concurrency.counting_threads``).
    """
    stage = check_stage(stage)
    check_int("probe_size", probe_size, 1, 32)
    if threads is not None:
        check_int("threads", threads, 1, allowed="a positive integer or None")
    with torch_threads(threads) if threads is not None else contextlib.nullcontext():
        return _measure_stage(config, stage, model, probe_size, compose)


def _measure_stage(
    config: ShuffleNetConfig, stage: int, model: ShuffleNet | None, probe_size: int, compose: bool
) -> StageMixing:
    model = build_model(config) if model is None else model
    units = list(linearised(model.stages[stage - 2]).children())
    first, rest = units[0], units[1:]
    stage_in, channels = first.in_channels, first.out_channels
    (first_unit,) = probe_dependencies([first], stage_in, probe_size)
    if probe_size == 1:
        stride1 = probe_dependencies(pixelwise(rest), channels, layout="pixels")
    else:
        stride1 = probe_dependencies(rest, channels, probe_size)
    direct = None if compose else tuple(probe_dependencies(units, stage_in, probe_size))
    return StageMixing(
        config.label,
        stage,
        "measured",
        first.groups,
        config.shuffle,
        stage_in,
        channels,
        first.bottleneck,
        first_unit,
        tuple(stride1),
        direct,
    )
