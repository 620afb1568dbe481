"""Measure a model's latency on one backend, or many (config, backend) pairs in one loop.

``LatencyRunner`` fixes the thread count and batch for its lifetime and caches what it
built: models, ONNX exports (in a temporary directory removed when it closes: use it as
``with LatencyRunner(...) as runner:``, errors included), ONNX Runtime sessions, OpenVINO
compiled models, and the PyTorch reference outputs the ONNX backends are compared with.
Creating a session or compiling a model is timed once and reported as ``compile_s``,
apart from the latency.

Measurement rules: one thread count for every backend (``torch.set_num_threads``, restored
after; ORT's ``intra_op_num_threads``, OpenVINO's ``INFERENCE_NUM_THREADS``, one stream),
warm-up, time-based repetition (``explorer.latency.timing.time_function``), median / IQR /
min / runs reported, noisy when the IQR is over 10% of the median, busy when the host shared
the threads (``explorer.latency.quiet``; ``wait_quiet`` waits and re-times), batch 1 by default.

Fairness: the process-wide measurement lock (``explorer.concurrency.MEASUREMENT_LOCK``)
serialises every measurement, export included, so two users of the app never time on
top of each other; ``on_wait`` lets a caller show that it is queued. A request whose
estimated memory exceeds half of what the machine has available, or the configured
limit, is refused first (``explorer.counting.check_memory``: ``MemoryRefused``, a
``ValueError`` that states the estimate and the limit).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..checks import check_choice, check_number
from ..concurrency import counting_threads, torch_threads
from ..counting import Complexity, check_memory, complexity
from ..shufflenet import ModelConfig, ShuffleNetConfig, build_model
from . import export
from .backends import (
    BACKENDS,
    BackendFailed,
    BackendFailure,
    FailedBefore,
    check_available,
    failure_stage,
    one_line,
    parity,
)
from .export import INPUT_NAME, fold_batchnorm
from .kernel_profile import KernelProfile, profile_onnx
from .quiet import time_quietly
from .results import Measurement, Results, model_key
from .roofline import GemmPeak, gemm_peak
from .threads import check_batch, check_threads, default_threads
from .timing import (
    DEFAULT_MIN_TIME,
    DEFAULT_WARMUP,
    Cancelled,
    cancellable,
    check_cancel,
    measurement_lock,
    time_function,
)

log = logging.getLogger(__name__)


SETUP_THREADS = 1  # threads for untimed work: counting, export, parity reference
MAX_SECONDS = 60.0  # of timed runs or warm-up per measurement


def counted(config: ModelConfig) -> Complexity:
    """``explorer.complexity(config)``, computed with one thread (``explorer.concurrency``).

    Counting traces the model (fvcore) and runs it eagerly: untimed work. On a shared
    2-core machine two OpenMP threads that must meet at every operator slow to a crawl as
    soon as another process takes a core (measured: 70 s to count Table 8's nine models
    at 2 threads under load, 11 s at 1 thread), so untimed work uses one.
    """
    with counting_threads():
        return complexity(config)


def needs_static_export(config: ModelConfig) -> bool:
    """ShuffleNet's channel-shuffle reshape bakes H and W into the graph (see ``explorer.latency.export``)."""
    return isinstance(config, ShuffleNetConfig)


def _image(config: ModelConfig, batch: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1234)
    return torch.randn(batch, 3, *config.input_size, generator=generator)


@dataclass
class _Prepared:
    run: Callable[[], object]
    max_abs_diff: float | None = None
    relative_diff: float | None = None
    compile_s: float | None = None  # ORT session creation / OpenVINO read + reshape + compile


