"""The group colours stay apart: up to 16 groups, also for colour-blind viewers where a palette can manage it.

Distances are CIEDE2000 (the CIE's perceptual colour difference; about 2 is "just noticeable",
10 and more "clearly different") between sRGB colours, computed here from the published
formulas. Colour blindness is simulated with Machado, Oliveira & Fernandes (2009), severity
1.0 (complete protanopia, deuteranopia, tritanopia), applied to linear RGB.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from ui.figures.toy_diagram import toy_dot
from ui.shell.style import GROUP_SYMBOLS, NEUTRAL, PALETTE, colours_repeat, group_color, group_symbol, text_color

SIMULATIONS = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
D65 = np.array([0.95047, 1.0, 1.08883])


def linear_rgb(color: str) -> np.ndarray:
    srgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def lab(linear: np.ndarray) -> tuple[float, float, float]:
    t = SRGB_TO_XYZ @ np.clip(linear, 0, 1) / D65
    f = np.where(t > (6 / 29) ** 3, np.cbrt(t), t / (3 * (6 / 29) ** 2) + 4 / 29)
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def ciede2000(lab1, lab2) -> float:
    (l1, a1, b1), (l2, a2, b2) = lab1, lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p, h2p = math.degrees(math.atan2(b1, a1p)) % 360, math.degrees(math.atan2(b2, a2p)) % 360
    dh = 0.0 if c1p * c2p == 0 else h2p - h1p - 360 * ((h2p - h1p) > 180) + 360 * ((h2p - h1p) < -180)
    d_l, d_c, d_h = l2 - l1, c2p - c1p, 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    else:
        h_mean = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c, s_h = 1 + 0.045 * cp_mean, 1 + 0.015 * cp_mean * t
    r_t = (
        -math.sin(math.radians(60 * math.exp(-(((h_mean - 275) / 25) ** 2))))
        * 2
        * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
    )
    return math.sqrt((d_l / s_l) ** 2 + (d_c / s_c) ** 2 + (d_h / s_h) ** 2 + r_t * (d_c / s_c) * (d_h / s_h))


def closest_pair(colors, simulation: str | None = None) -> tuple[float, str, str]:
    matrix = np.eye(3) if simulation is None else SIMULATIONS[simulation]
    labs = {c: lab(matrix @ linear_rgb(c)) for c in colors}
    return min((ciede2000(labs[a], labs[b]), a, b) for a, b in itertools.combinations(colors, 2))


def test_the_formula_matches_published_values():
    # Sharma, Wu & Dalal (2005), test pairs 1, 7 and 17 of their CIEDE2000 table.
    assert ciede2000((50, 2.6772, -79.7751), (50, 0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50, 0, 0), (50, -1, 2)) == pytest.approx(2.3669, abs=1e-4)
    assert ciede2000((50, 2.5, 0), (73, 25, -18)) == pytest.approx(27.1492, abs=1e-4)


def test_sixteen_distinct_colours():
    assert len(PALETTE) == len(set(PALETTE)) == 16
    distance, a, b = closest_pair(PALETTE)
    assert distance >= 12, (a, b, distance)
    for color in PALETTE:  # a group is never drawn in the neutral grey of edges and missing cells, nor near white
        assert ciede2000(lab(linear_rgb(color)), lab(linear_rgb(NEUTRAL))) >= 10, color
        assert lab(linear_rgb(color))[0] < 92, color


@pytest.mark.parametrize("simulation", SIMULATIONS)
def test_the_first_eight_stay_apart_for_colour_blind_viewers(simulation):
    distance, a, b = closest_pair(PALETTE[:8], simulation)  # Okabe-Ito: designed for it
    assert distance >= 10, (a, b, distance)


@pytest.mark.parametrize("simulation", ["protanopia", "deuteranopia"])
def test_all_sixteen_stay_distinguishable_for_red_green_colour_blindness(simulation):
    distance, a, b = closest_pair(PALETTE, simulation)  # 16 hues cannot all be far apart: noticeable at least
    assert distance >= 5, (a, b, distance)


def test_past_sixteen_groups_colours_repeat_and_shapes_too():
    assert [group_color(i) for i in range(16)] == list(PALETTE)
    assert group_color(16) == group_color(0) and colours_repeat(17) and not colours_repeat(16)
    assert len(set(GROUP_SYMBOLS)) == 16 and group_symbol(17) == group_symbol(1)
    assert text_color("#000000") == "white" and text_color("#F0E442") == "black"


@pytest.mark.parametrize("channels,groups", [(12, 3), (16, 16), (32, 16), (256, 16), (64, 8)])
def test_every_node_of_fig1_says_its_group(channels, groups):
    """Colour is never the only cue: channel nodes carry g<group>, bundles their group or the groups they hold."""
    dot = toy_dot(channels, groups, 2, "shuffle")
    per_group = channels // groups
    channel_nodes = re.findall(r"^\s*in_(\d+) \[.*label=<<B>(\d+)</B><BR/><FONT[^>]*>g(\d+)</FONT>>", dot, re.M)
    bundles = re.findall(r'^\s*in_b(\d+) \[.*label="group (\d+)', dot, re.M)
    if channel_nodes:
        assert len(channel_nodes) == channels
        assert all(int(g) == int(c) // per_group for _, c, g in channel_nodes)
    else:
        assert [int(b) for b, _ in bundles] == [int(g) for _, g in bundles] == list(range(groups))
        shuffled = re.findall(r"s2_b\d+ \[shape=plaintext.*?each<BR/>(g[^<]+)<", dot)
        assert len(shuffled) == groups and all(text.startswith("g") for text in shuffled)


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")
@pytest.mark.parametrize("present", [False, True])
@pytest.mark.parametrize("groups", [1, 2, 3, 4, 8])
def test_fig1_of_the_paper_groups_fits_a_projector_at_natural_size(groups, present):
    """At the default C and up to L = 4, each diagram is at most 1100 px wide at 1 pt = 4/3 px: no sideways scroll
    at 1280 px with the sidebar collapsed, so the labels keep their full size."""
    channels = groups * max(groups, 4)
    for wiring in ("none", "cross", "shuffle"):
        svg = subprocess.run(
            ["dot", "-Tsvg"],
            input=toy_dot(channels, groups, 4, wiring, present=present),
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        width_pt = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1))
        assert width_pt * 4 / 3 <= 1100, (wiring, width_pt)
