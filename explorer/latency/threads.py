"""Thread and batch limits of a measurement on this machine: how many threads by default, which are allowed."""

from __future__ import annotations

from ..checks import check_int
from ..machine import available_cores

MAX_BATCH = 1024
MAX_THREADS = 256


def default_threads() -> int:
    """All cores this process may use."""
    return available_cores()


def check_threads(threads: int) -> int:
    return check_int(
        "threads",
        threads,
        1,
        MAX_THREADS,
        f"an integer from 1 to {MAX_THREADS} (this machine has {available_cores()} cores)",
    )


def check_batch(batch: int) -> int:
    return check_int("batch", batch, 1, MAX_BATCH)
