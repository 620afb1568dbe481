"""CPU latency of any model the explorer builds, with PyTorch and ONNX Runtime.

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

Measurement rules: one thread count for every backend (``torch.set_num_threads`` and
ORT's ``intra_op_num_threads``; PyTorch's previous setting is restored afterwards),
warm-up, time-based repetition (``latency_timing.time_function``), median / IQR / min /
runs reported, IQR > 10% of the median flagged as noisy, batch 1 by default.

Fairness: ``LOCK`` (``explorer.threads.MEASUREMENT_LOCK``, one per process) serialises every measurement,
export included, so two users of the app never time on top of each other;
``measurement_lock(on_wait=...)`` lets a caller show that it is queued. A request whose
estimated memory exceeds half of what the machine has available, or the configured limit
(``explorer.limits``: ``EXPLORER_MAX_MEMORY_MB``), is refused (``MemoryRefused``, a
``ValueError`` that states the estimate and the limit).

ONNX files live in a temporary directory owned by a ``LatencyRunner`` and removed when
it closes (``with LatencyRunner(...) as runner:``), errors included.

Faults: a backend that cannot be measured for a config (the model does not build or
count, the ONNX export or its check raises, ONNX Runtime's output differs from PyTorch's,
the session cannot be created, a run raises) raises ``BackendFailed`` carrying a
``BackendFailure`` (backend, config, stage, one-line reason); the traceback goes to the
``explorer.latency`` logger. ``measure_many`` records it and measures the other backends,
so an ONNX Runtime fault never hides the PyTorch numbers. A ``cancel`` event stops a
measurement between its steps and between timed runs (``Cancelled``).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import platform
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import torch
from torch import nn

from . import onnx_export, paper
from .analysis import complexity
from .config import REFERENCE_INPUT, AlexNetConfig, MobileNetConfig, ModelConfig, ShuffleNetConfig
from .limits import MEMORY_ENV, Limits, ResourceRefused, footprint
from .latency_timing import (
    CONTENDED_SHARE,
    DEFAULT_MIN_TIME,
    DEFAULT_WARMUP,
    NOISY_IQR_FRACTION,
    CpuMeter,
    Timing,
    time_function,
    torch_threads,
)
from .models import build_model
from .onnx_export import INPUT_NAME, fold_batchnorm, max_abs_difference
from .roofline import GemmPeak, floor_ms, gemm_peak
from .threads import MEASUREMENT_LOCK, counting_threads, measurement_running

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- backends


@dataclass(frozen=True)
class Backend:
    key: str
    label: str
    description: str
    onnx: bool


BACKENDS: dict[str, Backend] = {
    b.key: b
    for b in (
        Backend("torch", "PyTorch eager", "PyTorch eager, inference mode, NCHW tensors", False),
        Backend("torch-cl", "PyTorch eager, channels-last", "PyTorch eager, model and input in channels-last memory",
                False),
        Backend("torch-fold", "PyTorch eager, BN folded", "PyTorch eager, BatchNorm folded into the preceding conv",
                False),
        Backend("ort", "ONNX Runtime FP32", "ONNX Runtime CPU, FP32, all graph optimisations (ORT_ENABLE_ALL)", True),
        Backend("ort-int8", "ONNX Runtime INT8",
                "ONNX Runtime CPU on an INT8 static-quantised copy (QDQ, calibrated on random inputs)", True),
    )
}  # fmt: skip
DEFAULT_BACKENDS = ("torch", "ort")
MAX_BATCH = 1024
MAX_THREADS = 256


def parse_backends(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"torch,ort"`` -> ``("torch", "ort")``; unknown names raise ``ValueError``."""
    names = [n.strip() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    unknown = [n for n in names if n not in BACKENDS]
    if unknown or not names:
        raise ValueError(f"backends={','.join(names) or text!r} is not allowed: choose from {', '.join(BACKENDS)}")
    return tuple(dict.fromkeys(names))


# --------------------------------------------------------------------------- the machine


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def default_threads() -> int:
    """All cores this process may use."""
    return available_cores()


def versions() -> dict[str, str]:
    import onnxruntime

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "python": platform.python_version()}


