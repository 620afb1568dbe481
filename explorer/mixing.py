"""Channel mixing of stacked 1x1 group convolutions: Fig. 1 of the paper, live.

Pure numpy (no torch, no Streamlit): everything here is a 0/1 matrix, an index array or
a DOT string, so the CLI, the app and the tests read the same numbers.

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

import html
from dataclasses import dataclass, field

import numpy as np

from .style import NEUTRAL, group_color

WIRINGS: tuple[str, ...] = ("none", "cross", "shuffle")
WIRING_TITLES = {
    "none": "(a) no cross-group exchange",
    "cross": "(b) inputs from different groups",
    "shuffle": "(c) channel shuffle",
}
MIN_LAYERS, MAX_LAYERS = 1, 4
MAX_TOY_CHANNELS = 1024
MAX_TOY_GROUPS = 64
# Beyond these, diagrams draw one node per group (a bundle) instead of one per channel.
MAX_DRAWN_CHANNELS = 24
MAX_DRAWN_EDGES_PER_LAYER = 256


def _fail(field_name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{field_name}={value!r} is not allowed: {field_name} must be {allowed}")


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_groups(channels: int, groups: int, channels_name: str = "channels",
                 max_channels: int | None = MAX_TOY_CHANNELS) -> None:
    """``ValueError`` naming the field unless ``groups`` is valid and divides ``channels``."""
    if not _is_int(groups) or not 1 <= groups <= MAX_TOY_GROUPS:
        raise _fail("groups", groups, f"an integer from 1 to {MAX_TOY_GROUPS}")
    if not _is_int(channels) or channels < 1 or (max_channels is not None and channels > max_channels):
        allowed = "a positive integer" if max_channels is None else f"an integer from 1 to {max_channels}"
        raise _fail(channels_name, channels, allowed)
    if channels % groups:
        low = max(groups, channels // groups * groups)
        raise _fail(channels_name, channels, f"a multiple of groups={groups} (e.g. {low} or {low + groups})")


def check_toy(channels: int, groups: int, layers: int, wiring: str = "shuffle") -> None:
    """Validate the toy's arguments; the message names the field, its value and what is allowed."""
    check_groups(channels, groups)
    if not _is_int(layers) or not MIN_LAYERS <= layers <= MAX_LAYERS:
        raise _fail("layers", layers, f"an integer from {MIN_LAYERS} to {MAX_LAYERS}")
    if wiring not in WIRINGS:
        raise _fail("wiring", wiring, "one of " + ", ".join(WIRINGS))


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
            {"input channel": i, "group": i // per_group, "index in group": i % per_group,
             "output position": int(self.destination[i]),
             "output group (next GConv)": int(self.destination[i]) // per_group}
            for i in range(self.channels)
        ]  # fmt: skip

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
        for b, c in zip(connectivity_by_layer(channels, groups, layers, "cross"),
                        connectivity_by_layer(channels, groups, layers, "shuffle"))
    )  # fmt: skip


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


