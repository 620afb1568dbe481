"""Fig. 1 of the paper as Graphviz DOT: the toy's channels, layer by layer, coloured by group.

Drawing only: the connectivity comes from ``explorer.mixing.toy`` (pure numpy), the
colours from ``ui.style``. Pure functions (no Streamlit), so the tests can read the DOT.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from explorer.checks import refusal
from explorer.mixing.toy import WIRING_TITLES, check_toy, cross_group_mask, group_conv_mask, shuffle_source

from .style import NEUTRAL, group_color

# Beyond these, diagrams draw one node per group (a bundle) instead of one per channel.
MAX_DRAWN_CHANNELS = 24
MAX_DRAWN_EDGES_PER_LAYER = 256


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
        raise refusal("detail", detail, "one of auto, channels, groups")
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