def machine_dict(threads: int, peak: GemmPeak | None) -> dict:
    return {
        "cpu": cpu_model(),
        "cores": available_cores(),
        "threads": threads,
        **versions(),
        **(peak.to_dict() if peak else {"gemm_gflops": None}),
    }


def check_threads(threads: int) -> int:
    if isinstance(threads, bool) or not isinstance(threads, int) or not 1 <= threads <= MAX_THREADS:
        raise ValueError(f"threads={threads!r} is not allowed: give an integer from 1 to {MAX_THREADS} "
                         f"(this machine has {available_cores()} cores)")
    return threads


def check_batch(batch: int) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
        raise ValueError(f"batch={batch!r} is not allowed: give an integer from 1 to {MAX_BATCH}")
    return batch


# --------------------------------------------------------------------------- memory guard

MEMORY_FRACTION = 0.5  # of MemAvailable a measurement may plan to use
ACTIVATION_FACTOR = 2.0  # conv/linear outputs x2: BN/ReLU/concat temporaries, runtime arenas
WEIGHT_COPIES = {"torch": 1, "torch-cl": 2, "torch-fold": 2, "ort": 3, "ort-int8": 4}  # model + exports + sessions
CALIBRATION_COPIES = 4  # INT8 calibration keeps every intermediate tensor of each calibration input


class MemoryRefused(ResourceRefused):
    """A measurement that would need more memory than the machine can spare."""


def available_memory() -> int:
    """Bytes the kernel reports as available (``MemAvailable`` in /proc/meminfo)."""
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))


def memory_limit(available: int) -> int:
    """The smaller of ``MEMORY_FRACTION`` of what is available and the configured limit."""
    return min(int(available * MEMORY_FRACTION), Limits.from_environment().memory_bytes)


@dataclass(frozen=True)
class MemoryEstimate:
    activation_bytes: int  # per image (conv + linear outputs, float32)
    weight_bytes: int
    batch: int
    backends: tuple[str, ...]
    total: int
    limit: int
    available: int

    @property
    def fits(self) -> bool:
        return self.total <= self.limit

    def message(self, label: str) -> str:
        gb = lambda b: f"{b / 1e9:.2f} GB"  # noqa: E731
        return (
            f"refused: {label} at batch {self.batch} needs about {gb(self.total)} "
            f"(activations {gb(self.activation_bytes)} per image x batch {self.batch} x {ACTIVATION_FACTOR:g} "
            f"+ weights {gb(self.weight_bytes)} x copies for {', '.join(self.backends)}), "
            f"but the limit is {gb(self.limit)} (the smaller of {MEMORY_FRACTION:.0%} of the {gb(self.available)} "
            f"available and `{MEMORY_ENV}`). Use a smaller batch or input."
        )


SETUP_THREADS = 1  # threads for untimed work: counting, export, parity reference


def counted(config: ModelConfig):
    """``explorer.complexity(config)``, computed with one thread (``explorer.threads``).

    Counting traces the model (fvcore) and runs it eagerly: untimed work. On a shared
    2-core machine two OpenMP threads that must meet at every operator slow to a crawl as
    soon as another process takes a core (measured: 70 s to count Table 8's nine models
    at 2 threads under load, 11 s at 1 thread), so untimed work uses one.
    """
    with counting_threads():
        return complexity(config)


def activation_and_weight_bytes(config: ModelConfig) -> tuple[int, int]:
    """Activation bytes per image and weight bytes, from shapes alone (``explorer.limits.footprint``).

    Nothing is built or run: for a huge input that would be the very allocation the guard
    must prevent. The figures equal the built model's counts (tests/test_limits.py).
    """
    shape = footprint(config)
    return shape.activation_bytes, shape.weight_bytes


