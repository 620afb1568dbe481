"""Channel mixing of stacked 1x1 group convolutions: Fig. 1 of the paper as matrices (the toy).

Pure numpy (no torch, no Streamlit): everything here is a 0/1 matrix or an index array,
so the CLI, the app and the tests read the same numbers (the app draws them: ``ui``).

Conventions
-----------
* A *dependency matrix* ``D`` has one row per output channel and one column per input
  channel: ``D[o, i] == 1`` when output channel ``o`` is computed from input channel
  ``i`` (through any path). Stacking layers multiplies the matrices as booleans.
* Channel ``c`` of a layer with ``C`` channels in ``g`` groups belongs to group
  ``c // (C/g)`` (PyTorch's ``groups=`` convention: contiguous blocks).
* ``channel_shuffle`` (reshape to ``(g, C/g)``, transpose, flatten) is the permutation
  ``source[p] = (p % g) * (C/g) + p // g``: output position ``p`` holds input channel
  ``source[p]``; ``destination`` is its inverse (where input channel ``i`` goes).

The toy of Fig. 1 stacks ``L`` 1x1 group convolutions of ``C`` channels (no shortcut,
no spatial part: those do not move information between channels) wired three ways:

* ``"none"`` (Fig. 1a): each group convolution reads its own group only;
* ``"cross"`` (Fig. 1b): group convolutions 2..L read *from different groups*: the
  previous layer's groups are dealt out in turn (round ``k`` hands channel ``k`` of
  group 0, 1, ..., g-1 to the next free input slot; slots fill the next layer's group 0
  first). When ``C/g`` is a multiple of ``g`` this is the paper's picture: group ``j``
  reads the ``j``-th sub-group (``C/g**2`` channels) of every group. Nothing is
  permuted; the next layer's weights simply connect across groups.
* ``"shuffle"`` (Fig. 1c): ``channel_shuffle`` between consecutive group convolutions,
  which stay plain block-diagonal group convolutions.

(b) and (c) give the same dependency matrices (``cross_equals_shuffle``): a channel
shuffle is just an implementation of (b) that keeps the cheap block-diagonal group
convolution. Two layers with a shuffle are fully connected iff ``C/g >= g``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..checks import check_choice, check_int, refusal

WIRINGS: tuple[str, ...] = ("none", "cross", "shuffle")
WIRING_TITLES = {
    "none": "(a) no cross-group exchange",
    "cross": "(b) inputs from different groups",
    "shuffle": "(c) channel shuffle",
}
MIN_LAYERS, MAX_LAYERS = 1, 4
MAX_TOY_CHANNELS = 1024
MAX_TOY_GROUPS = 64


def check_groups(
    channels: int, groups: int, channels_name: str = "channels", max_channels: int | None = MAX_TOY_CHANNELS
) -> None:
    """``ValueError`` naming the field unless ``groups`` is valid and divides ``channels``."""
    check_int("groups", groups, 1, MAX_TOY_GROUPS)
    check_int(channels_name, channels, 1, max_channels)
    if channels % groups:
        low = max(groups, channels // groups * groups)
        raise refusal(channels_name, channels, f"a multiple of groups={groups} (e.g. {low} or {low + groups})")


def check_toy(channels: int, groups: int, layers: int, wiring: str = "shuffle") -> None:
    """Validate the toy's arguments; the message names the field, its value and what is allowed."""
    check_groups(channels, groups)
    check_int("layers", layers, MIN_LAYERS, MAX_LAYERS)
    check_choice("wiring", wiring, WIRINGS)


def default_toy_channels(groups: int) -> int:
    """``g * max(g, 4)``: 12 for g = 3; ``C/g >= g``, so two layers with a shuffle mix fully."""
    return groups * max(groups, 4)


# --------------------------------------------------------------------------- the shuffle


def group_index(channels: int, groups: int) -> np.ndarray:
    """Group of every channel: ``[0]*(C/g) + [1]*(C/g) + ...``."""
    check_groups(channels, groups, max_channels=None)
    return np.arange(channels) // (channels // groups)


