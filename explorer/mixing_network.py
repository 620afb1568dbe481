"""Channel mixing measured on the built ShuffleNet, and predicted from the unit's structure.

Which input channels of a stage does each output channel depend on? Two scopes:

* ``"stride1"`` (the default): the input is the output of the stage's first (stride-2)
  unit, i.e. the C channels that the stride-1 units read; the outputs are taken after
  1, 2, ..., R-1 stacked stride-1 units. This is the clean "stacked units" question:
  every unit here has C channels in and out and an identity shortcut.
* ``"stage"``: the input is the stage's own input (C_in channels: the max-pool output
  for Stage2, the previous stage's output otherwise); outputs after the stride-2 unit
  and then after each stride-1 unit. Output channels ``0 .. C_in-1`` of the stride-2
  unit are the 3x3 average pool of the input, concatenated in front of the residual
  branch: each depends on exactly its own input channel (the pool never mixes
  channels). Stage2's first 1x1 convolution is not grouped, so its branch channels
  already read every input channel.

The identity shortcut matters: in a stride-1 unit output channel ``i`` is ``relu(x_i +
branch_i)``, so it always depends on input channel ``i``, whatever the branch does.
Without shuffle the branch of output group ``j`` reads input group ``j`` only, which
already contains ``i``: a fraction of exactly 1/g, however many units are stacked. With
shuffle, expand group ``j`` reads the bottleneck channels at shuffled positions ``j*m/g
.. (j+1)*m/g - 1`` (``m`` = bottleneck); they come from ``min(m/g, g)`` different
compress groups, so one unit connects everything iff ``m/g >= g``. Otherwise an output
channel sees ``m/g`` input groups plus, through the shortcut, its own channel, and the
fraction grows with every stacked unit.

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

``predict_stage`` computes the same matrices from the paper's unit (Fig. 2) and the
config's channel plan, with no torch at all; the tests require measurement and
prediction to be equal.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import threading
from dataclasses import dataclass, field
from typing import Iterator

import numpy as np
import torch
from torch import nn

from .config import ShuffleNetConfig
from .mixing import bool_matmul, group_conv_mask, group_index, row_fractions, shuffle_matrix
from .model import ShuffleNet
from .models import build_model
from .threads import torch_threads

STAGES: tuple[int, ...] = (2, 3, 4)
SCOPES: tuple[str, ...] = ("stride1", "stage")
SCOPE_TITLES = {
    "stride1": "stride-1 units (input: output of the stage's first unit)",
    "stage": "whole stage (input: the stage's input; includes the stride-2 unit)",
}
PROBE_SIZE = 1
REPEATS = 2  # independent rounds of random probes (see probe_dependencies)
# PyTorch's forward-mode AD keeps its dual levels process-wide, not per thread: two threads
# inside ``jvp`` at once fail ("Trying to access a forward AD level with an invalid index").
# The app measures for several sessions in one process, so one probe pass runs at a time.
FORWARD_AD_LOCK = threading.Lock()
# Probes per vmapped pass: bounds memory (a chunk of P probes of C channels holds P*C
# floats per activation) for very wide models; 1x models never need a second chunk.
PROBE_CHUNK = 2048


def _fail(field_name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{field_name}={value!r} is not allowed: {field_name} must be {allowed}")


def check_stage(stage: object) -> int:
    if isinstance(stage, bool) or not isinstance(stage, (int, np.integer)) or stage not in STAGES:
        raise _fail("stage", stage, "2, 3 or 4 (the paper's Stage2, Stage3, Stage4)")
    return int(stage)


def check_scope(scope: object) -> str:
    if scope not in SCOPES:
        raise _fail("scope", scope, "one of " + ", ".join(SCOPES))
    return str(scope)


# --------------------------------------------------------------------------- prediction


def unit_mask(in_channels: int, out_channels: int, groups: int, stride: int, shuffle: bool,
              first_groups: int | None = None) -> np.ndarray:
    """(out, in) 0/1 channel dependency of one ShuffleNet unit, from Fig. 2 alone.

    Branch: compress (1x1, ``first_groups``) -> shuffle -> depthwise (channel-wise) ->
    expand (1x1, ``groups``). Stride 1: OR the identity shortcut. Stride 2: the average-
    pooled input channels come first in the concat, one input channel each.
    """
    first_groups = groups if first_groups is None else first_groups
    bottleneck = out_channels // 4
    branch_out = out_channels - in_channels if stride == 2 else out_channels
    branch = group_conv_mask(bottleneck, in_channels, first_groups)
    if shuffle and groups > 1:
        branch = bool_matmul(shuffle_matrix(bottleneck, groups), branch)
    branch = bool_matmul(group_conv_mask(branch_out, bottleneck, groups), branch)  # depthwise: identity pattern
    identity = np.eye(in_channels, dtype=np.uint8)
    if stride == 2:
        return np.vstack([identity, branch])
    return branch | identity


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class StageMixing:
    """Dependency matrices of one stage (output x input, 0/1), measured or predicted."""

    label: str
    stage: int
    method: str  # "measured" or "predicted"
    groups: int
    shuffle: bool
    stage_in_channels: int
    channels: int
    bottleneck: int
    first_unit: np.ndarray = field(repr=False)  # (C, C_in): after the stride-2 unit
    stride1: tuple[np.ndarray, ...] = field(repr=False)  # (C, C) after k = 1, 2, ... stride-1 units
    stage_direct: tuple[np.ndarray, ...] | None = field(default=None, repr=False)  # end to end, if measured so

    @property
    def repeats(self) -> int:
        return 1 + len(self.stride1)

    @functools.cached_property
    def _stage_matrices(self) -> tuple[np.ndarray, ...]:
        if self.stage_direct is not None:
            return self.stage_direct
        return (self.first_unit, *(bool_matmul(m, self.first_unit) for m in self.stride1))

    def matrices(self, scope: str = "stride1") -> tuple[np.ndarray, ...]:
        """The matrix after each stacked unit of the scope (first entry: one unit)."""
        return self.stride1 if check_scope(scope) == "stride1" else self._stage_matrices

    def matrix(self, scope: str = "stride1", units: int | None = None) -> np.ndarray:
        matrices = self.matrices(scope)
        if not matrices:
            raise ValueError(f"stage {self.stage} has no stride-1 units")
        if units is None:
            return matrices[-1]
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or not 1 <= units <= len(matrices):
            raise _fail("units", units, f"an integer from 1 to {len(matrices)} for this scope")
        return matrices[units - 1]

    def fractions(self, scope: str = "stride1") -> list[float]:
        """Mean over output channels of the fraction of input channels reached, per units stacked."""
        return [float(row_fractions(m).mean()) for m in self.matrices(scope)]

    def fraction_ranges(self, scope: str = "stride1") -> list[tuple[float, float]]:
        """(min, max) over output channels, per units stacked."""
        return [(float(f.min()), float(f.max())) for f in map(row_fractions, self.matrices(scope))]

    def units_to_full(self, scope: str = "stride1") -> int | None:
        """Fewest stacked units after which every output channel reaches every input channel."""
        for k, matrix in enumerate(self.matrices(scope), start=1):
            if matrix.all():
                return k
        return None

    def to_dict(self, scope: str = "stride1", units: int | None = None) -> dict:
        matrix = self.matrix(scope, units)
        fractions = row_fractions(matrix)
        return {
            "mode": self.method,
            "model": self.label,
            "stage": self.stage,
            "groups": self.groups,
            "shuffle": self.shuffle,
            "scope": scope,
            "scope_definition": SCOPE_TITLES[scope],
            "stage_input_channels": self.stage_in_channels,
            "channels": self.channels,
            "bottleneck": self.bottleneck,
            "bottleneck_per_group": self.bottleneck // self.groups,
            "units": len(self.matrices(scope)) if units is None else units,
            "matrix_rows": "output channel",
            "matrix_columns": "input channel",
            "matrix": matrix.astype(int).tolist(),
            "fraction": float(fractions.mean()),
            "fraction_min": float(fractions.min()),
            "fraction_max": float(fractions.max()),
            "fraction_by_units": self.fractions(scope),
            "units_to_full": self.units_to_full(scope),
        }


def _stage_channels(config: ShuffleNetConfig, stage: int) -> tuple[int, int]:
    plan = config.plan()
    index = stage - 2
    stage_in = plan.conv1_channels if index == 0 else plan.stage_channels[index - 1]
    return stage_in, plan.stage_channels[index]


def predict_stage(config: ShuffleNetConfig, stage: int) -> StageMixing:
    """The matrices the paper's unit implies for this config's channel plan (no torch)."""
    stage = check_stage(stage)
    plan = config.plan()
    stage_in, channels = _stage_channels(config, stage)
    groups, shuffle = plan.groups, config.shuffle
    first_groups = 1 if stage == 2 else groups  # "the first 1x1 layer of Stage 2 is not grouped"
    first = unit_mask(stage_in, channels, groups, 2, shuffle, first_groups)
    step = unit_mask(channels, channels, groups, 1, shuffle)
    stride1: list[np.ndarray] = []
    for _ in range(plan.stage_repeats[stage - 2] - 1):
        stride1.append(step.copy() if not stride1 else bool_matmul(step, stride1[-1]))
    return StageMixing(config.label, stage, "predicted", groups, shuffle, stage_in, channels, channels // 4,
                       first, tuple(stride1))  # fmt: skip


# --------------------------------------------------------------------------- measurement


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


def probe_dependencies(units: list[nn.Module], in_channels: int, probe_size: int = PROBE_SIZE,
                       layout: str = "batch", repeats: int = REPEATS, seed: int = 0) -> list[np.ndarray]:
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
        raise _fail("layout", layout, "batch or pixels")
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


@contextlib.contextmanager
def intra_op_threads(threads: int | None) -> Iterator[None]:
    """``torch.set_num_threads(threads)`` for a block, restored after (``None``: leave it).

    Process-wide: only for a process of its own (the CLI, the benchmark). On this 2-core
    machine shared with other work, 1 thread measures a stage 3-8x faster than PyTorch's
    default of 2 (spinning OpenMP threads); the app uses ``ui.cache.counting_threads``,
    which does the same only while no latency measurement is running.
    """
    if threads is None:
        yield
        return
    with torch_threads(threads):
        yield


def measure_stage(config: ShuffleNetConfig, stage: int, model: ShuffleNet | None = None,
                  probe_size: int = PROBE_SIZE, compose: bool = True, threads: int | None = None) -> StageMixing:
    """Measure a stage's channel dependencies on the model ``build_model(config)`` returns.

    ``model``: pass an already built model of this config (the app caches one) to skip
    building it. ``compose=False`` also measures the whole-stage matrices end to end
    (one more pass) instead of composing them. ``threads``: see ``intra_op_threads``.
    """
    stage = check_stage(stage)
    if isinstance(probe_size, bool) or not isinstance(probe_size, int) or not 1 <= probe_size <= 32:
        raise _fail("probe_size", probe_size, "an integer from 1 to 32")
    if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int) or threads < 1):
        raise _fail("threads", threads, "a positive integer or None")
    with intra_op_threads(threads):
        return _measure_stage(config, stage, model, probe_size, compose)


def _measure_stage(config: ShuffleNetConfig, stage: int, model: ShuffleNet | None, probe_size: int,
                   compose: bool) -> StageMixing:
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
    return StageMixing(config.label, stage, "measured", first.groups, config.shuffle, stage_in, channels,
                       first.bottleneck, first_unit, tuple(stride1), direct)  # fmt: skip


def block_diagonal(channels: int, groups: int) -> np.ndarray:
    """The no-shuffle stride-1 pattern: output channel o reads exactly its own group."""
    group = group_index(channels, groups)
    return (group[:, None] == group[None, :]).astype(np.uint8)


__all__ = [
    "SCOPES",
    "SCOPE_TITLES",
    "STAGES",
    "StageMixing",
    "block_diagonal",
    "check_scope",
    "check_stage",
    "intra_op_threads",
    "linearised",
    "measure_stage",
    "predict_stage",
    "probe_dependencies",
    "unit_mask",
]