def memory_estimate(config: ModelConfig, batch: int, backends: Iterable[str], available: int | None = None
                    ) -> MemoryEstimate:
    activations, weights = activation_and_weight_bytes(config)
    backends = tuple(backends)
    copies = max(WEIGHT_COPIES[b] for b in backends)
    total = ACTIVATION_FACTOR * activations * batch + copies * weights + 4 * batch * 3 * config.input_size[0] * \
        config.input_size[1]
    if "ort-int8" in backends:
        total += CALIBRATION_COPIES * activations * batch
    available = available_memory() if available is None else available
    return MemoryEstimate(activations, weights, batch, backends, int(total), memory_limit(available), available)


def check_memory(config: ModelConfig, batch: int, backends: Iterable[str], available: int | None = None
                 ) -> MemoryEstimate:
    estimate = memory_estimate(config, batch, backends, available)
    if not estimate.fits:
        raise MemoryRefused(estimate.message(config.label + f" at {config.input_size[0]}x{config.input_size[1]}"))
    return estimate


# --------------------------------------------------------------------------- the lock

LOCK = MEASUREMENT_LOCK  # shared with counting (explorer.threads), re-entrant
LOCK_POLL_S = 0.25


class Cancelled(Exception):
    """A measurement job was cancelled between measurements."""


@contextlib.contextmanager
def measurement_lock(on_wait: Callable[[float], None] | None = None, cancel: threading.Event | None = None,
                     poll: float = LOCK_POLL_S) -> Iterator[None]:
    """Hold the process-wide measurement lock; call ``on_wait(seconds)`` while queued."""
    start = time.monotonic()
    while not LOCK.acquire(timeout=poll):
        if cancel is not None and cancel.is_set():
            raise Cancelled("cancelled while queued")
        if on_wait is not None:
            on_wait(time.monotonic() - start)
    try:
        yield
    finally:
        LOCK.release()


def lock_busy() -> bool:
    return measurement_running()


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise Cancelled("cancelled")


def cancellable(run: Callable[[], object], cancel: threading.Event | None) -> Callable[[], object]:
    """``run``, raising ``Cancelled`` before each call once ``cancel`` is set (a timed loop stops at the next run)."""
    if cancel is None:
        return run

    def checked() -> object:
        if cancel.is_set():
            raise Cancelled("cancelled while timing")
        return run()

    return checked


# --------------------------------------------------------------------------- faults

STAGES = {
    "build": "building and counting the model",
    "export": "the ONNX export (export, onnx.checker, quantisation, or outputs against PyTorch)",
    "session": "creating the ONNX Runtime session",
    "run": "running the model",
}
FP32_PARITY_TOLERANCE = 1e-3  # ORT FP32 vs PyTorch: max |diff| / max |PyTorch output| (measured: about 1e-6)
REASON_CHARS = 300


@dataclass(frozen=True)
class BackendFailure:
    """One (config, backend) that could not be measured: the step that failed and why, in one line."""

    config: ModelConfig
    backend: str
    stage: str  # a key of STAGES
    reason: str  # "ExceptionType: message", whitespace collapsed, at most REASON_CHARS

    @property
    def backend_label(self) -> str:
        return BACKENDS[self.backend].label

    @property
    def where(self) -> str:
        return f"{self.config.label} at {self.config.input_size[0]}x{self.config.input_size[1]}"

    def message(self) -> str:
        return f"{self.backend_label} failed for {self.where} during {STAGES[self.stage]}: {self.reason}"

    def to_dict(self) -> dict:
        return {"model": self.config.label, "input": list(self.config.input_size), "backend": self.backend,
                "backend_label": self.backend_label, "stage": self.stage, "reason": self.reason}


class BackendFailed(RuntimeError):
    """Raised by ``LatencyRunner.measure`` when one backend cannot be measured for one config."""

    def __init__(self, failure: BackendFailure) -> None:
        super().__init__(failure.message())
        self.failure = failure


