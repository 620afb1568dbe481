"""The paper's Table 8 on this machine: its three models at its three inputs, with speedups over AlexNet.

Every number here is measured here except the columns marked "reported in the paper"
(``explorer.paper``: one Snapdragon 820 core, the authors' runtime).

The headline (``best_speedup``) puts each model on its own fastest FP32 backend, as the
paper put both on its own tuned runtime: a runtime's weakness at one kind of layer is not
the model's. ``backend_speedups`` gives the same ratio per backend (both models on it),
and ``summary(..., profiles, peak)`` adds the verdict (``explorer.latency.verdict``):
why the measured speedup differs from the multiply-add ratio in this run.
"""

from __future__ import annotations

from collections.abc import Sequence

from .. import paper
from ..shufflenet import REFERENCE_INPUT, AlexNetConfig, MobileNetConfig, ModelConfig
from .backends import BACKENDS, TABLE8_BACKENDS
from .kernel_profile import KernelProfile
from .results import Measurement, fastest, model_key
from .runner import counted
from .timing import NOISY_IQR_FRACTION
from .verdict import speedup_verdict

ALEXNET_DEFINITION = (
    "AlexNet (Krizhevsky et al., Caffe bvlc_alexnet layout with two-group conv2/4/5, no LRN), run fully "
    "convolutionally: fc6 is a 6x6 convolution and fc7/fc8 are 1x1 convolutions over the last feature map, "
    "and the class scores are averaged over positions. At 224x224 that is exactly the classic network "
    "(724M multiply-adds); at 480x640 and 720x1280 it slides the classifier over the image, which is how its "
    "cost grows with the pixel count as in the paper's Table 8."
)

REFERENCE_MODELS: dict[str, ModelConfig] = {
    "AlexNet": AlexNetConfig(),
    **{MobileNetConfig(w).label: MobileNetConfig(w) for w in (1.0, 0.75, 0.5, 0.25)},
}


THEORETICAL_CONVENTION = "ratio of multiply-adds incl. FC (macs_with_fc), AlexNet / model, same input"


def table8_jobs(backends: Sequence[str] = TABLE8_BACKENDS) -> list[tuple[ModelConfig, str]]:
    """3 models x 3 inputs x backends, model-major so exports and sessions are reused."""
    return [(row.at(size), backend) for row in paper.TABLE8 for size in paper.TABLE8_INPUTS for backend in backends]


def _table8_row(config: ModelConfig) -> paper.Table8Row | None:
    for row in paper.TABLE8:
        if row.config == model_key(config):
            return row
    return None


def _alexnet_row() -> paper.Table8Row:
    return next(r for r in paper.TABLE8 if isinstance(r.config, AlexNetConfig))


def table8_records(measurements: Sequence[Measurement]) -> list[dict]:
    """Each Table 8 measurement with speedups over AlexNet (same input, same backend) and the paper's numbers."""
    by_key = {(m.input_size, m.backend, model_key(m.config)): m for m in measurements}
    alex = _alexnet_row()
    records = []
    for m in measurements:
        row = _table8_row(m.config)
        if row is None:
            continue
        reference = by_key.get((m.input_size, m.backend, alex.config))
        alex_macs = counted(alex.at(m.input_size)).macs_with_fc.value
        theoretical = alex_macs / m.macs
        measured = reference.median_ms / m.median_ms if reference else None
        paper_ms = row.ms_at(m.input_size)
        paper_alex = alex.ms_at(m.input_size)
        records.append(
            {
                **m.to_dict(),
                "paper_model": row.model,
                "measured_speedup": measured,
                "theoretical_speedup": theoretical,
                "speedup_efficiency": measured / theoretical if measured else None,
                "paper_ms": paper_ms,
                "paper_speedup": paper_alex / paper_ms,
                "paper_note": f"reported in the paper ({paper.TABLE8_DEVICE})",
            }
        )
    return records


def _at(measurements: Sequence[Measurement], config: ModelConfig, input_size: tuple[int, int]) -> list[Measurement]:
    target = model_key(config)
    return [m for m in measurements if model_key(m.config) == target and m.input_size == tuple(input_size)]


def best_speedup(
    measurements: Sequence[Measurement], config: ModelConfig, input_size: tuple[int, int] = REFERENCE_INPUT
) -> dict | None:
    """``config`` on its fastest FP32 backend vs AlexNet on its fastest FP32 backend, at ``input_size``."""
    mine = fastest(_at(measurements, config, input_size), fp32_only=True)
    alex = fastest(_at(measurements, AlexNetConfig(), input_size), fp32_only=True)
    if mine is None or alex is None:
        return None
    theoretical = alex.macs / mine.macs
    measured = alex.median_ms / mine.median_ms
    return {
        "model": mine.model,
        "input": list(input_size),
        "model_backend": mine.backend,
        "model_backend_label": mine.backend_label,
        "model_ms": mine.median_ms,
        "model_macs": mine.macs,
        "alexnet_backend": alex.backend,
        "alexnet_backend_label": alex.backend_label,
        "alexnet_ms": alex.median_ms,
        "alexnet_macs": alex.macs,
        "measured_speedup": measured,
        "theoretical_speedup": theoretical,
        "efficiency": measured / theoretical,
        "rule": "each model on its fastest FP32 backend measured",
    }


