"""Point labels only where they fit: a greedy placement on a log-log chart, so names never pile on each other.

Plotly draws every text label where it is told, so Table 8's 18 points (three models at
three inputs on two backends, several within a few pixels) used to pile their names into
an unreadable block. ``fitting_positions`` estimates each label's box in pixels (the plot
area of a chart ``PLOT_PX`` wide and high, glyphs ``CHAR_EM`` of the font size wide), tries
the positions in ``POSITIONS`` in turn, and keeps the first that overlaps no marker, no
label already placed and stays inside the plot; a point whose label fits nowhere gets
none (its hover still names it, and the legend names the backends). An empty text asks for no label.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

PLOT_PX = (560, 440)  # the plot area of the Latency page's 560-px chart beside its legend, 1280-px window
CHAR_EM = 0.6  # average glyph width in font sizes (labels are mostly digits and lower case)
MARKER_PX = 14
POSITIONS = ("top center", "bottom center", "middle right", "middle left")
Box = tuple[float, float, float, float]  # left, bottom, right, top in pixels


def _scale(values: Sequence[float], pixels: float, extent: Sequence[float] = ()) -> list[float]:
    logs = [math.log10(v) for v in values]
    low, high = min(logs + [math.log10(v) for v in extent]), max(logs + [math.log10(v) for v in extent])
    span = (high - low) or 1.0
    pad = 0.06 * span  # plotly's autorange leaves about this much beyond the extreme points
    return [(v - low + pad) / (span + 2 * pad) * pixels for v in logs]


def label_box(x: float, y: float, text: str, position: str, font_px: float) -> Box:
    """The box a label at ``position`` around the point (x, y) in pixels occupies."""
    width, height, gap = len(text) * CHAR_EM * font_px, 1.25 * font_px, MARKER_PX / 2 + 2
    if position == "top center":
        return x - width / 2, y + gap, x + width / 2, y + gap + height
    if position == "bottom center":
        return x - width / 2, y - gap - height, x + width / 2, y - gap
    if position == "middle right":
        return x + gap, y - height / 2, x + gap + width, y + height / 2
    return x - gap - width, y - height / 2, x - gap, y + height / 2


def overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def fitting_positions(
    xs: Sequence[float],
    ys: Sequence[float],
    texts: Sequence[str],
    font_px: float,
    x_extent: Sequence[float] = (),
    y_extent: Sequence[float] = (),
) -> list[str | None]:
    """For each point (positive x and y, log-log), the position its label fits at, or None where it fits nowhere.

    ``x_extent`` / ``y_extent``: other values the axes cover (e.g. a line's ends), which shrink the scale."""
    if not xs:
        return []
    px, py = _scale(xs, PLOT_PX[0], x_extent), _scale(ys, PLOT_PX[1], y_extent)
    half = MARKER_PX / 2
    taken: list[Box] = [(x - half, y - half, x + half, y + half) for x, y in zip(px, py)]  # markers, then labels
    chosen: list[str | None] = [None] * len(xs)
    for i in sorted(range(len(xs)), key=lambda i: (px[i], py[i])):
        if not texts[i]:  # nothing to draw for this point
            continue
        for position in POSITIONS:
            box = label_box(px[i], py[i], texts[i], position, font_px)
            inside = box[0] >= 0 and box[2] <= PLOT_PX[0] and box[1] >= 0 and box[3] <= PLOT_PX[1]
            if inside and not any(overlap(box, other) for other in taken):
                chosen[i] = position
                taken.append(box)
                break
    return chosen