class ParityMismatch(RuntimeError):
    """The ONNX graph does not compute what the PyTorch module computes."""


class _FailedBefore(RuntimeError):
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
        repeated = isinstance(error, _FailedBefore)
        failure = BackendFailure(config, backend, stage, str(error) if repeated else one_line(error))
        log.error("%s", failure.message(), exc_info=not repeated)
        raise BackendFailed(failure) from error


# --------------------------------------------------------------------------- results


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
    started_at: float = 0.0  # time.monotonic() when the lock was taken
    finished_at: float = 0.0  # time.monotonic() just before it was released

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
        }


# --------------------------------------------------------------------------- the runner


def model_key(config: ModelConfig) -> ModelConfig:
    """The model without its input size: the weights do not depend on it (global pooling /
    fully convolutional), so one built model and one ONNX export serve every input."""
    return replace(config, input_size=REFERENCE_INPUT)


_model_key = model_key


def wait_until_quiet(limit_s: float, window_s: float = 0.5, threads: int | None = None) -> float | None:
    """Wait (up to ``limit_s``) until other processes leave ``threads`` cores free (10% slack) over ``window_s``.

    Returns the last share seen. Used by ``--wait-quiet``: on a shared machine a measurement
    then starts in a quiet moment instead of being flagged ``contended`` afterwards.
    """
    deadline = time.monotonic() + limit_s
    while True:
        meter = CpuMeter()
        time.sleep(window_s)
        share = meter.others_share()
        cores = os.cpu_count() or 1
        spare = max(0.0, (cores - threads) / cores) if threads else 0.0
        if share is None or share <= spare + CONTENDED_SHARE or time.monotonic() >= deadline:
            return share


def needs_static_export(config: ModelConfig) -> bool:
    """ShuffleNet's channel-shuffle reshape bakes H and W into the graph (see onnx_export)."""
    return isinstance(config, ShuffleNetConfig)


def _image(config: ModelConfig, batch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1234)
    return torch.randn(batch, 3, *config.input_size, generator=generator)


def parity(reference: np.ndarray, output: np.ndarray, backend: str) -> tuple[float, float]:
    """Max |ONNX - PyTorch| and that over max |PyTorch|; ``ParityMismatch`` when FP32 is off or anything is NaN.

    INT8 is expected to drift (it is reported, not judged); FP32 must agree to rounding.
    """
    difference = max_abs_difference(reference, output)
    relative = difference / (float(np.max(np.abs(reference))) or 1.0)
    if not np.isfinite(relative):
        raise ParityMismatch(f"the ONNX Runtime output is not finite where PyTorch's is (max |diff| {difference})")
    if backend == "ort" and relative > FP32_PARITY_TOLERANCE:
        raise ParityMismatch(f"the ONNX Runtime output differs from PyTorch's by {difference:.3g} (max |diff|, "
                             f"{relative:.3g} of the largest output; FP32 allows {FP32_PARITY_TOLERANCE:g})")
    return difference, relative


@dataclass
class _Prepared:
    run: Callable[[], object]
    max_abs_diff: float | None = None
    relative_diff: float | None = None


