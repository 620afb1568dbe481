"""The Fig. 1 toy: shuffle mapping and analytic dependency matrices.

The references here are written independently of explorer/mixing.py: brute-force
loops over channels and paths, and the library's torch ``channel_shuffle`` applied to
index tensors.
"""

import itertools
import re
import shutil
import subprocess

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import channel_shuffle
from explorer.mixing.toy import (
    WIRINGS,
    check_toy,
    connectivity,
    connectivity_by_layer,
    cross_equals_shuffle,
    cross_group_mask,
    default_toy_channels,
    group_conv_mask,
    layer_masks,
    row_fractions,
    shuffle_destination,
    shuffle_matrix,
    shuffle_source,
    shuffle_steps,
    toy_mixing,
)
from ui.figures.toy_diagram import toy_dot

# (C, g) pairs: every divisor pair up to 48 channels, plus a few wide ones.
PAIRS = [(c, g) for c in range(1, 49) for g in range(1, c + 1) if c % g == 0] + [(96, 8), (144, 3), (384, 8)]


@st.composite
def toy_args(draw):
    groups = draw(st.integers(1, 10))
    per_group = draw(st.integers(1, 10))
    layers = draw(st.integers(1, 4))
    return groups * per_group, groups, layers


# --------------------------------------------------------------------------- brute force


def brute_shuffle_source(channels, groups):
    """Write the indices into a g x C/g grid row by row, read it column by column."""
    per_group = channels // groups
    grid = [[g * per_group + k for k in range(per_group)] for g in range(groups)]
    return [grid[g][k] for k in range(per_group) for g in range(groups)]


