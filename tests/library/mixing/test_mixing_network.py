"""Measured on the real network: channel dependencies of the built ShuffleNet.

Measured = forward-mode autograd on the model ``build_model`` returns
(``measure_stage``). The expectations are stated from the paper's unit (Fig. 2)
directly, and also compared with ``predict_stage`` (the same unit in numpy).
"""

import numpy as np
import pytest
import torch
from torch import nn

from explorer import ShuffleNetConfig, build_model
from explorer.mixing import (
    StageMixing,
    block_diagonal,
    check_scope,
    check_stage,
    linearised,
    measure_stage,
    predict_stage,
    unit_mask,
)

PAPER_GROUPS = (1, 2, 3, 4, 8)


def fractions(matrix):
    return matrix.sum(axis=1) / matrix.shape[1]


@pytest.fixture(scope="module")
def measured():
    """measure_stage for g = 1, 2, 3, 4, 8 with and without shuffle, 1x, every stage."""
    results = {}
    for groups in PAPER_GROUPS:
        for shuffle in (True, False):
            torch.manual_seed(groups)
            config = ShuffleNetConfig(groups=groups, shuffle=shuffle)
            model = build_model(config)
            for stage in (2, 3, 4):
                results[groups, shuffle, stage] = measure_stage(config, stage, model, threads=1)
    return results


def same(a: StageMixing, b: StageMixing, scope: str) -> bool:
    return len(a.matrices(scope)) == len(b.matrices(scope)) and all(
        np.array_equal(x, y) for x, y in zip(a.matrices(scope), b.matrices(scope))
    )


@pytest.mark.parametrize("groups", PAPER_GROUPS)
@pytest.mark.parametrize("stage", (2, 3, 4))
def test_without_shuffle_stride1_units_keep_each_output_in_its_own_group(measured, groups, stage):
    result = measured[groups, False, stage]
    channels = result.channels
    assert len(result.stride1) == {2: 3, 3: 7, 4: 3}[stage]
    for matrix in result.stride1:  # one unit, two units, ... all of them
        assert np.array_equal(matrix, block_diagonal(channels, groups))
        assert np.all(fractions(matrix) == 1 / groups)
    assert result.fractions("stride1") == [pytest.approx(1 / groups)] * len(result.stride1)


