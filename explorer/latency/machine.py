"""The machine a latency is measured on: CPU, cores, thread counts, library versions."""

from __future__ import annotations

import os
import platform

import torch

from ..checks import check_int
from .roofline import GemmPeak

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

    return {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "python": platform.python_version()}


def machine_dict(threads: int, peak: GemmPeak | None) -> dict:
    """Where a measurement was made: CPU, cores, threads, library versions and the GEMM peak."""
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
