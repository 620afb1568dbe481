"""Graphviz DOT for the network (stages and units), one unit (Fig. 2b / 2c) and the Overview's shuffle.

Pure functions of library results (no Streamlit), so the tests can read the DOT. Every
number in a label comes from the measured model (``UnitRow`` / ``LayoutRow``); channel
groups are drawn as coloured cells with ``ui.shell.style.group_color`` (group i has one
colour in every diagram), and the model's g has ``groups_color(g)``, as in the charts.
Font sizes come from ``ui.shell.style.diagram_font(present)`` (nothing smaller than 10 pt, 13 pt
in presentation mode); the app draws the diagrams at their natural size, so that is what
a reader sees (13.3 px, 17.3 px).
"""

from __future__ import annotations

import hashlib
import html
import re
import shutil
import subprocess

from explorer import ShuffleNetConfig
from explorer.counting import LayoutRow, UnitRow
from ui.shell.style import NEUTRAL, diagram_font, group_color, groups_color, text_color
from ui.shell.text import shown_value

FONT = "Helvetica"
MAX_DRAWN_GROUPS = 8  # beyond this, the group strip shows the first 8 and an ellipsis
CELLS_PER_GROUP = 3


def content_named(dot: str) -> str:
    """The DOT with its graph named after its content (``digraph unit`` -> ``digraph unit_1a2b3c4d5e``).

    Streamlit's graphviz element (d3-graphviz) updates a diagram in place, matching the old
    and new drawings by name and pre-computing a path morph for every node and edge they share,
    with a ``getPointAtLength`` call per pixel of outline, animation or not: 2-2.5 s of
    browser time for the Architecture page's three diagrams after a sidebar click. A new
    name per content shares nothing with the previous drawing, which is then replaced, not morphed.
    """
    digest = hashlib.sha1(dot.encode()).hexdigest()[:10]
    return re.sub(
        r"^(\s*(?:di)?graph)\s+(\w+)?\s*\{", lambda m: f"{m.group(1)} {m.group(2) or 'g'}_{digest} {{", dot, count=1
    )


def _size(size: tuple[int, int] | None) -> str:
    return "" if size is None else f"{size[0]}×{size[1]}"


def _text(value: object) -> str:
    return html.escape(str(value), quote=True)


def _strip(groups: int, shuffled: bool, font: float) -> str:
    """A row of coloured cells: channels grouped (GConv) or interleaved (after shuffle).

    With g groups of ``CELLS_PER_GROUP`` channels each, grouped order is
    0,0,0,1,1,1,... and shuffled order is 0,1,2,...,0,1,2,... (Fig. 1c).
    """
    drawn = min(groups, MAX_DRAWN_GROUPS)
    per_group = CELLS_PER_GROUP if groups > 1 else 6
    if shuffled:
        order = [g for _ in range(per_group) for g in range(drawn)]
    else:
        order = [g for g in range(drawn) for _ in range(per_group)]
    cells = "".join(f'<TD BGCOLOR="{group_color(g)}" WIDTH="7" HEIGHT="9"></TD>' for g in order)
    if groups > drawn:
        cells += f'<TD BORDER="0"><FONT POINT-SIZE="{font:g}">+{groups - drawn} groups</FONT></TD>'
    return cells, len(order) + (1 if groups > drawn else 0)


def _box(
    title: str,
    detail: str,
    font: float,
    strip: tuple[str, int] | None = None,
    fill: str = "#ffffff",
    one_line: bool = False,
) -> str:
    """An HTML-like label: a bold title, a detail line (beside the title when ``one_line``) and an optional
    group strip."""
    if one_line:
        rows = [
            f'<TR><TD BORDER="0"><B>{_text(title)}</B>: <FONT POINT-SIZE="{font + 1:g}">{_text(detail)}</FONT>'
            "</TD></TR>"
        ]
    else:
        rows = [f'<TR><TD BORDER="0"><B>{_text(title)}</B></TD></TR>']
    if detail and not one_line:
        rows.append(f'<TR><TD BORDER="0"><FONT POINT-SIZE="{font + 1:g}">{_text(detail)}</FONT></TD></TR>')
    if strip is not None:
        cells, _ = strip
        rows.append(
            '<TR><TD BORDER="0"><TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="0">'
            f"<TR>{cells}</TR></TABLE></TD></TR>"
        )
    return (
        f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" BGCOLOR="{fill}">{"".join(rows)}</TABLE>>'
    )