@pytest.mark.parametrize("groups", PAPER_GROUPS)
@pytest.mark.parametrize("stage", (2, 3, 4))
def test_with_shuffle_one_stride1_unit_already_connects_everything(measured, groups, stage):
    result = measured[groups, True, stage]
    assert (result.bottleneck // groups) >= groups  # every 1x paper model has >= g bottleneck channels per group
    assert result.stride1[0].all()
    assert result.units_to_full("stride1") == 1


@pytest.mark.parametrize("groups", PAPER_GROUPS)
@pytest.mark.parametrize("shuffle", (True, False))
@pytest.mark.parametrize("stage", (2, 3, 4))
def test_measured_equals_the_structure_of_fig2(measured, groups, shuffle, stage):
    config = ShuffleNetConfig(groups=groups, shuffle=shuffle)
    result, predicted = measured[groups, shuffle, stage], predict_stage(config, stage)
    assert same(result, predicted, "stride1") and same(result, predicted, "stage")


@pytest.mark.parametrize("groups", PAPER_GROUPS)
@pytest.mark.parametrize("shuffle", (True, False))
def test_identity_shortcut_ties_every_output_to_its_own_input(measured, groups, shuffle):
    for stage in (2, 3, 4):
        for matrix in measured[groups, shuffle, stage].stride1:
            assert np.all(np.diag(matrix) == 1)


@pytest.mark.parametrize("groups", PAPER_GROUPS)
@pytest.mark.parametrize("shuffle", (True, False))
@pytest.mark.parametrize("stage", (2, 3, 4))
def test_stride2_unit_passes_the_pooled_input_channels_straight_through(measured, groups, shuffle, stage):
    result = measured[groups, shuffle, stage]
    stage_in = result.stage_in_channels
    first = result.first_unit
    assert first.shape == (result.channels, stage_in)
    assert np.array_equal(first[:stage_in], np.eye(stage_in, dtype=np.uint8))  # avg pool: channel i -> i only
    branch = first[stage_in:]
    if stage == 2:  # Stage2's first 1x1 is not grouped: every branch channel reads every input channel
        assert branch.all()
    elif not shuffle:
        per_out, per_in = branch.shape[0] // groups, stage_in // groups
        assert np.array_equal(branch, np.kron(np.eye(groups), np.ones((per_out, per_in))).astype(np.uint8))
    else:
        assert branch.all()  # m/g >= g at 1x


# --------------------------------------------------------------------------- thin bottlenecks


def expected_one_unit_with_shuffle(channels: int, groups: int) -> np.ndarray:
    """Stated from Fig. 2 by hand: output o of group j reads, through the branch, the compress
    groups at shuffled bottleneck positions j*m/g .. (j+1)*m/g - 1 (position p came from
    group p % g), and, through the identity shortcut, its own channel o."""
    per_group, m_per_group = channels // groups, channels // 4 // groups
    matrix = np.zeros((channels, channels), dtype=np.uint8)
    for o in range(channels):
        j = o // per_group
        for p in range(j * m_per_group, (j + 1) * m_per_group):
            source_group = p % groups
            matrix[o, source_group * per_group : (source_group + 1) * per_group] = 1
        matrix[o, o] = 1
    return matrix


@pytest.mark.parametrize(
    "groups,width,stage", [(8, 0.25, 2), (8, 0.25, 3), (8, 0.5, 2), (12, 0.25, 2), (16, 0.5, 2), (16, 1.0, 2)]
)
def test_with_a_thin_bottleneck_the_fraction_grows_with_each_unit(groups, width, stage):
    config = ShuffleNetConfig(groups=groups, width=width)
    torch.manual_seed(0)
    result = measure_stage(config, stage)
    m_per_group = result.bottleneck // groups
    assert m_per_group < groups  # the case under test
    first = result.stride1[0]
    assert np.array_equal(first, expected_one_unit_with_shuffle(result.channels, groups))
    assert not first.all()
    fractions_by_units = result.fractions("stride1")
    full = result.units_to_full("stride1")
    assert full is not None and full >= 2, fractions_by_units
    for k in range(1, full):
        assert fractions_by_units[k] > fractions_by_units[k - 1], fractions_by_units
    assert same(result, predict_stage(config, stage), "stride1")
    # without shuffle, the same thin model stays at exactly 1/g
    no_shuffle = measure_stage(config.with_(shuffle=False), stage)
    assert no_shuffle.fractions("stride1") == [pytest.approx(1 / groups)] * len(no_shuffle.stride1)


def test_shortcut_shows_when_the_branch_misses_the_own_group():
    """g=8, m/g=3: output group 1 reads compress groups 3, 4, 5 -- not its own group 1 --
    yet each of its channels still depends on itself through the shortcut."""
    matrix = expected_one_unit_with_shuffle(96, 8)
    torch.manual_seed(1)
    measured_matrix = measure_stage(ShuffleNetConfig(groups=8, width=0.25), 2).stride1[0]
    assert np.array_equal(measured_matrix, matrix)
    own_group = slice(12, 24)
    for o in range(12, 24):
        assert measured_matrix[o, o] == 1
        assert measured_matrix[o, own_group].sum() == 1  # only itself from its own group
    assert fractions(measured_matrix)[12] == pytest.approx((3 * 12 + 1) / 96)


# --------------------------------------------------------------------------- soundness of the method


def test_pattern_is_structural_not_weight_or_mode_dependent():
    config = ShuffleNetConfig(groups=3, width=0.5)
    torch.manual_seed(5)
    a = measure_stage(config, 3, build_model(config))
    torch.manual_seed(6)
    model = build_model(config).train()  # train mode: the measurement uses an eval copy
    b = measure_stage(config, 3, model)
    assert model.training  # the caller's model is left alone
    assert same(a, b, "stride1") and same(a, b, "stage")


def test_linearised_copy_has_no_relu_and_leaves_the_model_intact():
    model = build_model(ShuffleNetConfig(groups=2, width=0.5))
    copy = linearised(model.stage3)
    assert not any(isinstance(m, nn.ReLU) for m in copy.modules())
    assert any(isinstance(m, nn.ReLU) for m in model.stage3.modules())
    assert not copy.training


def test_one_by_one_pixel_probes_agree_with_larger_image_probes():
    """The fast path (1x1 probes side by side on a pixel grid, depthwise reduced to its centre
    tap) gives the same matrices as batches of 3x3 and 5x5 probe images through the
    unmodified (linearised) units."""
    config = ShuffleNetConfig(groups=4, width=0.25)
    torch.manual_seed(2)
    model = build_model(config)
    for stage in (2, 3):
        fast = measure_stage(config, stage, model)
        for size in (3, 5):
            slow = measure_stage(config, stage, model, probe_size=size)
            assert same(fast, slow, "stride1") and same(fast, slow, "stage")


def test_probes_in_chunks_give_the_same_matrices(monkeypatch):
    """Very wide models probe their channels in chunks (bounded memory): same answer."""
    import explorer.mixing.probes as mixing_network

    config = ShuffleNetConfig(groups=4, width=0.5, shuffle=True)
    torch.manual_seed(8)
    model = build_model(config)
    whole = measure_stage(config, 3, model)
    monkeypatch.setattr(mixing_network, "PROBE_CHUNK", 100)  # 272 and 144 channels: 3 and 2 chunks
    chunked = measure_stage(config, 3, model)
    assert same(whole, chunked, "stride1") and same(whole, chunked, "stage")
    assert same(chunked, predict_stage(config, 3), "stage")


@pytest.mark.parametrize("shuffle", (True, False))
def test_whole_stage_composition_equals_end_to_end_measurement(shuffle):
    config = ShuffleNetConfig(groups=8, width=0.25, shuffle=shuffle)
    torch.manual_seed(3)
    model = build_model(config)
    for stage in (2, 3, 4):
        composed = measure_stage(config, stage, model)
        direct = measure_stage(config, stage, model, compose=False)
        assert direct.stage_direct is not None
        assert same(composed, direct, "stage")


def test_the_measurement_sees_the_model_not_the_config():
    """Remove the shuffle from one unit of a shuffled model: the measurement must notice."""
    config = ShuffleNetConfig(groups=8, width=0.25)
    torch.manual_seed(4)
    model = build_model(config)
    model.stage2[1].shuffle = nn.Identity()
    result = measure_stage(config, 2, model)
    predicted = predict_stage(config, 2)
    assert not np.array_equal(result.stride1[0], predicted.stride1[0])
    assert np.array_equal(result.stride1[0], block_diagonal(96, 8))  # that unit no longer mixes


@pytest.mark.parametrize("variant", ("arch2", "shallow"))
def test_variants(variant):
    config = ShuffleNetConfig(groups=3, width=0.5, variant=variant)
    torch.manual_seed(7)
    model = build_model(config)
    for stage in (2, 3, 4):
        result = measure_stage(config, stage, model)
        assert len(result.stride1) == config.plan().stage_repeats[stage - 2] - 1
        assert same(result, predict_stage(config, stage), "stride1") and same(
            result, predict_stage(config, stage), "stage"
        )


# --------------------------------------------------------------------------- API


def test_unit_mask_of_a_stride1_unit_without_shuffle_is_block_diagonal():
    assert np.array_equal(unit_mask(24, 24, 3, 1, False), block_diagonal(24, 3))
    assert np.array_equal(unit_mask(24, 24, 3, 1, True), expected_one_unit_with_shuffle(24, 3))  # m/g = 2 < 3


def test_unit_mask_thin_bottleneck_is_not_full():
    assert not unit_mask(48, 48, 4, 1, True).all()  # m = 12, m/g = 3 < 4
    assert unit_mask(64, 64, 4, 1, True).all()  # m = 16, m/g = 4 >= 4


@pytest.mark.parametrize("bad", (1, 5, 0, "2", 2.0, True))
def test_bad_stage(bad):
    with pytest.raises(ValueError, match=r"stage=.* is not allowed: stage must be 2, 3 or 4"):
        check_stage(bad)


def test_bad_scope_and_units():
    with pytest.raises(ValueError, match="scope='all' is not allowed"):
        check_scope("all")
    result = predict_stage(ShuffleNetConfig(), 2)
    with pytest.raises(ValueError, match="units=4 is not allowed: units must be an integer from 1 to 3"):
        result.matrix("stride1", 4)
    assert result.matrix("stage", 4).shape == (240, 24)


def test_to_dict():
    payload = predict_stage(ShuffleNetConfig(groups=3, shuffle=False), 2).to_dict("stride1")
    assert payload["fraction"] == pytest.approx(1 / 3) and payload["units"] == 3
    assert len(payload["matrix"]) == 240 and set(map(len, payload["matrix"])) == {240}
    assert {v for row in payload["matrix"] for v in row} == {0, 1}


def test_threads_option_restores_the_thread_count():
    before = torch.get_num_threads()
    config = ShuffleNetConfig(groups=2, width=0.25)
    a = measure_stage(config, 2, threads=1)
    assert torch.get_num_threads() == before
    assert same(a, predict_stage(config, 2), "stride1")
    with pytest.raises(ValueError, match="threads=0 is not allowed"):
        measure_stage(config, 2, threads=0)
