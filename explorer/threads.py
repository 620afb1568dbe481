"""PyTorch's thread count, shared by counting, mixing and latency measurement in one process.

``torch.set_num_threads`` is process-wide, and in the app several sessions share one
process. Two rules keep them from disturbing each other:

* A latency measurement holds ``MEASUREMENT_LOCK`` while it sets its thread count
  (``torch_threads``) and times.
* Untimed work (counting: a batch-1 forward pass and an fvcore trace; measuring channel
  mixing) runs with one thread, but only while it can take that lock without waiting
  (``counting_threads``), so it never changes the thread count under a running
  measurement. One thread is the point: on a busy 2-core machine two OpenMP threads
  that meet at every operator slow to a crawl (0.3-0.5 s against 2-5 s to count a 1x
  model while another process runs; ``benchmarks/sizing.py``).

The lock is re-entrant, so a measurement that counts its own model (in its own thread)
still gets the one-thread count.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

import torch

MEASUREMENT_LOCK = threading.RLock()
COUNTING_THREADS = 1


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(threads)``; restore the previous count after."""
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ValueError(f"threads={threads!r} is not allowed: give a positive integer")
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def counting_threads() -> Iterator[None]:
    """One intra-op thread for the block, unless another thread's measurement holds the lock."""
    if not MEASUREMENT_LOCK.acquire(blocking=False):
        yield
        return
    try:
        with torch_threads(COUNTING_THREADS):
            yield
    finally:
        MEASUREMENT_LOCK.release()


def measurement_running() -> bool:
    """True while another thread holds the measurement lock."""
    if MEASUREMENT_LOCK.acquire(blocking=False):
        MEASUREMENT_LOCK.release()
        return False
    return True
