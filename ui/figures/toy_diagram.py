"""Fig. 1 of the paper as Graphviz DOT: the toy's channels, layer by layer, coloured by group.

Drawing only: the connectivity comes from ``explorer.mixing.toy`` (pure numpy), the
colours and font sizes from ``ui.shell.style``. Pure functions (no Streamlit), so the tests can
read the DOT. Readable by construction: the app draws DOT at its natural size (``ui.shell.page``:
no scaling down; a wide diagram scrolls sideways), so every label, at least ``font`` points
(10 pt = 13.3 px; 13 pt in presentation mode), stays that size on screen. Colour is never
the only cue: a channel node says its channel number and its group (``g1``), a group
bundle its group and channel range, a shuffled bundle which groups it holds.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

import numpy as np

from explorer.checks import refusal
from explorer.mixing.toy import WIRING_TITLES, check_toy, cross_group_mask, group_conv_mask, shuffle_source
from ui.figures.diagrams import content_named
from ui.shell.style import NEUTRAL, diagram_font, group_color, text_color

# Beyond these, diagrams draw one node per group (a bundle) instead of one per channel
# (16 in presentation mode, whose larger nodes would not fit 24 across a projector's width).
MAX_DRAWN_CHANNELS = (24, 16)
MAX_DRAWN_EDGES_PER_LAYER = 256
COMPACT_CHANNELS = 12  # ``toy_dot(compact=True)`` draws bundles beyond this many channels
STRIP_CELLS_PER_ROW = 8  # a shuffled bundle's colour strip wraps after this many groups


def _groups_text(groups: list[int]) -> str:
    """``g0–g3`` for a run of consecutive groups, ``g0, g2`` otherwise."""
    ordered = sorted(set(groups))
    if len(ordered) > 2 and ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"g{ordered[0]}–g{ordered[-1]}"
    return ", ".join(f"g{g}" for g in ordered)


def _mix_label(mix: list[tuple[int, int]], font: float) -> str:
    """HTML-like label of a shuffled bundle: a colour strip (one cell per source group) and, in words,
    how many channels it holds from which groups (so the colours are not the only cue)."""
    per_row = min(len(mix), STRIP_CELLS_PER_ROW)
    rows = [
        "".join(f'<TD BGCOLOR="{group_color(g)}" WIDTH="6" HEIGHT="7"></TD>' for g, _ in mix[i : i + per_row])
        for i in range(0, len(mix), per_row)
    ]
    counts = {n for _, n in mix}
    groups = [g for g, _ in mix]
    words = (
        f"{counts.pop()} each<BR/>{_groups_text(groups)}"
        if len(counts) == 1
        else "<BR/>".join(f"g{g}: {n}" for g, n in sorted(mix))
    )
    strip = "".join(f"<TR>{row}</TR>" for row in rows)
    return (
        f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="1">{strip}'
        f'<TR><TD COLSPAN="{per_row}"><FONT POINT-SIZE="{font:g}">{words}</FONT></TD></TR></TABLE>>'
    )


def _channel_label(text: str, group: int, font: float) -> str:
    """A channel node: its channel number (bold) over its group (``g1``)."""
    return f'<<B>{html.escape(text)}</B><BR/><FONT POINT-SIZE="{font:g}">g{group}</FONT>>'


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
        labels = {(g,): f"group {g}\\n{g * per_group}–{(g + 1) * per_group - 1}" for g in range(groups)}
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
            ranks.append(
                _Rank(
                    f"s{layer}",
                    "shuffle",
                    colors,
                    [str(source[p]) for p in range(channels)],
                    bundles,
                    labels,
                    mixed=True,
                )
            )
            edges.append([(int(source[p]), p) for p in range(channels)])
        elif layer > 1 and wiring == "cross":
            mask = cross
        title = f"GConv{layer}" + (" (output)" if layer == layers else "")
        ranks.append(gconv_rank(f"l{layer}", title))
        out, inp = np.nonzero(mask)
        edges.append([(int(i), int(o)) for o, i in zip(out, inp)])
    return ranks, edges


def _keys(rank: _Rank) -> list[tuple]:
    return list(dict.fromkeys(rank.bundles))


def _bundle_flows(ranks: list[_Rank], edges: list[list[tuple[int, int]]]) -> list[dict[tuple[int, int], set[int]]]:
    """Per layer: (upper bundle, lower bundle) -> the upper channels that flow along that bundle edge."""
    result = []
    for r, pairs in enumerate(edges, start=1):
        upper, lower = ranks[r - 1], ranks[r]
        upper_keys, lower_keys = _keys(upper), _keys(lower)
        flows: dict[tuple[int, int], set[int]] = {}
        for src, dst in pairs:
            key = (upper_keys.index(upper.bundles[src]), lower_keys.index(lower.bundles[dst]))
            flows.setdefault(key, set()).add(src)
        result.append(flows)
    return result


def _uniform_count(flows: dict[tuple[int, int], set[int]]) -> int | None:
    counts = {len(sources) for sources in flows.values()}
    return counts.pop() if len(counts) == 1 else None


def toy_diagram_detail(channels: int, groups: int, present: bool = False) -> str:
    """``"channels"`` (one node per channel) when small enough to read, else ``"groups"``."""
    per_group = channels // groups
    small = channels <= MAX_DRAWN_CHANNELS[bool(present)] and channels * per_group <= MAX_DRAWN_EDGES_PER_LAYER
    return "channels" if small else "groups"


def toy_dot(
    channels: int,
    groups: int,
    layers: int,
    wiring: str = "shuffle",
    detail: str = "auto",
    present: bool = False,
    compact: bool = False,
) -> str:
    """Graphviz DOT of the toy: a layered diagram, input on top, nodes coloured by group.

    ``detail="channels"`` draws every channel (edges only where a connection exists);
    ``"groups"`` draws one node per group bundle (per (group, source group) pair after a
    shuffle) with edge labels giving how many channels flow; ``"auto"`` picks channels
    for C <= 24 (and at most 256 edges per layer), bundles otherwise, and says so in the
    diagram's caption line. ``present``: presentation mode's larger fonts (``ui.shell.style``).
    ``compact`` (the Lecture's step 4, beside its text on a 1280x720 screen): narrower channel nodes, bundles
    past ``COMPACT_CHANNELS`` channels, bundles named ``g0`` rather than ``group 0``.
    """
    check_toy(channels, groups, layers, wiring)
    font = diagram_font(present)
    if detail == "auto":
        detail = toy_diagram_detail(channels, groups, present)
        if compact and channels > COMPACT_CHANNELS:
            detail = "groups"
    if detail not in ("channels", "groups"):
        raise refusal("detail", detail, "one of auto, channels, groups")
    ranks, edges = _toy_ranks(channels, groups, layers, wiring)
    caption = f"{WIRING_TITLES[wiring]}: C={channels}, g={groups}, {layers} group conv{'s' if layers > 1 else ''}"
    if detail == "groups":
        caption += "\\n(one node per group; numbers = channels)"
    size = font / 10  # node sizes grow with the font

    def bundle_label(label: str) -> str:
        return label.replace("group ", "g") if compact else label

    lines = [
        f"digraph mixing_{wiring} {{",
        f'  graph [rankdir=TB, bgcolor="transparent", nodesep={0.08 * size:.2f}, ranksep={0.45 * size:.2f}, '
        f'newrank=true, fontname="Helvetica", fontsize={font + 2:g}, labelloc=t, label="{caption}"];',
        f'  node [fontname="Helvetica", fontsize={font:g}, style=filled, penwidth=0];',
        "  edge [arrowsize=0.35, penwidth=0.8];",
        f'  node [shape=plaintext, style="", fontsize={font:g}];',
    ]
    flows = _bundle_flows(ranks, edges) if detail == "groups" else [{} for _ in edges]
    # A layer whose bundle edges all carry the same number of channels says it once, in its title
    # (a label on each of g*g edges would make the diagram many times wider).
    uniform = [None] + [_uniform_count(f) for f in flows]
    for rank, count in zip(ranks, uniform):
        note = "" if count is None else f"\\n({count} ch per edge)"
        lines.append(f'  t_{rank.name} [label="{rank.title}{note}"];')
    lines.append("  " + " -> ".join(f"t_{r.name}" for r in ranks) + " [style=invis];")
    for rank in ranks:
        if detail == "channels":
            ids = [f"{rank.name}_{c}" for c in range(channels)]
            shape = (
                f'box, style="rounded,filled", width={(0.3 if compact else 0.36) * size:.2f}, '
                f"height={0.42 * size:.2f}, fixedsize=true"
            )
            for c, node in enumerate(ids):
                fill = group_color(rank.colors[c])
                lines.append(
                    f'  {node} [shape={shape}, fillcolor="{fill}", fontcolor="{text_color(fill)}", '
                    f"label={_channel_label(rank.labels[c], rank.colors[c], font)}];"
                )
        else:
            keys = list(dict.fromkeys(rank.bundles))
            ids = [f"{rank.name}_b{k}" for k in range(len(keys))]
            color_of = {key: rank.colors[rank.bundles.index(key)] for key in keys}
            for key, node in zip(keys, ids):
                if rank.mixed:
                    label = _mix_label(rank.bundle_labels[key], font)
                    lines.append(f'  {node} [shape=plaintext, style="", label={label}];')
                    continue
                fill = group_color(color_of[key])
                narrow = ', width=0.1, margin="0.05,0.03"' if compact else ""  # graphviz's default: 0.75 in at least
                lines.append(
                    f'  {node} [shape=box, style="rounded,filled", fillcolor="{fill}"{narrow}, '
                    f'fontcolor="{text_color(fill)}", label="{bundle_label(rank.bundle_labels[key])}"];'
                )
        lines.append(f"  {{ rank=same; t_{rank.name}; {'; '.join(ids)}; }}")
        lines.append(f"  t_{rank.name} -> {' -> '.join(ids)} [style=invis];")
    for r, pairs in enumerate(edges, start=1):
        upper, lower = ranks[r - 1], ranks[r]
        if detail == "channels":
            for src, dst in pairs:
                color = group_color(upper.colors[src])
                lines.append(f'  {upper.name}_{src} -> {lower.name}_{dst} [color="{color}AA"];')
            continue
        largest = max((len(x) for x in flows[r - 1].values()), default=1)
        for (a, b), sources in sorted(flows[r - 1].items()):
            color = NEUTRAL if upper.mixed else group_color(upper.colors[upper.bundles.index(_keys(upper)[a])])
            width = 0.8 + 2.2 * len(sources) / largest
            label = (
                "" if uniform[r] is not None else f', label="{len(sources)}", fontsize={font:g}, fontcolor="{color}"'
            )
            lines.append(f'  {upper.name}_b{a} -> {lower.name}_b{b} [color="{color}CC", penwidth={width:.2f}{label}];')
    lines.append("}")
    return content_named("\n".join(lines))