class LatencyRunner:
    """Measures models with fixed threads/batch; caches models, exports and sessions for its lifetime."""

    def __init__(self, threads: int | None = None, batch: int = 1, min_time: float = DEFAULT_MIN_TIME,
                 warmup: float = DEFAULT_WARMUP, min_samples: int = 5, seed: int = 0, wait_quiet: float = 0.0) -> None:
        self.threads = check_threads(default_threads() if threads is None else threads)
        self.batch = check_batch(batch)
        if not (0 <= min_time <= 60 and 0 <= warmup <= 60):
            raise ValueError(f"min_time={min_time!r} and warmup={warmup!r} must be from 0 to 60 seconds")
        self.min_time, self.warmup, self.min_samples, self.seed = min_time, warmup, min_samples, seed
        self.wait_quiet = wait_quiet  # seconds to wait, per measurement, for other processes to go quiet
        self._tmp: tempfile.TemporaryDirectory | None = tempfile.TemporaryDirectory(prefix="explorer-onnx-")
        self.workdir = self._tmp.name
        self._models: dict[tuple, nn.Module] = {}
        self._paths: dict[tuple, str] = {}
        self._sessions: dict[tuple, object] = {}
        self._references: dict[tuple, np.ndarray] = {}
        self._failed_exports: dict[tuple, str] = {}  # export key -> one-line reason
        self.peak: GemmPeak | None = None
        self.export_s = 0.0

    # context manager: the temporary directory goes on every path
    def __enter__(self) -> "LatencyRunner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._sessions.clear()
        self._models.clear()
        self._references.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __del__(self) -> None:  # pragma: no cover - safety net
        with contextlib.suppress(Exception):
            self.close()

    # ---------------------------------------------------------------- caches
    def _model(self, config: ModelConfig, variant: str = "torch") -> nn.Module:
        key = (_model_key(config), variant)
        if key not in self._models:
            if variant == "torch":
                torch.manual_seed(self.seed)
                with torch.inference_mode(False):
                    self._models[key] = build_model(_model_key(config))
            elif variant == "torch-cl":
                self._models[key] = copy.deepcopy(self._model(config)).to(memory_format=torch.channels_last)
            elif variant == "torch-fold":
                with torch.inference_mode(False):
                    self._models[key] = fold_batchnorm(self._model(config))
        return self._models[key]

    def _fp32_path(self, config: ModelConfig) -> str:
        dynamic = not needs_static_export(config)
        key = (_model_key(config), "fp32") if dynamic else (config, "fp32", self.batch)
        return self._exported(key, f"model{len(self._paths)}.onnx", lambda path: onnx_export.export_onnx(
            self._model(config), config.input_size, path, self.batch, dynamic=dynamic))

    def _int8_path(self, config: ModelConfig) -> str:
        key = (config, "int8", self.batch)  # calibrated at this input size and batch
        fp32 = self._fp32_path(config)
        return self._exported(key, f"model{len(self._paths)}-int8.onnx", lambda path: onnx_export.quantize_int8(
            fp32, path, config.input_size, self.batch))

    def _exported(self, key: tuple, name: str, write: Callable[[str], object]) -> str:
        """The file ``write`` makes in the work directory, made once; a failed export is not retried."""
        if key in self._paths:
            return self._paths[key]
        if key in self._failed_exports:
            raise _FailedBefore(self._failed_exports[key])
        self._require_dir()
        path = os.path.join(self.workdir, name)
        start = time.perf_counter()
        try:
            write(path)
        except Exception as error:
            self._failed_exports[key] = one_line(error)
            raise
        finally:
            self.export_s += time.perf_counter() - start
        self._paths[key] = path
        return path

    def _session(self, path: str):
        if path not in self._sessions:
            self._sessions[path] = onnx_export.ort_session(path, self.threads)
        return self._sessions[path]

    def _reference(self, config: ModelConfig, image: torch.Tensor) -> np.ndarray:
        key = (config, self.batch)
        if key not in self._references:
            with torch.inference_mode():
                self._references[key] = self._model(config)(image).numpy()
        return self._references[key]

    def _require_dir(self) -> None:
        if self._tmp is None:
            raise RuntimeError("this LatencyRunner is closed")

    # ---------------------------------------------------------------- prepare + time
    def _prepare(self, config: ModelConfig, backend: str, cancel: threading.Event | None = None) -> _Prepared:
        """Build (and for ONNX backends export, check, open and compare) what will be timed, step by step."""
        image = _image(config, self.batch)
        with failure_stage(config, backend, "build"):
            model = self._model(config, "torch" if BACKENDS[backend].onnx else backend)
        if not BACKENDS[backend].onnx:
            x = image.contiguous(memory_format=torch.channels_last) if backend == "torch-cl" else image
            return _Prepared(lambda: model(x))
        check_cancel(cancel)
        with failure_stage(config, backend, "export"):
            path = self._fp32_path(config) if backend == "ort" else self._int8_path(config)
        check_cancel(cancel)
        with failure_stage(config, backend, "session"):
            session = self._session(path)
        feed = {INPUT_NAME: image.numpy()}
        with failure_stage(config, backend, "run"):
            output = session.run(None, feed)[0]
            reference = self._reference(config, image)
        with failure_stage(config, backend, "export"):
            difference, relative = parity(reference, output, backend)
        return _Prepared(lambda: session.run(None, feed), difference, relative)

    def _roofline(self) -> GemmPeak | None:
        """The GEMM peak; a fault there costs the roofline columns, never the measurement."""
        try:
            return gemm_peak(self.threads)
        except Exception:
            log.exception("GEMM peak not measured: measurements are shown without the roofline")
            return self.peak

    def measure(self, config: ModelConfig, backend: str, *, on_wait: Callable[[float], None] | None = None,
                cancel: threading.Event | None = None) -> Measurement:
        """Time one (config, backend) under the process-wide lock.

        Raises ``BackendFailed`` when a step fails (see ``STAGES``), ``MemoryRefused`` when it
        would not fit, ``Cancelled`` once ``cancel`` is set.
        """
        if backend not in BACKENDS:
            raise ValueError(f"backend={backend!r} is not allowed: choose from {', '.join(BACKENDS)}")
        with failure_stage(config, backend, "build"):
            check_memory(config, self.batch, (backend,))
            figures = counted(config)
        with measurement_lock(on_wait, cancel):
            check_cancel(cancel)
            started_at = time.monotonic()
            self.peak = self._roofline()
            start = time.perf_counter()
            with torch_threads(SETUP_THREADS):
                prepared = self._prepare(config, backend, cancel)
            prepare_s = time.perf_counter() - start
            if self.wait_quiet > 0:
                wait_until_quiet(self.wait_quiet, threads=self.threads)
            check_cancel(cancel)
            with failure_stage(config, backend, "run"), torch_threads(self.threads), torch.inference_mode():
                timing = time_function(cancellable(prepared.run, cancel), min_time=self.min_time,
                                       warmup=self.warmup, min_samples=self.min_samples, threads=self.threads)
            finished_at = time.monotonic()
        return Measurement(
            config=config,
            backend=backend,
            threads=self.threads,
            batch=self.batch,
            timing=timing,
            macs=int(figures.macs_with_fc.value),
            conv_macs=int(figures.conv_macs.value),
            gemm_macs_per_s=None if self.peak is None else self.peak.macs_per_s,
            max_abs_diff=prepared.max_abs_diff,
            relative_diff=prepared.relative_diff,
            prepare_s=prepare_s,
            started_at=started_at,
            finished_at=finished_at,
        )

    def measure_many(self, jobs: Sequence[tuple[ModelConfig, str]], *,
                     progress: Callable[[int, int, Measurement | BackendFailure], None] | None = None,
                     cancel: threading.Event | None = None,
                     on_wait: Callable[[float], None] | None = None) -> Results:
        """Measure each (config, backend) in turn; a failed backend is recorded and the rest still measured.

        ``cancel`` stops the job between measurements and inside one (between its steps and
        timed runs); what was measured until then is returned with ``cancelled`` set.
        """
        results = Results()
        for index, (config, backend) in enumerate(jobs):
            if cancel is not None and cancel.is_set():
                results.cancelled = True
                break
            try:
                outcome: Measurement | BackendFailure = self.measure(config, backend, on_wait=on_wait, cancel=cancel)
                results.measurements.append(outcome)
            except BackendFailed as failed:
                outcome = failed.failure
                results.failures.append(outcome)
            except Cancelled:
                results.cancelled = True
                break
            if progress is not None:
                progress(index + 1, len(jobs), outcome)
        return results