def brute_dependencies(channels, groups, layers, wiring):
    """Path enumeration: which input channels each channel of each layer can be traced back to."""
    per_group = channels // groups
    group = lambda c: c // per_group  # noqa: E731
    source = brute_shuffle_source(channels, groups)
    # deal: round k hands channel k of group 0, 1, ..., g-1 to the next free slot
    slots = [g * per_group + k for k in range(per_group) for g in range(groups)]
    reader = {channel: slot // per_group for slot, channel in enumerate(slots)}
    reach = [{c} for c in range(channels)]  # input channel c reaches itself
    for layer in range(1, layers + 1):
        if layer > 1 and wiring == "shuffle":
            reach = [reach[source[p]] for p in range(channels)]
        new = []
        for o in range(channels):
            if layer > 1 and wiring == "cross":
                reads = [i for i in range(channels) if reader[i] == group(o)]
            else:
                reads = [i for i in range(channels) if group(i) == group(o)]
            new.append(set().union(*(reach[i] for i in reads)))
        reach = new
    matrix = np.zeros((channels, channels), dtype=np.uint8)
    for o, inputs in enumerate(reach):
        matrix[o, sorted(inputs)] = 1
    return matrix


# --------------------------------------------------------------------------- the shuffle


@pytest.mark.parametrize("channels,groups", PAIRS)
def test_shuffle_source_matches_brute_force_and_torch(channels, groups):
    source = shuffle_source(channels, groups)
    assert source.tolist() == brute_shuffle_source(channels, groups)
    x = torch.arange(channels, dtype=torch.float32).view(1, channels, 1, 1)
    assert channel_shuffle(x, groups).flatten().long().tolist() == source.tolist()


@given(toy_args(), st.integers(1, 3), st.integers(1, 3))
@settings(max_examples=60, deadline=None)
def test_shuffle_matrix_and_destination_agree_with_channel_shuffle_on_random_tensors(args, height, width):
    channels, groups, _ = args
    x = torch.randn(2, channels, height, width)
    shuffled = channel_shuffle(x, groups)
    by_matrix = torch.einsum("pc,nchw->nphw", torch.from_numpy(shuffle_matrix(channels, groups)).float(), x)
    assert torch.equal(shuffled, by_matrix)
    destination = shuffle_destination(channels, groups)
    for i in range(channels):  # input channel i lands at destination[i]
        assert torch.equal(shuffled[:, destination[i]], x[:, i])
    assert sorted(destination.tolist()) == list(range(channels))


def test_shuffle_steps_are_reshape_transpose_flatten():
    steps = shuffle_steps(12, 3)
    assert steps.grid.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert steps.transposed.tolist() == [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]
    assert steps.source.tolist() == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    assert steps.destination.tolist() == [0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11]
    records = steps.records()
    assert records[4] == {
        "input channel": 4,
        "group": 1,
        "index in group": 0,
        "output position": 1,
        "output group (next GConv)": 0,
    }


def test_shuffle_with_one_channel_per_group_or_one_group_is_the_identity():
    assert shuffle_source(8, 8).tolist() == list(range(8))
    assert shuffle_source(8, 1).tolist() == list(range(8))


# --------------------------------------------------------------------------- matrices


@pytest.mark.parametrize("wiring", WIRINGS)
@pytest.mark.parametrize("channels,groups", [p for p in PAIRS if p[0] <= 24])
def test_connectivity_matches_path_enumeration(channels, groups, wiring):
    for layers in range(1, 5):
        assert np.array_equal(
            connectivity(channels, groups, layers, wiring), brute_dependencies(channels, groups, layers, wiring)
        ), (layers,)


@given(toy_args(), st.sampled_from(WIRINGS))
@settings(max_examples=80, deadline=None)
def test_connectivity_matches_path_enumeration_hypothesis(args, wiring):
    channels, groups, layers = args
    assert np.array_equal(
        connectivity(channels, groups, layers, wiring), brute_dependencies(channels, groups, layers, wiring)
    )


@pytest.mark.parametrize("channels,groups", PAIRS)
def test_without_shuffle_every_output_sees_exactly_its_own_group(channels, groups):
    per_group = channels // groups
    expected = np.kron(np.eye(groups, dtype=np.uint8), np.ones((per_group, per_group), dtype=np.uint8))
    for matrix in connectivity_by_layer(channels, groups, 4, "none"):
        assert np.array_equal(matrix, expected)
        assert np.allclose(row_fractions(matrix), 1 / groups)


@pytest.mark.parametrize("channels,groups", PAIRS)
def test_cross_group_wiring_is_the_shuffle(channels, groups):
    """Fig. 1b == Fig. 1c, layer by layer and end to end."""
    assert cross_equals_shuffle(channels, groups, 4)
    assert np.array_equal(
        cross_group_mask(channels, groups),
        group_conv_mask(channels, channels, groups) @ shuffle_matrix(channels, groups),
    )


@pytest.mark.parametrize("channels,groups", [p for p in PAIRS if (p[0] // p[1]) % p[1] == 0])
def test_cross_group_wiring_reads_the_jth_subgroup_of_every_group_when_it_divides(channels, groups):
    """The paper's picture: with C/g a multiple of g, group j reads sub-group j of each group."""
    per_group = channels // groups
    sub = per_group // groups
    mask = cross_group_mask(channels, groups)
    for o in range(channels):
        j = o // per_group
        expected = [g * per_group + j * sub + k for g in range(groups) for k in range(sub)]
        assert np.flatnonzero(mask[o]).tolist() == expected


@pytest.mark.parametrize("channels,groups", PAIRS)
def test_two_layers_with_shuffle_are_fully_connected_iff_c_over_g_at_least_g(channels, groups):
    full = bool(connectivity(channels, groups, 2, "shuffle").all())
    assert full == (channels // groups >= groups)


@pytest.mark.parametrize("channels,groups", PAIRS)
def test_with_shuffle_the_fraction_never_drops_and_grows_until_full(channels, groups):
    fractions = [row_fractions(m).mean() for m in connectivity_by_layer(channels, groups, 4, "shuffle")]
    assert fractions[0] == pytest.approx(1 / groups)
    for before, after in itertools.pairwise(fractions):
        assert after >= before
        if before < 1 and channels // groups > 1:
            assert after > before  # some mixing every layer, as long as a group has 2+ channels
    if channels // groups == 1:  # one channel per group: the shuffle is the identity, nothing mixes
        assert fractions == [pytest.approx(1 / groups)] * 4


def test_layer_masks_shapes_and_first_layer():
    for wiring in WIRINGS:
        masks = layer_masks(12, 3, 3, wiring)
        assert len(masks) == 3 and all(m.shape == (12, 12) for m in masks)
        assert np.array_equal(masks[0], group_conv_mask(12, 12, 3))


def test_toy_mixing_dict():
    toy = toy_mixing(12, 3, 2, "shuffle")
    payload = toy.to_dict()
    assert payload["matrix"] == [[1] * 12] * 12 and payload["fraction"] == 1.0
    assert payload["fraction_by_layer"] == [pytest.approx(1 / 3), 1.0]
    assert toy_mixing(12, 3, 2, "none").fraction == pytest.approx(1 / 3)


def test_default_toy_channels_mix_fully_in_two_layers():
    for groups in range(1, 17):
        channels = default_toy_channels(groups)
        assert channels % groups == 0 and channels // groups >= groups
    assert default_toy_channels(3) == 12


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"channels": 10, "groups": 3, "layers": 2}, "channels"),
        ({"channels": 12, "groups": 0, "layers": 2}, "groups"),
        ({"channels": 12, "groups": 3, "layers": 0}, "layers"),
        ({"channels": 12, "groups": 3, "layers": 5}, "layers"),
        ({"channels": 0, "groups": 1, "layers": 2}, "channels"),
        ({"channels": 2048, "groups": 1, "layers": 2}, "channels"),
        ({"channels": 12, "groups": 3, "layers": 2, "wiring": "bogus"}, "wiring"),
        ({"channels": 12, "groups": 3, "layers": True}, "layers"),
    ],
)
def test_bad_toy_arguments_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field}=.* is not allowed: {field} must be "):
        check_toy(**kwargs)


