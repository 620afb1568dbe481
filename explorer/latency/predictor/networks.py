"""The whole networks a calibration times and profiles: what every kind is fitted on.

``sampled_networks()`` is the reference networks (``REFERENCES``: AlexNet at three sizes, so
its large dense convolutions do not rest on one network, and MobileNet v1 at three widths), then
``NETWORK_COUNT`` ShuffleNets drawn once with a fixed seed over the allowed space (g 1-64 and
width 0.1-4.0 log-uniform, the three variants, shuffle on or off, inputs log-uniform in pixels
from 224x224 to 720x1280, one in ``SMALL_SHARE`` from 32x32 up, one in ``TYPICAL_SHARE`` at 224x224 and 1-4x
wide, capped at ``MAX_NETWORK_MACS``).
``time_networks`` exports each as ``LatencyRunner`` exports it and times it as it runs it (its
export, ``session.run`` for ONNX Runtime, an infer request for OpenVINO, the same threads), then
profiles it (``profiled``): each kernel kind's time inside it. ``fit.fit_in_network`` fits the
kinds on those, ``correction`` fits and cross-validates what the whole runs add.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch

from ...shufflenet import AlexNetConfig, MobileNetConfig, ModelConfig, ShuffleNetConfig, build_model
from ...shufflenet.config import VARIANTS, config_from_dict, config_to_dict
from ..export import export_onnx
from ..quiet import slowed, usual_level
from ..runner import needs_static_export
from ..timing import check_cancel
from . import graphs, profiled
from .kernels import decompose, total_macs

NETWORK_COUNT = 120
NETWORK_SEED = 1919
MAX_NETWORK_MACS = 6e9  # larger networks cost the calibration more time than they teach it
NETWORK_MIN_TIME = 0.2
MIN_PIXELS, MAX_PIXELS = 32 * 32, 720 * 1280
TYPICAL_SIZE = (224, 224)  # the paper's, and the sizes sizing asks about are this and above
TYPICAL_PIXELS = TYPICAL_SIZE[0] * TYPICAL_SIZE[1]
SMALL_SHARE = 4
# One draw in TYPICAL_SHARE is at the paper's size and 1-4x wide: there the pointwise and FC weights, not the
# activations, fill the caches, and the main draw (log-uniform in width and pixels) reaches it rarely.
TYPICAL_SHARE = 8
TYPICAL_WIDTHS = (1.0, 4.0)
REFERENCES: tuple[ModelConfig, ...] = (
    AlexNetConfig(),
    AlexNetConfig(input_size=(288, 288)),
    AlexNetConfig(input_size=(384, 512)),
    MobileNetConfig(1.0),
    MobileNetConfig(0.75, (192, 192)),
    MobileNetConfig(0.5),
)


@dataclass(frozen=True)
class NetworkSample:
    """One whole network and its measured time per run (median ms, IQR ms), as ``LatencyRunner`` runs it;
    each kernel kind's time inside it (``kind_ms``, from the runtime's profiler: ``profiled``); ``shared`` when it
    was timed while the host shared the threads, and ``probe_ms`` the probe network's time right after it
    (``explorer.latency.quiet``; None: not probed)."""

    config: ModelConfig
    median_ms: float
    iqr_ms: float
    kind_ms: dict[str, float] = field(default_factory=dict, hash=False)
    shared: bool = False
    probe_ms: float | None = None

    def to_dict(self) -> dict:
        values = {"config": config_to_dict(self.config), "median_ms": self.median_ms, "iqr_ms": self.iqr_ms}
        return {**values, "kind_ms": dict(self.kind_ms), "shared": self.shared, "probe_ms": self.probe_ms}

    @classmethod
    def from_dict(cls, values: dict) -> NetworkSample:
        return cls(
            config_from_dict(values["config"]),
            float(values["median_ms"]),
            float(values["iqr_ms"]),
            {str(kind): float(ms) for kind, ms in values.get("kind_ms", {}).items()},
            bool(values.get("shared", False)),
            None if values.get("probe_ms") is None else float(values["probe_ms"]),
        )


MIN_CLEAN = 20


def slow(networks: Sequence[NetworkSample]) -> list[bool]:
    """Per network, whether the probe right after it found the machine slower than the calibration's usual
    (``quiet.slowed``): a slowdown of every thread alike, which the speedup probe (``shared``) does not see."""
    usual = usual_level([n.probe_ms for n in networks])
    return [slowed(n.probe_ms, usual) for n in networks]


def clean(networks: Sequence[NetworkSample]) -> list[NetworkSample]:
    """The networks to fit on: those timed neither on shared threads nor while the machine ran slow (``slow``), when at
    least ``MIN_CLEAN`` are (one timed while the host shared the threads runs up to 1.5x slower, and a calibration
    waits for it only so long); else all. The ``REFERENCES`` are kept however they were timed: they are the only
    large dense convolutions and classifiers sampled, and without them those regressors extrapolate from
    ShuffleNet's conv1 and FC by orders of magnitude (a network timed 1.5x slow is the lesser error)."""
    kept = [n for n, slowed in zip(networks, slow(networks)) if (not n.shared and not slowed) or n.config in REFERENCES]
    return kept if len(kept) >= MIN_CLEAN else list(networks)