@dataclass
class Results:
    """What ``measure_many`` got: the measurements, the backends that failed, and whether it was cancelled."""

    measurements: list[Measurement] = field(default_factory=list)
    failures: list[BackendFailure] = field(default_factory=list)
    cancelled: bool = False


def measure(config: ModelConfig, backend: str = "ort", *, threads: int | None = None, batch: int = 1,
            min_time: float = DEFAULT_MIN_TIME, **kwargs) -> Measurement:
    """One measurement with a throw-away runner (its ONNX files are removed on return)."""
    with LatencyRunner(threads, batch, min_time, **kwargs) as runner:
        return runner.measure(config, backend)


def fastest(measurements: Iterable[Measurement]) -> Measurement | None:
    return min(measurements, key=lambda m: m.median_ms, default=None)


# --------------------------------------------------------------------------- reference models

ALEXNET_DEFINITION = (
    "AlexNet (Krizhevsky et al., Caffe bvlc_alexnet layout with two-group conv2/4/5, no LRN), run fully "
    "convolutionally: fc6 is a 6x6 convolution and fc7/fc8 are 1x1 convolutions over the last feature map, "
    "and the class scores are averaged over positions. At 224x224 that is exactly the classic network "
    "(724M multiply-adds); at 480x640 and 720x1280 it slides the classifier over the image, which is how its "
    "cost grows with the pixel count as in the paper's Table 8."
)

