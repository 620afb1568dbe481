"""``python -m explorer mixing`` through a real subprocess: text, JSON, and one-line errors."""

import json
import subprocess

import numpy as np
import pytest
from conftest import assert_one_line_usage_error, run_cli

from explorer.mixing import connectivity


def cli(*args: str) -> subprocess.CompletedProcess:
    return run_cli("mixing", *args, timeout=300)


def test_toy_text():
    result = cli("--channels", "12", "--groups", "3", "--layers", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "C=12 channels in g=3 groups" in out and "(c) channel shuffle" in out
    assert "   0  1111 1111 1111" in out
    assert "     1  0.3333  0.3333  0.3333  no" in out and "     2  1.0000  1.0000  1.0000  yes" in out
    assert "give the same dependency matrices" in out


def test_toy_text_without_shuffle_is_block_diagonal():
    result = cli("--channels", "12", "--groups", "3", "--layers", "2", "--no-shuffle")
    assert result.returncode == 0, result.stderr
    assert "(a) no cross-group exchange" in result.stdout
    assert "   0  1111 0000 0000" in result.stdout and "  11  0000 0000 1111" in result.stdout


@pytest.mark.parametrize(
    "args,wiring", [((), "shuffle"), (("--no-shuffle",), "none"), (("--wiring", "cross"), "cross")]
)
def test_toy_json(args, wiring):
    result = cli("--channels", "12", "--groups", "3", "--layers", "2", "--json", *args)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["wiring"] == wiring
    assert np.array_equal(np.array(payload["matrix"]), connectivity(12, 3, 2, wiring))
    assert payload["fraction"] == pytest.approx(1 / 3 if wiring == "none" else 1.0)
    assert payload["fraction_by_layer"][0] == pytest.approx(1 / 3)
    assert payload["cross_equals_shuffle"] is True


def test_toy_json_thin_groups():
    payload = json.loads(cli("--channels", "6", "--groups", "3", "--layers", "2", "--json").stdout)
    assert payload["fully_connected"] is False and payload["fraction"] == pytest.approx(2 / 3)


def test_wide_toy_is_summarised_per_group_pair():
    result = cli("--channels", "96", "--groups", "8", "--layers", "1")
    assert result.returncode == 0, result.stderr
    assert "96x96 matrix, summarised" in result.stdout and "0 (12 ch)" in result.stdout


@pytest.mark.parametrize("shuffle", (True, False))
def test_measured_json(shuffle):
    args = ["--groups", "3", "--width", "1.0", "--stage", "2", "--measured", "--json"]
    result = cli(*args, *([] if shuffle else ["--no-shuffle"]))
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    matrix = np.array(payload["matrix"])
    assert matrix.shape == (240, 240) and set(np.unique(matrix)) <= {0, 1}
    assert payload["mode"] == "measured" and payload["scope"] == "stride1" and payload["matches_prediction"] is True
    if shuffle:
        assert matrix.all() and payload["fraction"] == 1.0 and payload["units_to_full"] == 1
    else:
        assert payload["fraction"] == pytest.approx(1 / 3)
        assert np.array_equal(matrix, np.kron(np.eye(3), np.ones((80, 80))))
    assert payload["fraction_by_units"] == [pytest.approx(payload["fraction"])] * 3


def test_measured_stage_scope_and_units():
    result = cli(
        "--groups", "8", "--width", "0.25", "--stage", "2", "--measured", "--scope", "stage", "--units", "1", "--json"
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    matrix = np.array(payload["matrix"])
    assert matrix.shape == (96, 16) and payload["units"] == 1
    assert np.array_equal(matrix[:16], np.eye(16))  # the pooled shortcut: channel i -> i
    assert matrix[16:].all()  # Stage2's first 1x1 is not grouped


def test_measured_text_thin_bottleneck():
    result = cli("--groups", "8", "--width", "0.25", "--stage", "2", "--measured")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bottleneck 24 (3 per group, g=8)" in out
    assert "    1  0.3802" in out and "    2  1.0000  1.0000  1.0000  yes" in out
    assert "equal the ones predicted" in out


@pytest.mark.parametrize(
    "args,field",
    [
        (("--channels", "10", "--groups", "3"), "channels=10 is not allowed: channels must be a multiple of groups=3"),
        (("--channels", "12", "--layers", "0"), "layers=0 is not allowed: layers must be an integer from 1 to 4"),
        (("--channels", "12", "--layers", "5"), "layers=5 is not allowed: layers must be an integer from 1 to 4"),
        (("--measured", "--stage", "5"), "stage=5 is not allowed: stage must be 2, 3 or 4"),
        (("--measured", "--stage", "1"), "stage=1 is not allowed"),
        (("--measured", "--channels", "12"), "channels=12 is not allowed here"),
        (("--stage", "3"), "stage=3 is not allowed here: --stage is only used with --measured"),
        (("--groups", "0"), "groups=0 is not allowed"),
        (("--measured", "--groups", "0"), "groups=0 is not allowed"),
        (("--measured", "--width", "9"), "width=9.0 is not allowed"),
        (("--measured", "--units", "4"), "units=4 is not allowed: units must be an integer from 1 to 3"),
        (("--wiring", "cross", "--no-shuffle"), "wiring='cross' is not allowed with --no-shuffle"),
        (("--channels", "abc"), "argument --channels: invalid int value: 'abc'"),
        (("--scope", "everything"), "argument --scope: invalid choice"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(args, field):
    assert_one_line_usage_error(cli(*args), "python -m explorer mixing: error:", field)