def _header(name: str, rankdir: str, font: float, ranksep: float = 0.3) -> list[str]:
    return [
        f"digraph {name} {{",
        f'  graph [rankdir={rankdir}, fontname="{FONT}", nodesep=0.25, ranksep={ranksep:g}, bgcolor="transparent"];',
        f'  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="{FONT}", fontsize={font + 2:g}, '
        'margin="0.08,0.04"];',
        f'  edge [fontname="{FONT}", fontsize={font:g}, color="{NEUTRAL}"];',
    ]


def network_dot(
    config: ShuffleNetConfig, layout: tuple[LayoutRow, ...], units: tuple[UnitRow, ...], present: bool = False
) -> str:
    """The whole network, one row per part: stem, Stage2, Stage3, Stage4, classifier.

    Rows of a few nodes each, left-aligned (invisible edges tie the rows' first nodes; the
    real edge from one row's end to the next row's start does not pull them into a
    staircase), keep the picture narrow enough to show at its natural size.
    """
    font = diagram_font(present)
    accent = groups_color(config.groups)
    by_name = {row.layer: row for row in layout if row.layer}
    image, conv1, maxpool = by_name["Image"], by_name["Conv1"], by_name["MaxPool"]
    lines = _header("network", "TB", font)
    lines.append(f'  image [label="Image\\n3 ch, {_size(image.output_size)}", fillcolor="#f4f4f4"];')
    lines.append(f'  conv1 [label="Conv1 3×3, stride 2\\n{conv1.output_channels} ch, {_size(conv1.output_size)}"];')
    lines.append(
        f'  maxpool [label="MaxPool 3×3, stride 2\\n{conv1.output_channels} ch, {_size(maxpool.output_size)}"];'
    )
    lines.append("  { rank=same; image -> conv1 -> maxpool; }")
    previous, first_node = "maxpool", "image"
    shuffle = "channel shuffle" if config.shuffle and config.groups > 1 else "no shuffle"
    for stage in (2, 3, 4):
        stage_units = [u for u in units if u.stage == stage]
        first, rest = stage_units[0], stage_units[1:]
        lines.append(f"  subgraph cluster_stage{stage} {{")
        lines.append(
            f'    label="Stage{stage}: {len(stage_units)} units, g = {config.groups}, {shuffle}"; '
            f'color="{accent}"; penwidth=2; style="rounded"; labeljust=l; fontname="{FONT}"; fontsize={font + 3:g};'
        )
        first_label = (
            f"Unit 1, stride 2 (concat)\\n{first.in_channels} → {first.out_channels} ch, {_size(first.output_size)}"
        )
        lines.append(f'    s{stage}u1 [label="{first_label}", color="{accent}"];')
        if rest:
            label = (
                f"Units 2–{len(stage_units)}, stride 1 (add)\\n"
                f"× {len(rest)}, {rest[0].out_channels} ch, {_size(rest[0].output_size)}"
            )
            lines.append(f'    s{stage}rest [label="{label}", color="{accent}"];')
            lines.append(f"    {{ rank=same; s{stage}u1 -> s{stage}rest; }}")
        lines.append("  }")
        lines.append(f"  {previous} -> s{stage}u1 [constraint=false];")
        lines.append(f"  {first_node} -> s{stage}u1 [style=invis, weight=10];")
        previous, first_node = (f"s{stage}rest" if rest else f"s{stage}u1"), f"s{stage}u1"
    pool, fc = by_name["GlobalPool"], by_name["FC"]
    lines.append(f'  pool [label="Global avg pool {_size(pool.kernel)}\\n{units[-1].out_channels} ch, 1×1"];')
    lines.append(f'  fc [label="FC\\n{fc.output_channels} classes", fillcolor="#f4f4f4"];')
    lines.append(f"  {previous} -> pool [constraint=false];")
    lines.append(f"  {first_node} -> pool [style=invis, weight=10];")
    lines.append("  { rank=same; pool -> fc; }")
    lines.append("}")
    return content_named("\n".join(lines))