REFERENCE_MODELS: dict[str, ModelConfig] = {
    "AlexNet": AlexNetConfig(),
    **{f"{w:g} MobileNet v1": MobileNetConfig(w) for w in (1.0, 0.75, 0.5, 0.25)},
}


# --------------------------------------------------------------------------- Table 8

THEORETICAL_CONVENTION = "ratio of multiply-adds incl. FC (macs_with_fc), AlexNet / model, same input"


def table8_jobs(backends: Sequence[str] = DEFAULT_BACKENDS) -> list[tuple[ModelConfig, str]]:
    """3 models x 3 inputs x backends, model-major so exports and sessions are reused."""
    return [(row.at(size), backend) for row in paper.TABLE8 for size in paper.TABLE8_INPUTS for backend in backends]


def _table8_row(config: ModelConfig) -> paper.Table8Row | None:
    for row in paper.TABLE8:
        if row.config == _model_key(config):
            return row
    return None


def _alexnet_row() -> paper.Table8Row:
    return next(r for r in paper.TABLE8 if isinstance(r.config, AlexNetConfig))


def table8_records(measurements: Sequence[Measurement]) -> list[dict]:
    """Each Table 8 measurement with speedups over AlexNet (same input, same backend) and the paper's numbers."""
    by_key = {(m.input_size, m.backend, _model_key(m.config)): m for m in measurements}
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
    target = _model_key(config)
    mine = fastest(m for m in measurements if _model_key(m.config) == target and m.input_size == input_size)
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
    """The issue's targets: roofline fraction of ShuffleNet 1x g=3 and speedup efficiency of 0.5x arch2."""
    one_x = paper.TABLE8[1].config
    half = paper.TABLE8[0].config
    at_224 = [m for m in measurements if m.input_size == REFERENCE_INPUT]
    best_1x = fastest(m for m in at_224 if _model_key(m.config) == one_x)
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


__all__ = [
    "ALEXNET_DEFINITION",
    "BACKENDS",
    "DEFAULT_BACKENDS",
    "LOCK",
    "Backend",
    "BackendFailed",
    "BackendFailure",
    "Cancelled",
    "LatencyRunner",
    "Measurement",
    "MemoryRefused",
    "ParityMismatch",
    "Results",
    "Timing",
    "available_memory",
    "best_speedup",
    "check_memory",
    "cpu_model",
    "default_threads",
    "fastest",
    "measure",
    "measurement_lock",
    "memory_estimate",
    "parse_backends",
    "summary",
    "table8_jobs",
    "table8_records",
]