class LatencyRunner:
    """Measures models with fixed threads/batch; caches models, exports and sessions for its lifetime."""

    def __init__(
        self,
        threads: int | None = None,
        batch: int = 1,
        min_time: float = DEFAULT_MIN_TIME,
        warmup: float = DEFAULT_WARMUP,
        min_samples: int = 5,
        seed: int = 0,
        wait_quiet: float = 0.0,
    ) -> None:
        self.threads = check_threads(default_threads() if threads is None else threads)
        self.batch = check_batch(batch)
        self.min_time = check_number("min_time", min_time, 0, MAX_SECONDS, "from 0 to 60 seconds")
        self.warmup = check_number("warmup", warmup, 0, MAX_SECONDS, "from 0 to 60 seconds")
        self.min_samples, self.seed = min_samples, seed
        self.wait_quiet = wait_quiet  # seconds to wait, per measurement, for other processes and the host to go quiet
        self._tmp: tempfile.TemporaryDirectory | None = tempfile.TemporaryDirectory(prefix="explorer-onnx-")
        self.workdir = self._tmp.name
        self._models: dict[tuple, nn.Module] = {}
        self._paths: dict[tuple, str] = {}
        self._sessions: dict[tuple, object] = {}  # ORT: path -> (session, seconds); OpenVINO: key -> Compiled
        self._references: dict[tuple, np.ndarray] = {}
        self._failed_exports: dict[tuple, str] = {}  # export key -> one-line reason
        self.peak: GemmPeak | None = None
        self.export_s = 0.0

    # context manager: the temporary directory goes on every path
    def __enter__(self) -> LatencyRunner:
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
        key = (model_key(config), variant)
        if key not in self._models:
            if variant == "torch":
                torch.manual_seed(self.seed)
                with torch.inference_mode(False):
                    self._models[key] = build_model(model_key(config))
            elif variant == "torch-cl":
                self._models[key] = copy.deepcopy(self._model(config)).to(memory_format=torch.channels_last)
            elif variant == "torch-fold":
                with torch.inference_mode(False):
                    self._models[key] = fold_batchnorm(self._model(config))
        return self._models[key]

    def _fp32_path(self, config: ModelConfig) -> str:
        dynamic = not needs_static_export(config)
        key = (model_key(config), "fp32") if dynamic else (config, "fp32", self.batch)
        return self._exported(
            key,
            f"model{len(self._paths)}.onnx",
            lambda path: export.export_onnx(self._model(config), config.input_size, path, self.batch, dynamic=dynamic),
        )

    def _int8_path(self, config: ModelConfig) -> str:
        key = (config, "int8", self.batch)  # calibrated at this input size and batch
        fp32 = self._fp32_path(config)
        return self._exported(
            key,
            f"model{len(self._paths)}-int8.onnx",
            lambda path: export.quantize_int8(fp32, path, config.input_size, self.batch),
        )

    def _exported(self, key: tuple, name: str, write: Callable[[str], object]) -> str:
        """The file ``write`` makes in the work directory, made once; a failed export is not retried."""
        if key in self._paths:
            return self._paths[key]
        if key in self._failed_exports:
            raise FailedBefore(self._failed_exports[key])
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

    def _session(self, path: str) -> tuple[object, float]:
        """The ONNX Runtime session of ``path`` and the seconds creating it took."""
        if path not in self._sessions:
            start = time.perf_counter()
            session = export.ort_session(path, self.threads)
            self._sessions[path] = (session, time.perf_counter() - start)
        return self._sessions[path]

    def _compiled(self, path: str, backend: str, image: torch.Tensor):
        """OpenVINO's compiled model of ``path`` for ``backend``'s precision, static at ``image``'s shape."""
        from . import openvino

        precision = openvino.PRECISIONS[backend]
        key = ("openvino", path, precision, tuple(image.shape))
        if key not in self._sessions:
            self._sessions[key] = openvino.compile_onnx(path, image.numpy(), self.threads, precision)
        return self._sessions[key]

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
        """Build what will be timed, step by step (ONNX backends: also export, check, open or compile, compare)."""
        image = _image(config, self.batch)
        spec = BACKENDS[backend]
        with failure_stage(config, backend, "build"):
            model = self._model(config, "torch" if spec.onnx else backend)
        if not spec.onnx:
            x = image.contiguous(memory_format=torch.channels_last) if backend == "torch-cl" else image
            return _Prepared(lambda: model(x))
        check_cancel(cancel)
        with failure_stage(config, backend, "export"):
            path = self._int8_path(config) if spec.precision == "int8" else self._fp32_path(config)
        check_cancel(cancel)
        if spec.runtime == "openvino":
            with failure_stage(config, backend, "compile"):
                compiled = self._compiled(path, backend, image)
            run, compile_s = compiled.run, compiled.compile_s

            def first_output() -> np.ndarray:
                compiled.run()
                return compiled.output()
        else:
            with failure_stage(config, backend, "session"):
                session, compile_s = self._session(path)
            feed = {INPUT_NAME: image.numpy()}

            def run() -> object:
                return session.run(None, feed)

            def first_output() -> np.ndarray:
                return session.run(None, feed)[0]

        with failure_stage(config, backend, "run"):
            result = first_output()
            reference = self._reference(config, image)
        with failure_stage(config, backend, "export"):
            difference, relative = parity(reference, result, backend)
        return _Prepared(run, difference, relative, compile_s)

    def _roofline(self) -> GemmPeak | None:
        """The GEMM peak; a fault there costs the roofline columns, never the measurement."""
        try:
            return gemm_peak(self.threads)
        except Exception:
            log.exception("GEMM peak not measured: measurements are shown without the roofline")
            return self.peak

    def measure(
        self,
        config: ModelConfig,
        backend: str,
        *,
        on_wait: Callable[[float], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Measurement:
        """Time one (config, backend) under the process-wide lock.

        Raises ``BackendFailed`` when a step fails (see ``FAILURE_STAGES``), ``MemoryRefused`` when it
        would not fit, ``Cancelled`` once ``cancel`` is set.
        """
        check_choice("backend", backend, BACKENDS)
        check_available([backend])
        with failure_stage(config, backend, "build"):
            check_memory(config, self.batch, (backend,))
            figures = counted(config)
        with measurement_lock(on_wait, cancel):
            check_cancel(cancel)
            started_at = time.monotonic()
            if self.peak is None:  # once per runner: a noisy peak is re-measured by the next runner, not per model
                self.peak = self._roofline()
            start = time.perf_counter()
            with torch_threads(SETUP_THREADS):
                prepared = self._prepare(config, backend, cancel)
            prepare_s = time.perf_counter() - start
            check_cancel(cancel)
            run, threads = cancellable(prepared.run, cancel), self.threads
            settings = {"min_time": self.min_time, "warmup": self.warmup, "min_samples": self.min_samples}
            with failure_stage(config, backend, "run"), torch_threads(threads), torch.inference_mode():
                timing = time_quietly(
                    lambda: time_function(run, threads=threads, **settings), threads, self.wait_quiet, cancel
                )
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
            compile_s=prepared.compile_s,
            started_at=started_at,
            finished_at=finished_at,
            measured_at=time.time(),
        )

    def profile(self, config: ModelConfig, runs: int = 20) -> KernelProfile:
        """ONNX Runtime's grouped profile of ``config`` on this runner's FP32 export (exported once), under the lock."""
        with measurement_lock():
            with torch_threads(SETUP_THREADS):
                path = self._fp32_path(config)
            return profile_onnx(path, config, self.threads, runs, self.batch, self.seed)

    def measure_many(
        self,
        jobs: Sequence[tuple[ModelConfig, str]],
        *,
        on_start: Callable[[int, int, ModelConfig, str], None] | None = None,
        progress: Callable[[int, int, Measurement | BackendFailure], None] | None = None,
        cancel: threading.Event | None = None,
        on_wait: Callable[[float], None] | None = None,
    ) -> Results:
        """Measure each (config, backend) in turn: the one loop the CLI, the pages and background jobs use.

        A failed backend is recorded and the rest still measured. ``on_start(index, total,
        config, backend)`` is called before each measurement and ``progress(done, total,
        outcome)`` after it (a ``Measurement`` or a ``BackendFailure``). ``cancel`` stops the
        job between measurements and inside one (between its steps and timed runs); what was
        measured until then is returned with ``cancelled`` set.
        """
        results = Results()
        for index, (config, backend) in enumerate(jobs):
            if cancel is not None and cancel.is_set():
                results.cancelled = True
                break
            if on_start is not None:
                on_start(index, len(jobs), config, backend)
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


def measure(
    config: ModelConfig,
    backend: str = "ort",
    *,
    threads: int | None = None,
    batch: int = 1,
    min_time: float = DEFAULT_MIN_TIME,
    **kwargs,
) -> Measurement:
    """One measurement with a throw-away runner (its ONNX files are removed on return)."""
    with LatencyRunner(threads, batch, min_time, **kwargs) as runner:
        return runner.measure(config, backend)