def unit_input_size(units: tuple[UnitRow, ...], index: int, stem_size: tuple[int, int]) -> tuple[int, int]:
    """Spatial size entering ``units[index]``: the previous unit's output, or the max-pool's."""
    return stem_size if index == 0 else units[index - 1].output_size


def unit_dot(unit: UnitRow, in_size: tuple[int, int], present: bool = False, compact: bool = False) -> str:
    """One ShuffleNet unit as in Fig. 2b (stride 1, add) or Fig. 2c (stride 2, concat).

    ``compact``: each box on one line and the ranks closer (the Lecture's step 6, which must fit a 1280x720
    screen beside its navigation at full font size); the same boxes, numbers and edges otherwise.
    """
    font = diagram_font(present)
    stride2 = unit.stride == 2
    branch_out = unit.out_channels - unit.in_channels if stride2 else unit.out_channels
    g1, g2 = unit.first_groups, unit.last_groups
    figure = "Fig. 2c" if stride2 else "Fig. 2b"
    lines = _header("unit", "TB", font, ranksep=0.1 if compact else 0.3)
    if compact:
        lines.append('  node [margin="0.06,0.02", height=0.2];')  # graphviz's default minimum is 0.5 in
    newline = ": " if compact else "\\n"
    edge_label = "xlabel" if compact else "label"  # an edge's label takes a rank of its own; an xlabel does not

    def box(title: str, detail: str, strip: tuple[str, int] | None = None) -> str:
        return _box(title, detail, font, strip, one_line=compact)

    lines.append(
        f'  label="Stage{unit.stage}, unit {unit.unit} ({figure}, stride {unit.stride})"; labelloc=t; '
        f"fontsize={font + (1 if compact else 4):g};"
    )
    lines.append(f'  input [label="input{newline}{unit.in_channels} ch, {_size(in_size)}", fillcolor="#f4f4f4"];')
    first_title = "1×1 GConv" if g1 > 1 else "1×1 Conv (not grouped)"
    first_detail = f"{unit.in_channels} → {unit.bottleneck} ch, groups = {g1}; BN, ReLU"
    lines.append(f"  gconv1 [label={box(first_title, first_detail, _strip(g1, False, font))}];")
    lines.append("  input -> gconv1;")
    previous = "gconv1"
    if unit.shuffle:
        grid = f"({g2}, {unit.bottleneck // g2}) → transpose → flatten"
        detail = grid if compact else f"{unit.bottleneck} ch as {grid}"
        lines.append(f"  shuffle [label={box('Channel shuffle', detail, _strip(g2, True, font))}];")
        lines.append(f"  {previous} -> shuffle;")
        previous = "shuffle"
    dw_detail = f"{unit.bottleneck} ch, stride {unit.stride}, {_size(unit.output_size)}; BN"
    lines.append(f"  dwconv [label={box('3×3 DWConv', dw_detail)}];")
    lines.append(f"  {previous} -> dwconv;")
    second_detail = f"{unit.bottleneck} → {branch_out} ch, groups = {g2}; BN"
    lines.append(f"  gconv2 [label={box('1×1 GConv', second_detail, _strip(g2, False, font))}];")
    lines.append("  dwconv -> gconv2;")
    if stride2:
        lines.append(f'  shortcut [label="3×3 AvgPool, stride 2\\n{unit.in_channels} ch, {_size(unit.output_size)}"];')
        lines.append(f'  input -> shortcut [{edge_label}=" shortcut"];')
        lines.append(
            f'  merge [label="Concat{newline}{unit.in_channels} + {branch_out} = {unit.out_channels} ch", '
            "shape=ellipse];"
        )
        lines.append("  shortcut -> merge;")
    else:
        lines.append(f'  merge [label="Add", shape={"box" if compact else "circle"}];')
        lines.append(f'  input -> merge [{edge_label}=" identity"];')
    lines.append("  gconv2 -> merge;")
    lines.append(
        f'  relu [label="ReLU{newline}{unit.out_channels} ch, {_size(unit.output_size)}", fillcolor="#f4f4f4"];'
    )
    lines.append("  merge -> relu;")
    lines.append("}")
    return content_named("\n".join(lines))


