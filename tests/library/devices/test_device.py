"""What the server sends a visitor's browser and checks it against: the seeded input, the ONNX bytes, parity.

The seeded input is generated on both sides and never sent, so the JavaScript generator
(``assets/ort-web/component/seeded.mjs``, run here with node) must give the same float32
bits as ``explorer.devices.served.seeded_input``. The exported bytes are run with native
ONNX Runtime on that input and must give PyTorch's reference, which is what a browser
that computes this model returns.
"""

from __future__ import annotations

import base64
import shutil
import subprocess

import numpy as np
import onnxruntime as ort
import pytest

from explorer import paper
from explorer.devices import served as device
from explorer.devices.served import (
    CHECKSUM_TOLERANCE,
    OUTPUTS_CHECKED,
    PARITY_TOLERANCE,
    DeviceModels,
    check_parity,
    chunk,
    device_model,
    seeded_input,
)
from explorer.shufflenet import ShuffleNetConfig

ROOT = device.__file__.rsplit("/explorer/", 1)[0]
SEEDED_MJS = f"{ROOT}/assets/ort-web/component/seeded.mjs"
SMALL = ShuffleNetConfig(groups=3, width=0.25, input_size=(64, 64))  # exports in about a second


def javascript_input(count: int, seed: int) -> np.ndarray:
    """``seededInput(count, seed)`` computed by node from the component's own module, as float32."""
    script = (
        f"import {{ seededInput }} from 'file://{SEEDED_MJS}';"
        f"const v = seededInput({count}, {seed});"
        "process.stdout.write(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64'));"
    )
    out = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    return np.frombuffer(base64.b64decode(out.stdout), dtype="<f4")


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
@pytest.mark.parametrize(
    "shape, seed",
    [((1, 3, 224, 224), device.SEED), ((1, 3, 720, 1280), device.SEED), ((1, 3, 7, 5), 0), ((2, 3, 4, 4), 2**32 - 1)],
)
def test_javascript_and_python_make_the_same_input_bit_for_bit(shape, seed):
    python = seeded_input(shape, seed)
    javascript = javascript_input(python.size, seed)
    assert python.dtype == np.float32 and python.shape == shape
    assert np.array_equal(python.ravel().view(np.uint32), javascript.view(np.uint32))


def test_the_seeded_input_spans_minus_one_to_one_evenly():
    values = seeded_input((1, 3, 224, 224))
    assert values.min() >= -1 and values.max() < 1
    assert abs(float(values.mean())) < 0.01 and 0.55 < float(values.std()) < 0.6  # uniform: std 1/sqrt(3)
    assert not np.array_equal(seeded_input((1, 3, 8, 8), 1), seeded_input((1, 3, 8, 8), 2))


def test_the_exported_bytes_compute_the_reference_in_onnx_runtime():
    model = device_model(SMALL)
    session = ort.InferenceSession(model.onnx, providers=["CPUExecutionProvider"])
    (name,) = [i.name for i in session.get_inputs()]
    assert session.get_inputs()[0].shape == [1, 3, 64, 64]  # ShuffleNet: static shapes, like the ort backend
    scores = session.run(None, {name: seeded_input(model.input_shape)})[0].ravel()
    parity = check_parity(model, tuple(float(v) for v in scores[:OUTPUTS_CHECKED]), float(scores.astype(float).sum()))
    assert parity.ok, parity.describe()
    assert len(model.reference) == OUTPUTS_CHECKED and len(model.digest) == 16


def test_parity_flags_a_wrong_model_or_input():
    model = device_model(SMALL)
    reference = model.reference
    assert check_parity(model, reference, model.checksum).ok
    nudged = (reference[0] + 3 * PARITY_TOLERANCE, *reference[1:])
    assert not check_parity(model, nudged, model.checksum).ok
    assert not check_parity(model, reference, model.checksum + 3 * CHECKSUM_TOLERANCE).ok
    assert not check_parity(model, reference[:5], model.checksum).ok
    assert "does NOT match" in check_parity(model, nudged, model.checksum).describe()


def test_an_export_is_made_once_and_shared(monkeypatch):
    cache = DeviceModels()
    first = cache.get(SMALL)
    monkeypatch.setattr(cache, "_export", lambda *args: pytest.fail("exported twice"))
    again = cache.get(SMALL)
    assert again.onnx is first.onnx and again.reference == first.reference


def test_the_cache_is_bounded_by_bytes():
    cache = DeviceModels(max_bytes=1)
    cache.get(SMALL)
    other = ShuffleNetConfig(groups=2, width=0.25, input_size=(64, 64))
    cache.get(other)
    assert list(cache._files) == [other]  # the older file went; the newest always stays


def test_dynamic_models_share_one_file_across_inputs():
    """AlexNet and MobileNet are exported with dynamic shapes: one file (one download) serves every input."""
    from explorer.shufflenet import MobileNetConfig

    cache = DeviceModels()
    small, large = MobileNetConfig(0.25, input_size=(64, 64)), MobileNetConfig(0.25, input_size=(96, 128))
    a, b = cache.get(small), cache.get(large)
    assert a.digest == b.digest and a.onnx is b.onnx
    assert (a.input_shape, b.input_shape) == ((1, 3, 64, 64), (1, 3, 96, 128))


def test_chunks_reassemble_the_file(monkeypatch):
    monkeypatch.setenv(device.CHUNK_ENV, "0.25")
    model = device_model(SMALL)
    assert model.chunks == -(-len(model.onnx) // (2**18)) > 1
    assert b"".join(chunk(model, i) for i in range(model.chunks)) == model.onnx
    with pytest.raises(ValueError, match="index=.* is not allowed"):
        chunk(model, model.chunks)


@pytest.mark.parametrize("value", ["abc", "0", "-1", "nan", "1e9"])
def test_a_bad_chunk_size_setting_is_refused_with_its_name(monkeypatch, value):
    monkeypatch.setenv(device.CHUNK_ENV, value)
    with pytest.raises(ValueError, match=rf"{device.CHUNK_ENV}=.* is not allowed: .* from 0.01 to 190"):
        device.chunk_bytes()


def test_table8_shufflenets_are_what_the_browser_gets():
    """The 0.5x arch2 g=3 model at 224x224 (the benchmark's model) exports to a few MB, in one piece."""
    model = device_model(paper.TABLE8[0].config)
    assert 1 < model.megabytes < 10 and model.chunks == 1
