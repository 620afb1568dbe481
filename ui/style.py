"""Colours shared by every chart and diagram: one colour per group, everywhere.

Index ``i`` is the colour of channel group ``i`` in a diagram, and of the group count
``PAPER_GROUPS[i]`` in a chart, so a teacher's "the orange group" means one thing.
Okabe-Ito, a palette that stays distinct for colour-blind viewers and on projectors.
"""

from __future__ import annotations

from explorer import PAPER_GROUPS

PALETTE = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # green
    "#CC79A7",  # purple
    "#D55E00",  # vermillion
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
NEUTRAL = "#7f7f7f"
HIGHLIGHT = "#D55E00"
CURRENT = "#000000"  # outline of the sidebar's model in a chart of several models


def group_color(index: int) -> str:
    """Colour of channel group ``index`` (0-based); cycles past eight groups."""
    return PALETTE[index % len(PALETTE)]


def groups_color(groups: int) -> str:
    """Colour of a group count g in charts across g (paper values first, then cycling)."""
    if groups in PAPER_GROUPS:
        return PALETTE[PAPER_GROUPS.index(groups)]
    return PALETTE[(len(PAPER_GROUPS) + groups) % len(PALETTE)]