def group_block_fractions(matrix: np.ndarray, out_groups: int, in_groups: int) -> np.ndarray:
    """(out_groups, in_groups): fraction of connected (output, input) pairs per block of groups."""
    rows, cols = matrix.shape
    blocks = matrix.reshape(out_groups, rows // out_groups, in_groups, cols // in_groups)
    return blocks.astype(np.float64).mean(axis=(1, 3))


# --------------------------------------------------------------------------- DOT


def _text_color(fill: str) -> str:
    red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "white"


def _mix_label(mix: list[tuple[int, int]]) -> str:
    """HTML-like label: one coloured cell per source group, holding its channel count."""
    cells = "".join(
        f'<TD BGCOLOR="{group_color(g)}"><FONT COLOR="{_text_color(group_color(g))}">{n}</FONT></TD>' for g, n in mix
    )
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="3"><TR>{cells}</TR></TABLE>>'


@dataclass
class _Rank:
    """One row of the diagram: a channel layer."""

    name: str
    title: str
    colors: list[int]  # colour (group index) of each channel
    labels: list[str]
    bundles: list[tuple]  # bundle key of each channel (used when drawing groups as bundles)
    bundle_labels: dict = field(default_factory=dict)
    mixed: bool = False  # bundles hold channels of several colours (after a shuffle)


def _toy_ranks(channels: int, groups: int, layers: int, wiring: str) -> tuple[list[_Rank], list[list[tuple[int, int]]]]:
    """The diagram at channel level: ranks of channels and, between ranks, edges (src, dst)."""
    per_group = channels // groups
    group = list(np.arange(channels) // per_group)
    source = shuffle_source(channels, groups)

    def gconv_rank(name: str, title: str) -> _Rank:
        labels = {(g,): f"group {g}\\nch {g * per_group}–{(g + 1) * per_group - 1}" for g in range(groups)}
        return _Rank(name, title, list(group), [str(c) for c in range(channels)], [(g,) for g in group], labels)

    ranks = [gconv_rank("in", "input")]
    edges: list[list[tuple[int, int]]] = []
    block = group_conv_mask(channels, channels, groups)
    cross = cross_group_mask(channels, groups)
    for layer in range(1, layers + 1):
        mask = block
        if layer > 1 and wiring == "shuffle":
            previous = ranks[-1]
            colors = [previous.colors[source[p]] for p in range(channels)]
            # A bundle is one next-layer group's slice of the shuffled channels; its label
            # counts the channels from each source group (coloured cells).
            bundles = [(p // per_group,) for p in range(channels)]
            labels = {}
            for (j,) in dict.fromkeys(bundles):
                mix = [colors[p] for p in range(j * per_group, (j + 1) * per_group)]
                labels[(j,)] = [(g, mix.count(g)) for g in dict.fromkeys(mix)]
            ranks.append(_Rank(f"s{layer}", "shuffle", colors, [str(source[p]) for p in range(channels)], bundles,
                               labels, mixed=True))  # fmt: skip
            edges.append([(int(source[p]), p) for p in range(channels)])
        elif layer > 1 and wiring == "cross":
            mask = cross
        title = f"GConv{layer}" + (" (output)" if layer == layers else "")
        ranks.append(gconv_rank(f"l{layer}", title))
        out, inp = np.nonzero(mask)
        edges.append([(int(i), int(o)) for o, i in zip(out, inp)])
    return ranks, edges


def toy_diagram_detail(channels: int, groups: int) -> str:
    """``"channels"`` (one node per channel) when small enough to read, else ``"groups"``."""
    per_group = channels // groups
    small = channels <= MAX_DRAWN_CHANNELS and channels * per_group <= MAX_DRAWN_EDGES_PER_LAYER
    return "channels" if small else "groups"


def toy_dot(channels: int, groups: int, layers: int, wiring: str = "shuffle", detail: str = "auto") -> str:
    """Graphviz DOT of the toy: a layered diagram, input on top, nodes coloured by group.

    ``detail="channels"`` draws every channel (edges only where a connection exists);
    ``"groups"`` draws one node per group bundle (per (group, source group) pair after a
    shuffle) with edge labels giving how many channels flow; ``"auto"`` picks channels
    for C <= 24 (and at most 256 edges per layer), bundles otherwise, and says so in the
    diagram's caption line.
    """
    check_toy(channels, groups, layers, wiring)
    if detail == "auto":
        detail = toy_diagram_detail(channels, groups)
    if detail not in ("channels", "groups"):
        raise _fail("detail", detail, "one of auto, channels, groups")
    ranks, edges = _toy_ranks(channels, groups, layers, wiring)
    caption = f"{WIRING_TITLES[wiring]}: C={channels}, g={groups}, {layers} group conv{'s' if layers > 1 else ''}"
    if detail == "groups":
        caption += "\\n(one node per group; numbers = channels)"
    lines = [
        f"digraph mixing_{wiring} {{",
        f'  graph [rankdir=TB, bgcolor="transparent", nodesep=0.06, ranksep=0.45, newrank=true, '
        f'fontname="Helvetica", fontsize=12, labelloc=t, label="{caption}"];',
        '  node [fontname="Helvetica", fontsize=9, style=filled, penwidth=0];',
        "  edge [arrowsize=0.35, penwidth=0.8];",
        '  node [shape=plaintext, style="", fontsize=10];',
    ]
    for rank in ranks:
        lines.append(f'  t_{rank.name} [label="{rank.title}"];')
    lines.append("  " + " -> ".join(f"t_{r.name}" for r in ranks) + " [style=invis];")
    for r, rank in enumerate(ranks):
        if detail == "channels":
            ids = [f"{rank.name}_{c}" for c in range(channels)]
            shape = "circle, width=0.26, height=0.26, fixedsize=true"
            for c, node in enumerate(ids):
                fill = group_color(rank.colors[c])
                lines.append(f'  {node} [shape={shape}, style=filled, fillcolor="{fill}", '
                             f'fontcolor="{_text_color(fill)}", label="{html.escape(rank.labels[c])}"];')  # fmt: skip
        else:
            keys = list(dict.fromkeys(rank.bundles))
            ids = [f"{rank.name}_b{k}" for k in range(len(keys))]
            color_of = {key: rank.colors[rank.bundles.index(key)] for key in keys}
            for key, node in zip(keys, ids):
                if rank.mixed:
                    label = _mix_label(rank.bundle_labels[key])
                    lines.append(f'  {node} [shape=plaintext, style="", label={label}];')
                    continue
                fill = group_color(color_of[key])
                lines.append(f'  {node} [shape=box, style="rounded,filled", fillcolor="{fill}", '
                             f'fontcolor="{_text_color(fill)}", label="{rank.bundle_labels[key]}"];')  # fmt: skip
        lines.append(f"  {{ rank=same; t_{rank.name}; {'; '.join(ids)}; }}")
        lines.append(f"  t_{rank.name} -> {' -> '.join(ids)} [style=invis];")
    for r, pairs in enumerate(edges, start=1):
        upper, lower = ranks[r - 1], ranks[r]
        if detail == "channels":
            for src, dst in pairs:
                color = group_color(upper.colors[src])
                lines.append(f'  {upper.name}_{src} -> {lower.name}_{dst} [color="{color}AA"];')
            continue
        upper_keys = list(dict.fromkeys(upper.bundles))
        lower_keys = list(dict.fromkeys(lower.bundles))
        flows: dict[tuple[int, int], set[int]] = {}
        for src, dst in pairs:
            key = (upper_keys.index(upper.bundles[src]), lower_keys.index(lower.bundles[dst]))
            flows.setdefault(key, set()).add(src)
        for (a, b), sources in sorted(flows.items()):
            color = NEUTRAL if upper.mixed else group_color(upper.colors[upper.bundles.index(upper_keys[a])])
            width = 0.8 + 2.2 * len(sources) / max(1, max(len(s) for s in flows.values()))
            lines.append(f'  {upper.name}_b{a} -> {lower.name}_b{b} [color="{color}CC", penwidth={width:.2f}, '
                         f'label="{len(sources)}", fontsize=8, fontcolor="{color}"];')  # fmt: skip
    lines.append("}")
    return "\n".join(lines)


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
    "toy_diagram_detail",
    "toy_dot",
    "toy_mixing",
]
