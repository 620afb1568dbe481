"""Colours, marker shapes and font sizes shared by every chart and diagram: the one place for them.

Colours: index ``i`` is the colour of channel group ``i`` in a diagram, and of the group
count ``PAPER_GROUPS[i]`` in a chart, so a teacher's "the orange group" means one thing.
The first eight are Okabe-Ito (distinct for colour-blind viewers and on projectors); eight
more, from Paul Tol's schemes, keep up to 16 groups apart (``tests/app/test_palette.py``
checks every pair's CIEDE2000 distance, also under simulated colour blindness). Past 16
groups colours repeat, and every drawing then writes the group number on each node;
colour is never the only cue anyway: nodes carry numbers, plotly markers a shape per group.

Font sizes: plotly sizes are CSS pixels; graphviz sizes are points, which the app draws at
their natural size (1 pt = 4/3 px, ``ui.shell.page`` lets the DOT sizes through Streamlit's own
9.6 px rule), so 10 pt is 13.3 px. Presentation mode (``ui.shell.presentation``) uses the larger
set: at least 16 px for every figure label on a 1280x720 projector.
"""

from __future__ import annotations

from explorer import PAPER_GROUPS

PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#CC79A7",  # reddish purple
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
    "#332288",  # indigo
    "#882255",  # wine
    "#117733",  # dark green
    "#999933",  # olive
    "#AA4499",  # magenta
    "#661100",  # brown
    "#EE6677",  # rose
    "#80BA5A",  # light green
)
NEUTRAL = "#7f7f7f"
HIGHLIGHT = "#D55E00"
CURRENT = "#000000"  # outline of the sidebar's model in a chart of several models
# One plotly marker shape per group (a second cue beside colour), cycling like the colours.
GROUP_SYMBOLS = (
    "circle",
    "square",
    "diamond",
    "triangle-up",
    "cross",
    "x",
    "triangle-down",
    "pentagon",
    "hexagon",
    "star",
    "hourglass",
    "triangle-left",
    "bowtie",
    "star-square",
    "triangle-right",
    "diamond-tall",
)

# Plotly (CSS px) and graphviz (pt) base sizes: (normal, presentation mode).
CHART_FONT_PX = (15, 20)
DIAGRAM_FONT_PT = (10.0, 13.0)
BODY_FONT_PX = (16, 22)  # Streamlit's body text (config.toml's baseFontSize is the normal one)


def group_color(index: int) -> str:
    """Colour of channel group ``index`` (0-based); cycles past 16 groups (numbers then tell them apart)."""
    return PALETTE[index % len(PALETTE)]


def group_symbol(index: int) -> str:
    """Plotly marker symbol of channel group ``index``."""
    return GROUP_SYMBOLS[index % len(GROUP_SYMBOLS)]


def colours_repeat(groups: int) -> bool:
    """True when ``groups`` groups share colours, so each node must say its group number."""
    return groups > len(PALETTE)


def groups_color(groups: int) -> str:
    """Colour of a group count g in charts across g (paper values first, then cycling)."""
    if groups in PAPER_GROUPS:
        return PALETTE[PAPER_GROUPS.index(groups)]
    return PALETTE[(len(PAPER_GROUPS) + groups) % len(PALETTE)]


def text_color(fill: str) -> str:
    """Black or white, whichever reads better on ``fill`` (a ``#rrggbb`` colour)."""
    red, green, blue = (int(fill[i : i + 2], 16) for i in (1, 3, 5))
    return "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 150 else "white"


def chart_font(present: bool = False) -> int:
    """Base plotly font size in CSS px (titles +2; nothing drawn smaller than this)."""
    return CHART_FONT_PX[bool(present)]


def diagram_font(present: bool = False) -> float:
    """Base graphviz font size in points (titles larger; nothing drawn smaller than this)."""
    return DIAGRAM_FONT_PT[bool(present)]


OTHER_NETWORKS = "#000000"  # networks that are neither ShuffleNet nor MobileNet (AlexNet, VGG-16, ...)
BUDGET_LINE = "#D55E00"
