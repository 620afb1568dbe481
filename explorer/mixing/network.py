"""Channel mixing of one ShuffleNet stage: the question, its answer (``StageMixing``), the prediction.

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

``predict_stage`` computes the matrices from the paper's unit (Fig. 2) and the config's
unit specs, with no torch at all; ``explorer.mixing.probes`` measures them on the built
model, and the tests require measurement and prediction to be equal.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from ..checks import check_choice, check_int, is_integer, refusal
from ..shufflenet import ShuffleNetConfig, unit_specs
from ..shufflenet.plan import STAGES
from .toy import bool_matmul, group_conv_mask, group_index, row_fractions, shuffle_matrix

SCOPES: tuple[str, ...] = ("stride1", "stage")
SCOPE_TITLES = {
    "stride1": "stride-1 units (input: output of the stage's first unit)",
    "stage": "whole stage (input: the stage's input; includes the stride-2 unit)",
}


def check_stage(stage: object) -> int:
    allowed = "2, 3 or 4 (the paper's Stage2, Stage3, Stage4)"
    if not is_integer(stage) or stage not in STAGES:
        raise refusal("stage", stage, allowed)
    return int(stage)


def check_scope(scope: object) -> str:
    return check_choice("scope", scope, SCOPES)


# --------------------------------------------------------------------------- prediction


def unit_mask(
    in_channels: int, out_channels: int, groups: int, stride: int, shuffle: bool, first_groups: int | None = None
) -> np.ndarray:
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
        units = check_int("units", units, 1, len(matrices), f"an integer from 1 to {len(matrices)} for this scope")
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


def predict_stage(config: ShuffleNetConfig, stage: int) -> StageMixing:
    """The matrices the paper's unit implies for this config's channel plan (no torch)."""
    stage = check_stage(stage)
    specs = [spec for spec in unit_specs(config.plan()) if spec.stage == stage]
    first, *rest = (
        unit_mask(s.in_channels, s.out_channels, s.groups, s.stride, config.shuffle, s.first_groups) for s in specs
    )
    stride1: list[np.ndarray] = []
    for step in rest:
        stride1.append(step.copy() if not stride1 else bool_matmul(step, stride1[-1]))
    head = specs[0]
    return StageMixing(
        config.label,
        stage,
        "predicted",
        head.groups,
        config.shuffle,
        head.in_channels,
        head.out_channels,
        head.bottleneck,
        first,
        tuple(stride1),
    )


def block_diagonal(channels: int, groups: int) -> np.ndarray:
    """The no-shuffle stride-1 pattern: output channel o reads exactly its own group."""
    group = group_index(channels, groups)
    return (group[:, None] == group[None, :]).astype(np.uint8)