def shuffle_source(channels: int, groups: int) -> np.ndarray:
    """``source[p]``: the input channel that ``channel_shuffle`` puts at output position ``p``.

    Computed the way the paper describes it: lay the indices out as a (g, C/g) grid,
    transpose it, read it row by row.
    """
    check_groups(channels, groups, max_channels=None)
    return np.arange(channels).reshape(groups, channels // groups).T.reshape(-1)


def shuffle_destination(channels: int, groups: int) -> np.ndarray:
    """``destination[i]``: the output position of input channel ``i`` (inverse of ``shuffle_source``)."""
    source = shuffle_source(channels, groups)
    destination = np.empty_like(source)
    destination[source] = np.arange(channels)
    return destination


def shuffle_matrix(channels: int, groups: int) -> np.ndarray:
    """The permutation as a 0/1 matrix ``P`` with ``y = P @ x`` (``P[p, source[p]] = 1``)."""
    matrix = np.zeros((channels, channels), dtype=np.uint8)
    matrix[np.arange(channels), shuffle_source(channels, groups)] = 1
    return matrix


@dataclass(frozen=True)
class ShuffleSteps:
    """``channel_shuffle`` step by step, as channel indices."""

    channels: int
    groups: int
    grid: np.ndarray  # (g, C/g): row j holds the channels of group j
    transposed: np.ndarray  # (C/g, g)
    source: np.ndarray  # (C,): flattened transposed grid = input channel at each output position
    destination: np.ndarray  # (C,): output position of each input channel

    def records(self) -> list[dict]:
        """One row per input channel: its group, its place in the group, where it goes."""
        per_group = self.channels // self.groups
        return [
            {
                "input channel": i,
                "group": i // per_group,
                "index in group": i % per_group,
                "output position": int(self.destination[i]),
                "output group (next GConv)": int(self.destination[i]) // per_group,
            }
            for i in range(self.channels)
        ]

    def to_dict(self) -> dict:
        return {
            "grid": self.grid.tolist(),
            "transposed": self.transposed.tolist(),
            "source": self.source.tolist(),
            "destination": self.destination.tolist(),
        }


def shuffle_steps(channels: int, groups: int) -> ShuffleSteps:
    check_groups(channels, groups)
    grid = np.arange(channels).reshape(groups, channels // groups)
    transposed = grid.T.copy()
    destination = shuffle_destination(channels, groups)
    return ShuffleSteps(channels, groups, grid, transposed, transposed.reshape(-1), destination)


# --------------------------------------------------------------------------- layer masks


def bool_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Boolean matrix product (``(a @ b) > 0``) as uint8, without integer overflow."""
    return ((a.astype(np.float32) @ b.astype(np.float32)) > 0).astype(np.uint8)


def group_conv_mask(out_channels: int, in_channels: int, groups: int) -> np.ndarray:
    """Which inputs a 1x1 convolution with ``groups=`` reads: block-diagonal (out, in)."""
    check_groups(out_channels, groups, "out_channels", max_channels=None)
    check_groups(in_channels, groups, "in_channels", max_channels=None)
    out_group = np.arange(out_channels) // (out_channels // groups)
    in_group = np.arange(in_channels) // (in_channels // groups)
    return (out_group[:, None] == in_group[None, :]).astype(np.uint8)


def cross_group_mask(channels: int, groups: int) -> np.ndarray:
    """Fig. 1b: a group convolution whose group ``j`` reads channels dealt from every group.

    Channel ``k`` of group ``i`` is dealt in round ``k`` as card number ``k*g + i``;
    cards ``j*C/g .. (j+1)*C/g - 1`` go to group ``j`` of the next layer.
    """
    check_groups(channels, groups)
    per_group = channels // groups
    channel = np.arange(channels)
    card = (channel % per_group) * groups + channel // per_group
    reader_group = card // per_group  # which group of the next layer reads this channel
    out_group = channel // per_group
    return (out_group[:, None] == reader_group[None, :]).astype(np.uint8)


def shuffled_group_conv_mask(channels: int, groups: int) -> np.ndarray:
    """Fig. 1c: ``channel_shuffle`` then a block-diagonal group convolution (mask @ P)."""
    return bool_matmul(group_conv_mask(channels, channels, groups), shuffle_matrix(channels, groups))


def layer_masks(channels: int, groups: int, layers: int, wiring: str) -> list[np.ndarray]:
    """The (C, C) input mask of each of the ``layers`` group convolutions, shuffle folded in."""
    check_toy(channels, groups, layers, wiring)
    first = group_conv_mask(channels, channels, groups)
    later = {
        "none": first,
        "cross": cross_group_mask(channels, groups),
        "shuffle": shuffled_group_conv_mask(channels, groups),
    }[wiring]
    return [first] + [later] * (layers - 1)


def connectivity_by_layer(channels: int, groups: int, layers: int, wiring: str = "shuffle") -> list[np.ndarray]:
    """Dependency matrices (output x input) after 1, 2, ..., ``layers`` group convolutions."""
    result: list[np.ndarray] = []
    for mask in layer_masks(channels, groups, layers, wiring):
        result.append(mask.copy() if not result else bool_matmul(mask, result[-1]))
    return result


def connectivity(channels: int, groups: int, layers: int, wiring: str = "shuffle") -> np.ndarray:
    """Dependency matrix (output x input, 0/1) of ``layers`` stacked group convolutions."""
    return connectivity_by_layer(channels, groups, layers, wiring)[-1]


def row_fractions(matrix: np.ndarray) -> np.ndarray:
    """For each output channel, the fraction of input channels it depends on."""
    return matrix.astype(np.float64).sum(axis=1) / matrix.shape[1]


def cross_equals_shuffle(channels: int, groups: int, layers: int = MAX_LAYERS) -> bool:
    """(b) and (c) have the same layer masks and the same dependency matrices."""
    cross, shuffle = layer_masks(channels, groups, layers, "cross"), layer_masks(channels, groups, layers, "shuffle")
    masks_equal = all(np.array_equal(b, c) for b, c in zip(cross, shuffle))
    return masks_equal and all(
        np.array_equal(b, c)
        for b, c in zip(
            connectivity_by_layer(channels, groups, layers, "cross"),
            connectivity_by_layer(channels, groups, layers, "shuffle"),
        )
    )


@dataclass(frozen=True)
class ToyMixing:
    """The Fig. 1 toy for one (C, g, L, wiring): matrices after each layer and their fractions."""

    channels: int
    groups: int
    layers: int
    wiring: str
    matrices: tuple[np.ndarray, ...] = field(repr=False)

    @property
    def matrix(self) -> np.ndarray:
        return self.matrices[-1]

    @property
    def fractions(self) -> np.ndarray:
        """Per output channel, after all layers."""
        return row_fractions(self.matrix)

    @property
    def fraction(self) -> float:
        """Mean over output channels of the fraction of input channels reached (after all layers)."""
        return float(self.fractions.mean())

    @property
    def fraction_by_layer(self) -> list[float]:
        return [float(row_fractions(m).mean()) for m in self.matrices]

    @property
    def fully_connected(self) -> bool:
        return bool(self.matrix.all())

    def to_dict(self) -> dict:
        fractions = self.fractions
        return {
            "mode": "toy",
            "channels": self.channels,
            "groups": self.groups,
            "layers": self.layers,
            "wiring": self.wiring,
            "wiring_title": WIRING_TITLES[self.wiring],
            "matrix_rows": "output channel",
            "matrix_columns": "input channel",
            "matrix": self.matrix.astype(int).tolist(),
            "fraction": self.fraction,
            "fraction_min": float(fractions.min()),
            "fraction_max": float(fractions.max()),
            "fraction_per_output": fractions.tolist(),
            "fraction_by_layer": self.fraction_by_layer,
            "fully_connected": self.fully_connected,
            "shuffle_source": shuffle_source(self.channels, self.groups).tolist(),
        }


def toy_mixing(channels: int, groups: int, layers: int, wiring: str = "shuffle") -> ToyMixing:
    matrices = tuple(connectivity_by_layer(channels, groups, layers, wiring))
    return ToyMixing(channels, groups, layers, wiring, matrices)


def trace_channel(channels: int, groups: int, layers: int, wiring: str, layer: int, channel: int) -> np.ndarray:
    """Which channels of every layer are linked to ``channel`` of ``layer`` (0 = the input, ``layers`` = the output).

    Returns a (layers + 1, C) 0/1 array: row ``layer`` is the channel itself; earlier rows
    are what it depends on (through any path of ``layer_masks``), later rows what it
    reaches. For an output channel that is its column of inputs in ``connectivity``
    (row ``0``); for an input channel, the outputs that depend on it (row ``layers``).
    """
    check_toy(channels, groups, layers, wiring)
    check_int("layer", layer, 0, layers)
    check_int("channel", channel, 0, channels - 1)
    masks = layer_masks(channels, groups, layers, wiring)  # masks[k]: layer k -> layer k + 1 (out x in)
    linked = np.zeros((layers + 1, channels), dtype=np.uint8)
    linked[layer, channel] = 1
    for k in range(layer, 0, -1):  # upstream: inputs of the linked channels
        linked[k - 1] = (masks[k - 1][linked[k] == 1].sum(axis=0) > 0).astype(np.uint8)
    for k in range(layer, layers):  # downstream: outputs reading a linked channel
        linked[k + 1] = (masks[k][:, linked[k] == 1].sum(axis=1) > 0).astype(np.uint8)
    return linked


def group_block_fractions(matrix: np.ndarray, out_groups: int, in_groups: int) -> np.ndarray:
    """(out_groups, in_groups): fraction of connected (output, input) pairs per block of groups."""
    rows, cols = matrix.shape
    blocks = matrix.reshape(out_groups, rows // out_groups, in_groups, cols // in_groups)
    return blocks.astype(np.float64).mean(axis=(1, 3))


__all__ = [
    "MAX_LAYERS",
    "MIN_LAYERS",
    "WIRINGS",
    "WIRING_TITLES",
    "ShuffleSteps",
    "ToyMixing",
    "bool_matmul",
    "check_groups",
    "check_toy",
    "connectivity",
    "connectivity_by_layer",
    "cross_equals_shuffle",
    "cross_group_mask",
    "default_toy_channels",
    "group_block_fractions",
    "group_conv_mask",
    "group_index",
    "layer_masks",
    "row_fractions",
    "shuffle_destination",
    "shuffle_matrix",
    "shuffle_source",
    "shuffle_steps",
    "toy_mixing",
    "trace_channel",
]
