"""The paper's Table 8 on this machine: its three models at its three inputs, with speedups over AlexNet.

Every number here is measured here except the columns marked "reported in the paper"
(``explorer.paper``: one Snapdragon 820 core, the authors' runtime).
"""

from __future__ import annotations

from typing import Sequence

from .. import paper
from ..shufflenet import REFERENCE_INPUT, AlexNetConfig, MobileNetConfig, ModelConfig
from .backends import DEFAULT_BACKENDS
from .results import Measurement, fastest, model_key
from .runner import counted
from .timing import NOISY_IQR_FRACTION

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


def table8_jobs(backends: Sequence[str] = DEFAULT_BACKENDS) -> list[tuple[ModelConfig, str]]:
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
        records.append({
            **m.to_dict(),
            "paper_model": row.model,
            "measured_speedup": measured,
            "theoretical_speedup": theoretical,
            "speedup_efficiency": measured / theoretical if measured else None,
            "paper_ms": paper_ms,
            "paper_speedup": paper_alex / paper_ms,
            "paper_note": f"reported in the paper ({paper.TABLE8_DEVICE})",
        })  # fmt: skip
    return records


def best_speedup(measurements: Sequence[Measurement], config: ModelConfig,
                 input_size: tuple[int, int] = REFERENCE_INPUT) -> dict | None:
    """Fastest backend of ``config`` vs fastest AlexNet backend at ``input_size``."""
    target = model_key(config)
    mine = fastest(m for m in measurements if model_key(m.config) == target and m.input_size == input_size)
    alex = fastest(m for m in measurements if isinstance(m.config, AlexNetConfig) and m.input_size == input_size)
    if mine is None or alex is None:
        return None
    theoretical = alex.macs / mine.macs
    measured = alex.median_ms / mine.median_ms
    return {
        "model": mine.model, "input": list(input_size), "model_backend": mine.backend, "model_ms": mine.median_ms,
        "alexnet_backend": alex.backend, "alexnet_ms": alex.median_ms, "measured_speedup": measured,
        "theoretical_speedup": theoretical, "efficiency": measured / theoretical,
    }  # fmt: skip


def summary(measurements: Sequence[Measurement]) -> dict:
    """The latency targets: roofline fraction of ShuffleNet 1x g=3 and speedup efficiency of 0.5x arch2."""
    one_x = paper.TABLE8[1].config
    half = paper.TABLE8[0].config
    at_224 = [m for m in measurements if m.input_size == REFERENCE_INPUT]
    best_1x = fastest(m for m in at_224 if model_key(m.config) == one_x)
    return {
        "shufflenet_1x_g3_224_fastest": None if best_1x is None else {
            "backend": best_1x.backend, "median_ms": best_1x.median_ms,
            "roofline_fraction": best_1x.roofline_fraction, "achieved_gmacs": best_1x.achieved_gmacs,
        },
        "speedup_0_5x_arch2_vs_alexnet_224": best_speedup(measurements, half),
        "noisy_measurements": sum(m.timing.noisy for m in measurements),
        "noisy_rule": f"IQR > {NOISY_IQR_FRACTION:.0%} of the median",
        "contended_measurements": sum(m.timing.contended for m in measurements),
        "contended_rule": "other processes used more than the cores left free plus 10% of all CPUs while timing "
                          "(/proc/stat vs os.times)",
    }  # fmt: skip
