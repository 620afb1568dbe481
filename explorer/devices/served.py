"""A model measured in the visitor's browser: the ONNX bytes the server sends, the input both sides make, the check.

The Latency page's "on this device" component (``assets/ort-web/component``) runs a model
with ONNX Runtime Web in the visitor's browser. The server side of that, without Streamlit:

* ``device_model(config)``: the model's ONNX file as bytes, exported once per config and
  cached (bounded by total bytes): ShuffleNet with static shapes like the ``ort`` backend
  (one file per input size), AlexNet and MobileNet with dynamic ones (one file for every
  input). Also the PyTorch reference for the seeded input: its first ``OUTPUTS_CHECKED``
  scores and the sum of all of them. The export is untimed foreground work on one thread
  (``explorer.concurrency.counting_threads``) and is refused, like a measurement, when its
  memory estimate does not fit (``check_memory``).
* ``seeded_input(shape, seed)``: the fixed input, the same bits on both sides without sending
  it: value i of the flattened tensor is a 32-bit hash of (i, seed) whose top 24 bits are
  scaled to [-1, 1), exact in float32. ``assets/ort-web/component/seeded.mjs`` is the same
  function in JavaScript (``tests/test_device_input.py`` runs both).
* ``check_parity(model, outputs, checksum)``: the browser's first outputs against PyTorch's
  (within ``PARITY_TOLERANCE``) and its checksum (within ``CHECKSUM_TOLERANCE``). A
  mismatch means the browser did not compute this model, so its timing is not used.
* ``chunk(model, index)``: the bytes travel as component arguments, ``chunk_bytes()`` per
  message: ``EXPLORER_DEVICE_CHUNK_MB`` (default 32; Streamlit's websocket limit is 200 MB,
  ``server.maxMessageSize``, and AlexNet's FP32 file is about 240 MB).
"""

from __future__ import annotations

import hashlib
import math
import os
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import torch

from ..checks import check_number, refusal
from ..concurrency import counting_threads
from ..counting import check_memory
from ..latency.export import export_onnx
from ..latency.results import model_key
from ..latency.runner import needs_static_export
from ..shufflenet import ModelConfig, build_model

SEED = 2017  # the input's seed (the paper's year); the weights use the runner's seed 0
WEIGHT_SEED = 0
OUTPUTS_CHECKED = 10
PARITY_TOLERANCE = 1e-4  # max |browser - PyTorch| over the first OUTPUTS_CHECKED scores
CHECKSUM_TOLERANCE = 1e-3  # |browser sum - PyTorch sum| over all scores
CHUNK_ENV = "EXPLORER_DEVICE_CHUNK_MB"
DEFAULT_CHUNK_MB = 32
CACHE_BYTES = 320 * 2**20  # AlexNet's ~240 MB file and the Table 8 ShuffleNets fit together
REFERENCES = 64

_GOLDEN = 0x9E3779B9
_MASK = 0xFFFFFFFF


def hash32(index: np.ndarray, seed: int) -> np.ndarray:
    """The seeded input's integer hash, vectorised (uint32 arithmetic wraps like JavaScript's ``Math.imul``)."""
    h = (index.astype(np.uint64) + (seed * _GOLDEN & _MASK)) & _MASK
    h = h.astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x7FEB352D)
    h ^= h >> np.uint32(15)
    h *= np.uint32(0x846CA68B)
    h ^= h >> np.uint32(16)
    return h


def seeded_input(shape: tuple[int, ...], seed: int = SEED) -> np.ndarray:
    """The fixed input of an on-device measurement (see the module docstring), float32 of ``shape``."""
    count = math.prod(shape)
    values = (hash32(np.arange(count, dtype=np.uint64), seed) >> np.uint32(8)).astype(np.float32)
    return (values / np.float32(2**23) - np.float32(1)).reshape(shape)


@dataclass(frozen=True)
class DeviceModel:
    """What the server sends a browser for one config, and what the browser must compute."""

    config: ModelConfig
    onnx: bytes = b""
    digest: str = ""  # sha256 of the ONNX file, 16 hex digits: the browser caches the model under it
    seed: int = SEED
    reference: tuple[float, ...] = ()  # PyTorch's first OUTPUTS_CHECKED scores on seeded_input
    checksum: float = 0.0  # PyTorch's sum of all scores, in float64
    export_s: float = 0.0

    @property
    def input_shape(self) -> tuple[int, int, int, int]:
        return (1, 3, *self.config.input_size)

    @property
    def chunks(self) -> int:
        return max(1, math.ceil(len(self.onnx) / chunk_bytes()))

    @property
    def megabytes(self) -> float:
        return len(self.onnx) / 1e6


def chunk_bytes() -> int:
    """Bytes per piece of an ONNX file sent to a browser: ``EXPLORER_DEVICE_CHUNK_MB`` (1-190, default 32)."""
    text = os.environ.get(CHUNK_ENV, "").strip()
    try:
        megabytes = (
            check_number(CHUNK_ENV, float(text), 0.01, 190, "a number of megabytes from 0.01 to 190")
            if text
            else DEFAULT_CHUNK_MB
        )
    except ValueError:
        raise refusal(CHUNK_ENV, text[:20], "a number of megabytes from 0.01 to 190 (default 32)") from None
    return int(megabytes * 2**20)


