"""What a latency measurement yields: one ``Measurement`` per (model, input, backend, threads, batch).

A measurement round-trips through JSON (``to_record`` / ``from_record``) so the result
store can keep it across restarts and show it again exactly as it was measured.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from ..shufflenet import REFERENCE_INPUT, ModelConfig, config_from_dict, config_to_dict
from .backends import BACKENDS, BackendFailure
from .roofline import floor_ms
from .timing import Timing

# The figures of a Measurement that its record keeps as they are (config, backend, threads,
# batch and timing are written out apart); monotonic start/finish times mean nothing later.
RECORDED_FIGURES = (
    "macs",
    "conv_macs",
    "gemm_macs_per_s",
    "max_abs_diff",
    "relative_diff",
    "prepare_s",
    "compile_s",
    "measured_at",
)


@dataclass(frozen=True)
class Measurement:
    """One timed (model, input, batch, backend, threads) with everything needed to judge it."""

    config: ModelConfig
    backend: str
    threads: int
    batch: int
    timing: Timing
    macs: int  # multiply-adds per image incl. FC (explorer.complexity: macs_with_fc)
    conv_macs: int  # paper convention (conv only)
    gemm_macs_per_s: float | None
    max_abs_diff: float | None = None  # ONNX backends: vs PyTorch FP32 on the same input
    relative_diff: float | None = None  # max_abs_diff / max |PyTorch output|
    prepare_s: float = 0.0  # export / session / quantisation time (not in the timing)
    compile_s: float | None = None  # creating the ORT session / OpenVINO read+reshape+compile (not in the timing)
    started_at: float = 0.0  # time.monotonic() when the lock was taken
    finished_at: float = 0.0  # time.monotonic() just before it was released
    measured_at: float = 0.0  # time.time() when it finished: its age, once stored

    @property
    def model(self) -> str:
        return self.config.label

    @property
    def input_size(self) -> tuple[int, int]:
        return self.config.input_size

    @property
    def median_ms(self) -> float:
        return self.timing.median_ms

    @property
    def per_image_ms(self) -> float:
        return self.timing.median_ms / self.batch

    @property
    def floor_ms(self) -> float | None:
        """Latency if every multiply-add ran at the measured GEMM throughput."""
        if not self.gemm_macs_per_s:
            return None
        return floor_ms(self.macs * self.batch, self.gemm_macs_per_s)

    @property
    def roofline_fraction(self) -> float | None:
        return None if self.floor_ms is None else self.floor_ms / self.median_ms

    @property
    def achieved_gmacs(self) -> float:
        return self.macs * self.batch / (self.median_ms / 1e3) / 1e9

    @property
    def backend_label(self) -> str:
        return BACKENDS[self.backend].label

    def key(self) -> tuple:
        return (self.config, self.backend, self.threads, self.batch)

    def to_dict(self) -> dict:
        return {
            "model": self.model,
            "family": self.config.family,
            "input": list(self.input_size),
            "backend": self.backend,
            "backend_label": self.backend_label,
            "threads": self.threads,
            "batch": self.batch,
            **self.timing.to_dict(),
            "macs": self.macs,
            "macs_convention": "multiply-adds per image incl. FC (macs_with_fc, fvcore)",
            "conv_macs": self.conv_macs,
            "achieved_gmacs": self.achieved_gmacs,
            "floor_ms": self.floor_ms,
            "roofline_fraction": self.roofline_fraction,
            "max_abs_diff": self.max_abs_diff,
            "relative_diff": self.relative_diff,
            "prepare_s": self.prepare_s,
            "compile_s": self.compile_s,
            "compile_convention": "seconds to create the ONNX Runtime session or to read, reshape and compile the "
            "model in OpenVINO, once per model, input and runner; not part of the latency",
            "precision": BACKENDS[self.backend].precision,
        }

    def to_record(self) -> dict:
        """Everything needed to show this measurement again later, as JSON values (``from_record`` reads it)."""
        return {
            "config": config_to_dict(self.config),
            "backend": self.backend,
            "threads": self.threads,
            "batch": self.batch,
            "timing": self.timing.to_record(),
            **{name: getattr(self, name) for name in RECORDED_FIGURES},
        }

    @classmethod
    def from_record(cls, record: dict) -> Measurement:
        """The measurement ``to_record`` wrote (fields it does not know are left at their defaults)."""
        figures = {name: record[name] for name in RECORDED_FIGURES if name in record}
        return cls(
            config=config_from_dict(record["config"]),
            backend=record["backend"],
            threads=record["threads"],
            batch=record["batch"],
            timing=Timing.from_record(record["timing"]),
            **figures,
        )


@dataclass
class Results:
    """What ``LatencyRunner.measure_many`` got: measurements, backends that failed, and whether it was cancelled."""

    measurements: list[Measurement] = field(default_factory=list)
    failures: list[BackendFailure] = field(default_factory=list)
    cancelled: bool = False


def fastest(measurements: Iterable[Measurement], fp32_only: bool = False) -> Measurement | None:
    """The lowest median; with ``fp32_only``, among FP32 backends only (INT8 / BF16 trade accuracy for speed)."""
    candidates = [m for m in measurements if not fp32_only or BACKENDS[m.backend].precision == "fp32"]
    return min(candidates, key=lambda m: m.median_ms, default=None)


def model_key(config: ModelConfig) -> ModelConfig:
    """The model without its input size: the weights do not depend on it (global pooling /
    fully convolutional), so one built model and one ONNX export serve every input."""
    return replace(config, input_size=REFERENCE_INPUT)