# --------------------------------------------------------------------------- DOT


def edges(dot):
    return set(re.findall(r"^\s*(\w+) -> (\w+) \[color", dot, flags=re.M))


@pytest.mark.parametrize("wiring", WIRINGS)
def test_channel_diagram_has_an_edge_exactly_where_a_connection_exists(wiring):
    channels, groups, layers = 12, 3, 3
    dot = toy_dot(channels, groups, layers, wiring)
    found = edges(dot)
    expected = set()
    previous = "in"
    source = shuffle_source(channels, groups)
    for layer, mask in enumerate(layer_masks(channels, groups, layers, wiring), start=1):
        if layer > 1 and wiring == "shuffle":
            expected |= {(f"{previous}_{source[p]}", f"s{layer}_{p}") for p in range(channels)}
            previous = f"s{layer}"
            mask = group_conv_mask(channels, channels, groups)  # the shuffle is its own rank
        expected |= {(f"{previous}_{i}", f"l{layer}_{o}") for o, i in zip(*np.nonzero(mask))}
        previous = f"l{layer}"
    assert found == expected


def test_channel_diagram_colours_nodes_by_group():
    from ui.shell.style import group_color

    dot = toy_dot(6, 3, 2, "shuffle")
    for c in range(6):
        assert re.search(rf'in_{c} \[[^]]*fillcolor="{group_color(c // 2)}"', dot)
    # after the shuffle, position p holds channel source[p] and keeps its group's colour
    for p, c in enumerate(shuffle_source(6, 3)):
        assert re.search(rf's2_{p} \[[^]]*fillcolor="{group_color(c // 2)}"', dot)


def test_large_toys_are_drawn_as_group_bundles_and_say_so():
    small, large = toy_dot(12, 3, 2), toy_dot(96, 8, 2)
    assert "one node per group" not in small and "one node per group" in large
    assert len(large) < 40_000
    assert "in_b7" in large and "in_8" not in large


@pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz dot not installed")
@pytest.mark.parametrize(
    "channels,groups,layers,wiring",
    [(12, 3, 2, "shuffle"), (9, 3, 4, "cross"), (64, 8, 3, "shuffle"), (48, 4, 2, "none")],
)
def test_dot_renders(channels, groups, layers, wiring):
    dot = toy_dot(channels, groups, layers, wiring)
    result = subprocess.run(["dot", "-Tsvg"], input=dot, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "<svg" in result.stdout