def backend_speedups(
    measurements: Sequence[Measurement], config: ModelConfig, input_size: tuple[int, int] = REFERENCE_INPUT
) -> list[dict]:
    """The same speedup with both models on one backend, for every backend that measured both (BACKENDS order)."""
    mine = {m.backend: m for m in _at(measurements, config, input_size)}
    alex = {m.backend: m for m in _at(measurements, AlexNetConfig(), input_size)}
    rows = []
    for backend in (b for b in BACKENDS if b in mine and b in alex):
        measured = alex[backend].median_ms / mine[backend].median_ms
        theoretical = alex[backend].macs / mine[backend].macs
        rows.append(
            {
                "backend": backend,
                "backend_label": BACKENDS[backend].label,
                "precision": BACKENDS[backend].precision,
                "model_ms": mine[backend].median_ms,
                "alexnet_ms": alex[backend].median_ms,
                "measured_speedup": measured,
                "efficiency": measured / theoretical,
            }
        )
    return rows


def explain(
    measurements: Sequence[Measurement],
    profiles: Sequence[KernelProfile],
    peak_macs_per_s: float | None,
    config: ModelConfig | None = None,
    input_size: tuple[int, int] = REFERENCE_INPUT,
) -> str | None:
    """The verdict for ``config`` (default 0.5x arch2) vs AlexNet, or None without both profiles and a peak."""
    config = paper.TABLE8[0].config if config is None else config
    best = best_speedup(measurements, config, input_size)
    by_model = {(model_key(p.config), p.config.input_size): p for p in profiles}
    mine = by_model.get((model_key(config), tuple(input_size)))
    alex = by_model.get((model_key(AlexNetConfig()), tuple(input_size)))
    if best is None or mine is None or alex is None or not peak_macs_per_s:
        return None
    return speedup_verdict(best, mine, alex, peak_macs_per_s)


def verdict_configs(input_size: tuple[int, int] = REFERENCE_INPUT) -> list[ModelConfig]:
    """The models whose profiles the verdict needs: Table 8's 0.5x arch2 and AlexNet at ``input_size``."""
    return [paper.TABLE8[0].at(input_size), _alexnet_row().at(input_size)]


def to_profile(measurements: Sequence[Measurement], input_size: tuple[int, int] = REFERENCE_INPUT) -> list[ModelConfig]:
    """The verdict's models, if both were measured on an ONNX backend (so their exports exist), else none.

    Profiling needs the ONNX export; AlexNet's takes 10-20 s, too much to add to a PyTorch-only run.
    """
    exported = {m.config for m in measurements if BACKENDS[m.backend].onnx}
    configs = verdict_configs(input_size)
    return configs if all(c in exported for c in configs) else []


def summary(
    measurements: Sequence[Measurement], profiles: Sequence[KernelProfile] = (), peak_macs_per_s: float | None = None
) -> dict:
    """The latency targets: roofline fraction of ShuffleNet 1x g=3, speedup of 0.5x arch2 (fastest FP32
    backends, per backend, and the verdict when ``profiles`` of both models and the peak are given)."""
    one_x = paper.TABLE8[1].config
    half = paper.TABLE8[0].config
    at_224 = [m for m in measurements if m.input_size == REFERENCE_INPUT]
    best_1x = fastest((m for m in at_224 if model_key(m.config) == one_x), fp32_only=True)
    return {
        "shufflenet_1x_g3_224_fastest": None
        if best_1x is None
        else {
            "backend": best_1x.backend,
            "median_ms": best_1x.median_ms,
            "roofline_fraction": best_1x.roofline_fraction,
            "achieved_gmacs": best_1x.achieved_gmacs,
        },
        "speedup_0_5x_arch2_vs_alexnet_224": best_speedup(measurements, half),
        "speedup_0_5x_arch2_vs_alexnet_224_per_backend": backend_speedups(measurements, half),
        "verdict": explain(measurements, profiles, peak_macs_per_s, half),
        "profiles": [p.to_dict(peak_macs_per_s) for p in profiles],
        "noisy_measurements": sum(m.timing.noisy for m in measurements),
        "noisy_rule": f"IQR > {NOISY_IQR_FRACTION:.0%} of the median",
        "contended_measurements": sum(m.timing.contended for m in measurements),
        "contended_rule": "other processes used more than the cores left free plus 10% of all CPUs while timing "
        "(/proc/stat vs os.times), other sessions of this server worked meanwhile, or the threads ran a probe "
        "network slower than one thread does (the host was sharing the cores)",
    }