def chunk(model: DeviceModel, index: int) -> bytes:
    """Piece ``index`` (0-based) of the model's ONNX file."""
    size = chunk_bytes()
    if not 0 <= index < model.chunks:
        raise ValueError(f"index={index!r} is not allowed: index must be an integer from 0 to {model.chunks - 1}")
    return model.onnx[index * size : (index + 1) * size]


@dataclass(frozen=True)
class Parity:
    """The browser's outputs against PyTorch's on the same input."""

    max_abs_diff: float
    checksum_diff: float

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= PARITY_TOLERANCE and self.checksum_diff <= CHECKSUM_TOLERANCE

    def describe(self) -> str:
        verdict = "matches" if self.ok else "does NOT match"
        return (
            f"{verdict} PyTorch: max |Δ| {self.max_abs_diff:.2g} over the first {OUTPUTS_CHECKED} scores "
            f"(allowed {PARITY_TOLERANCE:g}), checksum |Δ| {self.checksum_diff:.2g} (allowed {CHECKSUM_TOLERANCE:g})"
        )


def check_parity(model: DeviceModel, outputs: tuple[float, ...], checksum: float) -> Parity:
    """Compare a browser's (already validated) outputs with the PyTorch reference of ``model``."""
    reference = np.asarray(model.reference, dtype=np.float64)
    got = np.asarray(outputs, dtype=np.float64)
    if got.shape != reference.shape:
        return Parity(math.inf, math.inf)
    return Parity(float(np.max(np.abs(got - reference))), abs(float(checksum) - model.checksum))


class DeviceModels:
    """Thread-safe cache: ONNX bytes per export (bounded by total bytes) and PyTorch references per config."""

    def __init__(self, max_bytes: int = CACHE_BYTES, references: int = REFERENCES) -> None:
        self.max_bytes, self.max_references = max_bytes, references
        self._lock = threading.Lock()
        self._files: OrderedDict[ModelConfig, tuple[bytes, str, float]] = OrderedDict()
        self._references: OrderedDict[ModelConfig, tuple[tuple[float, ...], float]] = OrderedDict()
        self._busy: dict[ModelConfig, threading.Lock] = {}  # one export per key at a time

    def get(self, config: ModelConfig) -> DeviceModel:
        """The config's ONNX file and reference, exported / computed on first use (``ValueError`` if refused)."""
        export_key = config if needs_static_export(config) else model_key(config)
        with self._key_lock(export_key):
            cached = self._cached(export_key, config)
            if cached is not None:
                return cached
            check_memory(config, 1, ("ort",))
            with counting_threads():
                torch.manual_seed(WEIGHT_SEED)
                model = build_model(model_key(config))
                file = self._file(export_key) or self._export(model, config, export_key)
                with torch.inference_mode():
                    scores = model(torch.from_numpy(seeded_input((1, 3, *config.input_size)))).numpy().ravel()
            reference = (tuple(float(v) for v in scores[:OUTPUTS_CHECKED]), float(scores.astype(np.float64).sum()))
            with self._lock:
                self._references[config] = reference
                while len(self._references) > self.max_references:
                    self._references.popitem(last=False)
            return DeviceModel(config, file[0], file[1], SEED, *reference, file[2])

    def _key_lock(self, config: ModelConfig) -> threading.Lock:
        with self._lock:
            return self._busy.setdefault(config, threading.Lock())

    def _file(self, export_key: ModelConfig) -> tuple[bytes, str, float] | None:
        with self._lock:
            if export_key in self._files:
                self._files.move_to_end(export_key)
                return self._files[export_key]
        return None

    def _cached(self, export_key: ModelConfig, config: ModelConfig) -> DeviceModel | None:
        file = self._file(export_key)
        with self._lock:
            reference = self._references.get(config)
        if file is None or reference is None:
            return None
        return DeviceModel(config, file[0], file[1], SEED, *reference, file[2])

    def _export(self, model: torch.nn.Module, config: ModelConfig, export_key: ModelConfig) -> tuple[bytes, str, float]:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="explorer-device-") as directory:
            path = os.path.join(directory, "model.onnx")
            export_onnx(model, config.input_size, path, 1, dynamic=not needs_static_export(config))
            with open(path, "rb") as handle:
                onnx = handle.read()
        file = (onnx, hashlib.sha256(onnx).hexdigest()[:16], time.perf_counter() - start)
        with self._lock:
            self._files[export_key] = file
            while sum(len(f[0]) for f in self._files.values()) > self.max_bytes and len(self._files) > 1:
                self._files.popitem(last=False)
        return file

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._references.clear()


DEVICE_MODELS = DeviceModels()


def device_model(config: ModelConfig) -> DeviceModel:
    """``DEVICE_MODELS.get(config)``: the process-wide cache every session shares."""
    return DEVICE_MODELS.get(config)