def _log_uniform(generator: random.Random, low: float, high: float) -> float:
    return math.exp(generator.uniform(math.log(low), math.log(high)))


def _input_size(generator: random.Random, small: bool) -> tuple[int, int]:
    pixels = _log_uniform(generator, MIN_PIXELS if small else TYPICAL_PIXELS, MAX_PIXELS)
    aspect = generator.uniform(1.0, 16 / 9)
    height = max(32, min(720, round(math.sqrt(pixels / aspect))))
    return height, max(32, min(1280, round(pixels / height)))


def _draw(generator: random.Random, index: int) -> ShuffleNetConfig:
    """The ``index``-th ShuffleNet drawn: one in ``SMALL_SHARE`` from 32x32 up, one in ``TYPICAL_SHARE`` at
    ``TYPICAL_SIZE`` and ``TYPICAL_WIDTHS``."""
    typical = index % TYPICAL_SHARE == 1
    return ShuffleNetConfig(
        groups=round(_log_uniform(generator, 1, 64)),
        width=round(_log_uniform(generator, *(TYPICAL_WIDTHS if typical else (0.1, 4.0))), 3),
        variant=generator.choice(VARIANTS),
        shuffle=generator.random() > 0.2,
        input_size=TYPICAL_SIZE if typical else _input_size(generator, small=index % SMALL_SHARE == 0),
    )


def sampled_networks(count: int = NETWORK_COUNT, seed: int = NETWORK_SEED) -> list[ModelConfig]:
    """``REFERENCES``, then ``count`` ShuffleNets under ``MAX_NETWORK_MACS`` drawn with ``seed`` (deterministic)."""
    generator, drawn = random.Random(seed), []
    while len(drawn) < count:
        config = _draw(generator, len(drawn))
        if total_macs(decompose(config)) <= MAX_NETWORK_MACS:
            drawn.append(config)
    return list(REFERENCES) + drawn


def _export(config: ModelConfig, directory: str, index: int) -> str:
    """Exported as ``LatencyRunner`` exports it (static shapes for ShuffleNet, dynamic for the references)."""
    with torch.no_grad():
        model = build_model(config).eval()
        path = f"{directory}/network{index}.onnx"
        return export_onnx(model, config.input_size, path, dynamic=not needs_static_export(config))


def network_timer(path: str, backend: str, shape: tuple[int, ...], threads: int):
    """A call that runs the exported network at ``path`` once, as ``LatencyRunner`` does."""
    if backend == "ort":
        return graphs.ort_timer(path, shape, threads)
    return graphs.openvino_timer(path, shape, threads)


Timer = Callable[..., object]


@dataclass(frozen=True)
class Deadline:
    """Stop timing networks at ``at`` (``time.perf_counter()``) once ``fewest`` are timed."""

    at: float
    fewest: int

    def passed(self, timed: int) -> bool:
        return timed >= self.fewest and time.perf_counter() > self.at


def time_networks(
    configs: list[ModelConfig],
    backend: str,
    threads: int,
    directory: str,
    time_run: Timer,
    cancel: threading.Event | None = None,
    done: Callable[[int, ModelConfig], None] | None = None,
    deadline: Deadline | None = None,
    probe: Callable[[int], float] | None = None,
) -> tuple[NetworkSample, ...]:
    """Each config exported, timed with ``time_run(run, cancel, min_time, threads)``, the machine's level probed
    right after (``probe(threads)``: ``quiet.probe_ms``) and the network profiled, in order until the ``deadline``;
    ``done(count, config)`` after each."""
    samples: list[NetworkSample] = []
    for index, config in enumerate(configs):
        check_cancel(cancel)
        if deadline is not None and deadline.passed(len(samples)):
            break
        path, shape = _export(config, directory, index), (1, 3, *config.input_size)
        timing = time_run(network_timer(path, backend, shape, threads), cancel, NETWORK_MIN_TIME, threads)
        level = None if probe is None else probe(threads)
        kind_ms = profiled.kind_times(backend, path, graphs.image(shape), threads)
        sample = NetworkSample(config, timing.median_ms, timing.iqr_ms, kind_ms, timing.threads_shared, level)
        samples.append(sample)
        if done is not None:
            done(index + 1, config)
    return tuple(samples)
