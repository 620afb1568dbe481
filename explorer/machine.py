"""The machine identity: CPU model, cores, library versions and their fingerprint.

Shared below every subpackage so that the store can key rows by machine without importing
``latency`` (thread-count checks stay in ``explorer.latency.threads``).
"""

from __future__ import annotations

import functools
import os
import platform

import torch


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


def openvino_version() -> str:
    import openvino as ov

    return ov.__version__.split("-")[0]


def versions() -> dict[str, str]:
    import onnxruntime

    return {
        "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__,
        "openvino": openvino_version(),
        "python": platform.python_version(),
    }


@functools.lru_cache(maxsize=1)
def fingerprint() -> str:
    """This machine and its runtimes in one string: CPU model, cores, library versions (thread count apart).

    A GEMM peak or a latency measured under another fingerprint is another machine's number.
    """
    return " | ".join(
        [
            cpu_model(),
            f"{available_cores()} cores",
            *(f"{name} {version}" for name, version in sorted(versions().items())),
        ]
    )
