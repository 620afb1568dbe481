"""The runtimes a model can be timed on, and what happens when one cannot run a model.

Backends (each labelled wherever a number appears):

* ``torch``       PyTorch eager, ``torch.inference_mode()``, NCHW.
* ``torch-cl``    PyTorch eager with the model and input in channels-last (NHWC) memory.
* ``torch-fold``  PyTorch eager with every BatchNorm folded into the convolution before it.
* ``ort``         ONNX Runtime (CPU), FP32, all graph optimisations (``ORT_ENABLE_ALL``:
                  Conv+BN and Conv+ReLU fusion, NCHWc blocked layouts), on a model
                  exported from the same ``nn.Module`` (checked with ``onnx.checker``, its
                  outputs compared with PyTorch's: max absolute difference reported).
* ``ort-int8``    ONNX Runtime on an INT8 statically quantised copy (QDQ, per-channel
                  weights, calibrated on random inputs); its drift against FP32 is shown.
* ``openvino``    OpenVINO (CPU plugin) on the same FP32 export: FP32 forced, static input
                  shape, LATENCY hint, the runner's threads (``explorer.latency.openvino``).
* ``openvino-int8`` OpenVINO on the INT8 model ``ort-int8`` runs; drift shown, not judged.
* ``openvino-bf16`` OpenVINO computing in bfloat16 (reduced precision: drift shown, not
                  judged); offered only where the CPU supports it (``unavailable_reason``).

Each backend says which runtime runs it and in which precision: FP32 outputs must match
PyTorch's (``FP32_PARITY_TOLERANCE``), INT8 and BF16 drift is reported; "fastest" for
Table 8's headline means the fastest FP32 backend.

Faults: a backend that cannot be measured for a config (the model does not build or
count, the ONNX export or its check raises, an FP32 output differs from PyTorch's, the
ONNX Runtime session cannot be created, OpenVINO cannot read, reshape or compile the model,
a run raises) raises ``BackendFailed`` carrying a ``BackendFailure`` (backend, config,
stage, one-line reason); the traceback goes to the ``explorer.latency`` logger. The
runner records it and measures the other backends, so a runtime fault never hides the
other runtimes' numbers.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from ..counting import ResourceRefused
from ..shufflenet import ModelConfig
from .export import max_abs_difference
from .timing import Cancelled

log = logging.getLogger(__package__)  # "explorer.latency": every backend fault is logged there


@dataclass(frozen=True)
class Backend:
    key: str
    label: str
    description: str
    onnx: bool  # runs an ONNX export of the model
    runtime: str = "torch"  # torch, ort or openvino
    precision: str = "fp32"  # fp32, int8 or bf16: only FP32 is judged against PyTorch and ranked "fastest"


BACKENDS: dict[str, Backend] = {
    b.key: b
    for b in (
        Backend("torch", "PyTorch eager", "PyTorch eager, inference mode, NCHW tensors", False),
        Backend(
            "torch-cl", "PyTorch eager, channels-last", "PyTorch eager, model and input in channels-last memory", False
        ),
        Backend(
            "torch-fold", "PyTorch eager, BN folded", "PyTorch eager, BatchNorm folded into the preceding conv", False
        ),
        Backend(
            "ort", "ONNX Runtime FP32", "ONNX Runtime CPU, FP32, all graph optimisations (ORT_ENABLE_ALL)", True, "ort"
        ),
        Backend(
            "ort-int8",
            "ONNX Runtime INT8",
            "ONNX Runtime CPU on an INT8 static-quantised copy (QDQ, calibrated on random inputs)",
            True,
            "ort",
            "int8",
        ),
        Backend(
            "openvino",
            "OpenVINO FP32",
            "OpenVINO CPU, FP32 forced (inference precision f32), static input shape, LATENCY hint, one stream",
            True,
            "openvino",
        ),
        Backend(
            "openvino-int8",
            "OpenVINO INT8",
            "OpenVINO CPU on the INT8 model ONNX Runtime INT8 runs (QDQ)",
            True,
            "openvino",
            "int8",
        ),
        Backend(
            "openvino-bf16",
            "OpenVINO BF16 (reduced precision)",
            "OpenVINO CPU computing in bfloat16 (reduced precision: 8-bit mantissa; drift from FP32 shown, not judged)",
            True,
            "openvino",
            "bf16",
        ),
    )
}
DEFAULT_BACKENDS = ("torch", "ort", "openvino")  # one model: PyTorch and both FP32 runtimes, so "fastest" is
TABLE8_BACKENDS = ("ort", "openvino")  # the FP32 runtimes that are fastest here; eager PyTorch never is


def unavailable_reason(backend: str) -> str | None:
    """Why ``backend`` cannot be offered on this machine (only ``openvino-bf16`` may not be), or None."""
    if BACKENDS[backend].precision != "bf16":
        return None
    from .openvino import bf16_unavailable_reason

    return bf16_unavailable_reason()


def available_backends() -> tuple[str, ...]:
    """The backends this machine offers, in ``BACKENDS`` order."""
    return tuple(key for key in BACKENDS if unavailable_reason(key) is None)


def default_backends() -> tuple[str, ...]:
    """``DEFAULT_BACKENDS`` this machine offers: what ``bench`` and the Latency page's "This model" time unless told."""
    return tuple(key for key in DEFAULT_BACKENDS if unavailable_reason(key) is None)