DOT_BINARY = "dot"
DOT_TIMEOUT_S = 30.0
_SVG_NOISE = re.compile(r"<!--.*?-->\s*|<!DOCTYPE[^>]*>\s*", re.S)  # comments and the DTD: a quarter of the bytes


class DiagramError(RuntimeError):
    """``dot`` could not draw a diagram; the message says why, for the page to show in its place."""


def dot_available(binary: str | None = None) -> bool:
    return shutil.which(binary or DOT_BINARY) is not None


def dot_to_svg(dot: str, binary: str | None = None, timeout_s: float = DOT_TIMEOUT_S) -> str:
    """SVG of a DOT source, laid out by Graphviz's ``dot -Tsvg`` on the server (comments dropped).

    Raises ``DiagramError`` (one sentence, no traceback to show) when the binary is missing, fails or
    takes longer than ``timeout_s``.
    """
    binary = binary or DOT_BINARY
    if not dot_available(binary):
        raise DiagramError(
            f"Graphviz's `{binary}` program is not installed on the server, so this diagram "
            "cannot be drawn (install the `graphviz` package; the DOT download still has it)."
        )
    try:
        done = subprocess.run([binary, "-Tsvg"], input=dot.encode(), capture_output=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise DiagramError(f"Graphviz's `{binary}` did not draw this diagram ({type(error).__name__}).") from error
    if done.returncode != 0 or b"<svg" not in done.stdout:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        raise DiagramError(
            f"Graphviz's `{binary}` could not draw this diagram (exit {done.returncode}: "
            f"{shown_value(why[0], 200) if why else 'no message'})."
        )
    return _SVG_NOISE.sub("", done.stdout.decode())


def _colour_cells(order: list[int], font: float) -> str:
    """One cell per channel in its group's colour, holding the group number (colour is not the only cue)."""
    return "".join(
        f'<TD BGCOLOR="{group_color(g)}" WIDTH="24" HEIGHT="24"><FONT COLOR="{text_color(group_color(g))}" '
        f'POINT-SIZE="{font:g}">{g}</FONT></TD>'
        for g in order
    )


def shuffle_demo_dot(groups: int = 3, per_group: int = 3, present: bool = False) -> str:
    """The Overview's tiny Fig. 1: channels coloured and numbered by group, before and after the shuffle."""
    font = diagram_font(present)
    before = [g for g in range(groups) for _ in range(per_group)]
    after = [g for _ in range(per_group) for g in range(groups)]
    table = '<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="2"><TR><TD>{}</TD>{}</TR></TABLE>>'
    return content_named(
        "\n".join(
            [
                "digraph shuffle {",
                '  graph [rankdir=TB, bgcolor="transparent", nodesep=0.2, ranksep=0.35];',
                f'  node [shape=plaintext, fontname="{FONT}", fontsize={font + 3:g}];',
                f'  edge [color="{NEUTRAL}", fontname="{FONT}", fontsize={font + 1:g}];',
                f"  before [label={table.format(f'after GConv (g = {groups})', _colour_cells(before, font))}];",
                f"  after [label={table.format('after channel shuffle', _colour_cells(after, font))}];",
                f'  before -> after [label=" reshape ({groups}, {per_group}) → transpose → flatten"];',
                "}",
            ]
        )
    )
