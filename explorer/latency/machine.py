"""The machine a latency is measured on: CPU, cores, thread counts, library versions."""

from __future__ import annotations

import functools
import os
import platform

import torch

from ..checks import check_int

MAX_BATCH = 1024
MAX_THREADS = 256


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

    from .openvino import version as openvino_version

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "openvino": openvino_version(),
            "python": platform.python_version()}


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """This machine and its runtimes in one string: CPU model, cores, library versions (thread count apart).

    A GEMM peak or a latency measured under another fingerprint is another machine's number.
    """
    return " | ".join([cpu_model(), f"{available_cores()} cores",
                       *(f"{name} {version}" for name, version in sorted(versions().items()))])


def machine_dict(threads: int, peak) -> dict:
    """Where a measurement was made: CPU, cores, threads, library versions and the GEMM peak (a ``GemmPeak``)."""
    return {
        "cpu": cpu_model(),
        "cores": available_cores(),
        "threads": threads,
        **versions(),
        **(peak.to_dict() if peak else {"gemm_gflops": None}),
    }


def check_threads(threads: int) -> int:
    return check_int("threads", threads, 1, MAX_THREADS,
                     f"an integer from 1 to {MAX_THREADS} (this machine has {available_cores()} cores)")


def check_batch(batch: int) -> int:
    return check_int("batch", batch, 1, MAX_BATCH)
