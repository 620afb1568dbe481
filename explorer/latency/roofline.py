"""The machine's FP32 GEMM throughput: the roofline every latency is compared against.

``gemm_peak(threads)`` times square FP32 matrix products (1024 and 1536) with
``torch.mm`` (MKL or oneDNN), ONNX Runtime's MatMul (MLAS) and OpenVINO's MatMul (its CPU
plugin's GEMM) at the given thread count with the same harness as the models, and keeps
the best of their medians in multiply-adds per second: the fastest a dense,
compute-bound workload runs here. Taking one library's rate would understate the peak
on a machine where another one is faster (on an AVX-512 EPYC, OpenVINO's MatMul reached
197 GFLOP/s, ORT's 172, torch.mm's less), and a model could then seem to beat its roof.

The peak is cached per machine and thread count, in this process and in the data
directory's SQLite file (table ``gemm_peaks``, ``explorer.store.peaks``), so a
restarted server or a new CLI process does not measure it again. The key is
``machine.fingerprint()`` (CPU model, cores, library versions): a peak is never reused
for other hardware or other library versions. ``refresh=True`` re-measures; a noisy or
contended peak is re-taken at its next use, up to three times per process, keeping the
best rate seen. If the file cannot be used the database falls back to memory (with a
warning in the log); a stored peak this version cannot read is measured again.

For a model with ``macs`` multiply-adds per image, ``floor_ms = macs * batch / peak`` is
the latency it would have if every multiply-add ran at GEMM speed; ``floor / measured``
is the fraction of that peak a backend reached. Depthwise and small grouped
convolutions do few multiply-adds per byte moved, so they sit far below it.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace

import torch

from ..concurrency import torch_threads
from ..machine import available_cores, cpu_model, fingerprint, versions
from ..store.peaks import peak_record, put_peak_record
from .export import session_options
from .timing import Timing, time_function

log = logging.getLogger(__name__)

GEMM_SIZES = (1024, 1536)  # 2048 reached no higher rate here and cost 1-4 s more per library
GEMM_MIN_TIME = 0.3
GEMM_SAMPLES = 3  # a 1536^2 product takes 0.05-0.2 s: three samples of it suffice, and three libraries run


@dataclass(frozen=True)
class GemmPeak:
    threads: int
    macs_per_s: float  # best median over GEMM_SIZES and both libraries
    size: int  # the matrix side that reached it
    timing: Timing  # of that size
    library: str = "torch.mm"  # which library reached it: torch.mm, ONNX Runtime MatMul or OpenVINO MatMul
    rates: tuple[tuple[str, float], ...] = ()  # best multiply-adds per second of each library that ran

    @property
    def gflops(self) -> float:
        """Billions of FLOPs per second, 2 FLOPs (multiply + add) per multiply-add."""
        return 2 * self.macs_per_s / 1e9

    @property
    def gmacs(self) -> float:
        return self.macs_per_s / 1e9

    def to_record(self) -> dict:
        """As JSON values, for the data directory (``from_record`` reads it back)."""
        return {
            "threads": self.threads,
            "macs_per_s": self.macs_per_s,
            "size": self.size,
            "timing": self.timing.to_record(),
            "library": self.library,
            "rates": [list(r) for r in self.rates],
        }

    @classmethod
    def from_record(cls, record: dict) -> GemmPeak:
        return cls(
            int(record["threads"]),
            float(record["macs_per_s"]),
            int(record["size"]),
            Timing.from_record(record["timing"]),
            str(record["library"]),
            tuple((str(library), float(rate)) for library, rate in record["rates"]),
        )

    def to_dict(self) -> dict:
        return {
            "gemm_gflops": self.gflops,
            "gemm_gmacs": self.gmacs,
            "gemm_size": self.size,
            "gemm_library": self.library,
            "gemm_median_ms": self.timing.median_ms,
            "gemm_noisy": self.timing.noisy,
            "gemm_contended": self.timing.contended,
            "gemm_gmacs_by_library": {library: rate / 1e9 for library, rate in self.rates},
            "gemm_convention": "best median of FP32 square matrix products (torch.mm, ONNX Runtime MatMul and "
            "OpenVINO MatMul, n = 1024, 1536, same threads), n^3 multiply-adds; "
            "GFLOPs = 2 x multiply-adds",
        }


_CACHE: dict[tuple[str, int], GemmPeak] = {}  # (machine fingerprint, threads) -> peak
_ATTEMPTS: dict[tuple[str, int], int] = {}
NOISY_RETRIES = 3  # a noisy peak is re-measured at most this many times per process
_CACHE_LOCK = threading.Lock()


def _ort_matmul(n: int, threads: int):
    """An ONNX Runtime session computing one n x n FP32 MatMul (MLAS, the library behind ``ort``)."""
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["a", "b"], ["c"])],
        "gemm",
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [n, n]) for name in ("a", "b")],
        [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    import onnxruntime as ort

    return ort.InferenceSession(model.SerializeToString(), session_options(threads), providers=["CPUExecutionProvider"])


def _candidates(a: torch.Tensor, b: torch.Tensor, threads: int) -> list[tuple[str, object]]:
    """One run per library for ``a @ b``; a library that fails here is logged and left out."""
    n = a.shape[0]
    candidates: list[tuple[str, object]] = [("torch.mm", lambda: torch.mm(a, b))]
    try:
        session = _ort_matmul(n, threads)
        feed = {"a": a.numpy(), "b": b.numpy()}
        session.run(None, feed)
        candidates.append(("ONNX Runtime MatMul", lambda: session.run(None, feed)))
    except Exception:
        log.exception("ONNX Runtime MatMul failed: the GEMM peak is measured without it")
    try:
        from .openvino import matmul

        run = matmul(a.numpy(), b.numpy(), threads)
        run()
        candidates.append(("OpenVINO MatMul", run))
    except Exception:
        log.exception("OpenVINO MatMul failed: the GEMM peak is measured without it")
    return candidates


def measure_gemm(threads: int, sizes: tuple[int, ...] = GEMM_SIZES, min_time: float = GEMM_MIN_TIME) -> GemmPeak:
    """Time FP32 square GEMMs with torch.mm, ORT MatMul and OpenVINO MatMul at each size; keep the best.

    All three, because the ``ort`` backend's convolutions run on MLAS and the ``openvino``
    ones on OpenVINO's own kernels, either of which beats ``torch.mm`` on some CPUs: a
    roofline below what a model reaches would be no roof. If a runtime fails here (logged),
    the peak is the others'. The caller holds the measurement lock.
    """
    best: GemmPeak | None = None
    rates: dict[str, float] = {}
    generator = torch.Generator().manual_seed(0)
    with torch_threads(threads), torch.inference_mode():
        for n in sizes:
            a = torch.randn(n, n, generator=generator)
            b = torch.randn(n, n, generator=generator)
            for library, fn in _candidates(a, b, threads):
                timing = time_function(fn, min_time=min_time, warmup=0.05, min_samples=GEMM_SAMPLES, threads=threads)
                rate = n**3 / (timing.median_ms / 1e3)
                rates[library] = max(rate, rates.get(library, 0.0))
                if best is None or rate > best.macs_per_s:
                    best = GemmPeak(threads, rate, n, timing, library)
    assert best is not None
    return replace(best, rates=tuple(rates.items()))


def stored_peak(threads: int) -> GemmPeak | None:
    """The peak stored in the data directory for this machine and ``threads``, or None."""
    try:
        record = peak_record(fingerprint(), threads)
        return None if record is None else GemmPeak.from_record(record)
    except Exception:  # noqa: BLE001 - an unreadable stored peak is measured again
        log.exception("stored GEMM peak unreadable: measuring it again")
        return None


def store_peak(peak: GemmPeak) -> None:
    try:
        put_peak_record(fingerprint(), peak.threads, peak.to_record())
    except Exception:  # noqa: BLE001 - the peak is still cached in this process
        log.exception("GEMM peak not stored in the data directory")


def gemm_peak(threads: int, refresh: bool = False) -> GemmPeak:
    """The GEMM peak of this machine for ``threads``: cached, else stored, else measured (caller holds the lock)."""
    key = (fingerprint(), threads)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is None and not refresh:
        cached = stored_peak(threads)
        if cached is not None:
            with _CACHE_LOCK:
                _CACHE[key] = cached
    doubtful = cached is not None and (cached.timing.noisy or cached.timing.contended)
    retry_noisy = doubtful and _ATTEMPTS.get(key, 0) < NOISY_RETRIES
    if cached is not None and not refresh and not retry_noisy:
        return cached
    _ATTEMPTS[key] = _ATTEMPTS.get(key, 0) + 1
    peak = measure_gemm(threads)
    if cached is not None and cached.macs_per_s > peak.macs_per_s:
        peak = cached  # a peak is the best the machine has shown; a busier moment does not lower it
    with _CACHE_LOCK:
        _CACHE[key] = peak
    store_peak(peak)
    return peak


def cached_gemm_peak(threads: int) -> GemmPeak | None:
    """The peak for ``threads`` if this process or the data directory has one (never measures)."""
    key = (fingerprint(), threads)
    with _CACHE_LOCK:
        cached = _CACHE.get(key)
    if cached is None and (cached := stored_peak(threads)) is not None:
        with _CACHE_LOCK:
            _CACHE.setdefault(key, cached)
    return cached


def machine_dict(threads: int, peak: GemmPeak | None) -> dict:
    """Where a measurement was made: CPU, cores, threads, library versions and the GEMM peak."""
    return {
        "cpu": cpu_model(),
        "cores": available_cores(),
        "threads": threads,
        **versions(),
        **(peak.to_dict() if peak else {"gemm_gflops": None}),
    }


def floor_ms(macs: float, peak_macs_per_s: float) -> float:
    return macs / peak_macs_per_s * 1e3