def fp32(backend: str) -> bool:
    return BACKENDS[backend].precision == "fp32"


def parse_backends(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"torch,ort"`` -> ``("torch", "ort")``; unknown names raise ``ValueError``."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise ValueError(
            f"backends={','.join(names) or text!r} is not allowed: choose from {', '.join(available_backends())}"
        )
    check_available(names)
    return tuple(dict.fromkeys(names))


def check_available(names: Sequence[str]) -> None:
    """``ValueError`` naming the first backend this machine does not offer, why, and what it offers."""
    for name in names:
        reason = unavailable_reason(name)
        if reason:
            raise ValueError(
                f"backend={name!r} is not allowed here: {reason}. Choose from {', '.join(available_backends())}"
            )


# --------------------------------------------------------------------------- faults

FAILURE_STAGES = {
    "build": "building and counting the model",
    "export": "the ONNX export (export, onnx.checker, quantisation, or outputs against PyTorch)",
    "session": "creating the ONNX Runtime session",
    "compile": "OpenVINO reading, reshaping (static input shape) and compiling the model",
    "run": "running the model",
}
FP32_PARITY_TOLERANCE = 1e-3  # FP32 runtime vs PyTorch: max |diff| / max |PyTorch output| (measured: about 1e-6)
REASON_CHARS = 300


@dataclass(frozen=True)
class BackendFailure:
    """One (config, backend) that could not be measured: the step that failed and why, in one line."""

    config: ModelConfig
    backend: str
    stage: str  # a key of FAILURE_STAGES
    reason: str  # "ExceptionType: message", whitespace collapsed, at most REASON_CHARS

    @property
    def backend_label(self) -> str:
        return BACKENDS[self.backend].label

    @property
    def where(self) -> str:
        return f"{self.config.label} at {self.config.input_size[0]}x{self.config.input_size[1]}"

    def message(self) -> str:
        return f"{self.backend_label} failed for {self.where} during {FAILURE_STAGES[self.stage]}: {self.reason}"

    def to_dict(self) -> dict:
        return {
            "model": self.config.label,
            "input": list(self.config.input_size),
            "backend": self.backend,
            "backend_label": self.backend_label,
            "stage": self.stage,
            "reason": self.reason,
        }


class BackendFailed(RuntimeError):
    """Raised by ``LatencyRunner.measure`` when one backend cannot be measured for one config."""

    def __init__(self, failure: BackendFailure) -> None:
        super().__init__(failure.message())
        self.failure = failure


class ParityMismatch(RuntimeError):
    """The exported graph, as a runtime computes it, does not compute what the PyTorch module computes."""


class FailedBefore(RuntimeError):
    """An export that already failed in this runner: same reason, not tried again (AlexNet's takes ~20 s)."""


def one_line(error: BaseException, limit: int = REASON_CHARS) -> str:
    """``Type: message`` on one line, cut to ``limit`` characters: a reason to show, not a traceback."""
    text = " ".join(str(error).split())
    text = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


@contextlib.contextmanager
def failure_stage(config: ModelConfig, backend: str, stage: str) -> Iterator[None]:
    """Turn any fault inside the block into ``BackendFailed`` (traceback logged); refusals and cancels pass."""
    try:
        yield
    except (Cancelled, BackendFailed, ResourceRefused):  # a refusal (memory, time) is an answer, not a fault
        raise
    except Exception as error:
        repeated = isinstance(error, FailedBefore)
        failure = BackendFailure(config, backend, stage, str(error) if repeated else one_line(error))
        log.error("%s", failure.message(), exc_info=not repeated)
        raise BackendFailed(failure) from error


def parity(reference: np.ndarray, output: np.ndarray, backend: str) -> tuple[float, float]:
    """Max |runtime - PyTorch| and that over max |PyTorch|; ``ParityMismatch`` when FP32 is off or anything is NaN.

    INT8 and BF16 are expected to drift (reported, not judged); FP32 must agree to rounding.
    """
    runtime = {"ort": "ONNX Runtime", "openvino": "OpenVINO"}.get(BACKENDS[backend].runtime, "runtime")
    difference = max_abs_difference(reference, output)
    relative = difference / (float(np.max(np.abs(reference))) or 1.0)
    if not np.isfinite(relative):
        raise ParityMismatch(f"the {runtime} output is not finite where PyTorch's is (max |diff| {difference})")
    if fp32(backend) and relative > FP32_PARITY_TOLERANCE:
        raise ParityMismatch(
            f"the {runtime} output differs from PyTorch's by {difference:.3g} (max |diff|, "
            f"{relative:.3g} of the largest output; FP32 allows {FP32_PARITY_TOLERANCE:g})"
        )
    return difference, relative
