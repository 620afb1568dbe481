"""PyTorch's thread count, and who has priority, among the sessions that share one process.

In the app several sessions share one process. ``torch.set_num_threads`` sets the count
of the *calling* thread (OpenMP's per-thread ICV and MKL's thread-local count, checked
with torch 2.13's OpenMP build) and the default a thread takes when it first runs an
operator; Streamlit runs every script run in a fresh thread, which therefore starts
with whatever count was set last, anywhere in the process. The rules:

* A latency measurement holds ``MEASUREMENT_LOCK`` while it sets its own thread count
  (``torch_threads``) and times, so measurements never overlap.
* Untimed work (counting: a batch-1 forward pass and an fvcore trace; building a model;
  measuring channel mixing) always sets one thread for itself (``counting_threads``),
  also while a measurement runs: the measuring thread keeps its own count. One thread is
  the point: on a busy 2-core machine two OpenMP threads that meet at every operator slow
  to a crawl (0.3-0.5 s against 2-5 s to count a 1x model while another process runs;
  ``benchmarks/sizing.py``). (Before, counting left the count alone while a measurement
  ran, so a page's fresh thread counted with the measurement's thread count.)
* **Foreground work has priority; timing yields.** Work a user is waiting for is
  foreground work while it is in flight (``FOREGROUND``): every ``counting_threads``
  block (through ``foreground_work``), every Streamlit script run (a page or a fragment:
  each runs in a thread of its own named ``STREAMLIT_SCRIPT_THREAD``), and threads marked
  with ``mark_foreground_thread`` (``ui.shell.page.page_setup`` marks each page run, so that
  its start also counts as a new piece of work, ``ForegroundState.generation``). The timing
  harness (``explorer.latency.timing.time_function``) reads ``foreground_state()`` around every
  timed block: it waits while another thread's foreground work is in flight, drops
  blocks that overlapped some, and flags the result when it cannot get enough clean
  ones. This is needed because the harness's check against other *processes*
  (``/proc/stat`` against this process's own CPU time) cannot see other sessions of the
  same process.

A thread blocked on ``MEASUREMENT_LOCK`` (a user's measurement queued behind a Table 8
job) is waiting, not working, so it does not hold the running measurement back. The lock
also holds a file lock (``fcntl.flock``) in the data directory, so replicas on one host
(sharing ``EXPLORER_DATA_DIR``) never time on top of each other.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import torch

from .checks import check_int

log = logging.getLogger(__name__)

COUNTING_THREADS = 1
FILE_LOCK_POLL_S = 0.02  # how often a process queued behind another's measurement tries the lock file


# --------------------------------------------------------------------------- foreground work


@dataclass(frozen=True)
class ForegroundState:
    """A snapshot: ``generation`` counts every start of foreground work; ``busy``: some in flight."""

    generation: int
    busy: bool

    def quiet_until(self, later: ForegroundState) -> bool:
        """No foreground work was in flight at this snapshot, and none started before ``later``."""
        return not self.busy and later.generation == self.generation


class ForegroundRecord:
    """Thread-safe record of untimed work in flight, by thread (so a thread can exclude its own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._generation = 0
        self._blocks: dict[int, int] = {}  # thread ident -> nesting depth of foreground_work()
        self._runs: dict[int, threading.Thread] = {}  # threads marked for the rest of their life
        self._waiting: dict[int, int] = {}  # thread ident -> depth of blocking on MEASUREMENT_LOCK

    def work(self) -> contextlib.AbstractContextManager[None]:
        """Record the block as foreground work of the calling thread."""
        return self._nested(self._blocks, starts_work=True)

    def mark_thread(self) -> None:
        """Record the calling thread as foreground work until it ends."""
        thread = threading.current_thread()
        with self._lock:
            self._prune()
            self._runs[thread.ident] = thread  # type: ignore[index]
            self._generation += 1

    def waiting(self) -> contextlib.AbstractContextManager[None]:
        """The calling thread is blocked (not working) for the block."""
        return self._nested(self._waiting, starts_work=False)

    @contextlib.contextmanager
    def _nested(self, depths: dict[int, int], starts_work: bool) -> Iterator[None]:
        """Count the calling thread in ``depths`` for the block (blocks may nest)."""
        ident = threading.get_ident()
        with self._lock:
            depths[ident] = depths.get(ident, 0) + 1
            if starts_work:
                self._generation += 1
        try:
            yield
        finally:
            with self._lock:
                depth = depths.pop(ident) - 1
                if depth:
                    depths[ident] = depth

    def state(self, exclude: int | None = None) -> ForegroundState:
        """Foreground work of threads other than ``exclude`` (a thread ident)."""
        with self._lock:
            self._prune()
            working = set(self._blocks) | set(self._runs) | script_threads()
            return ForegroundState(self._generation, bool(working - set(self._waiting) - {exclude}))

    def tracked_threads(self) -> int:
        """How many threads the record holds (bounded by the live ones)."""
        with self._lock:
            self._prune()
            return len(set(self._blocks) | set(self._runs) | set(self._waiting))

    def _prune(self) -> None:
        for ident in [i for i, thread in self._runs.items() if not thread.is_alive()]:
            del self._runs[ident]


FOREGROUND = ForegroundRecord()
# Streamlit (1.67) runs every script run, a page or a fragment, in a fresh thread of this
# name that ends with the run; tests/library/latency/test_sessions.py checks the name on a real AppTest run.
STREAMLIT_SCRIPT_THREAD = "ScriptRunner.scriptThread"


def script_threads() -> set[int]:
    """Idents of the Streamlit script runs in flight (no Streamlit import: by thread name)."""
    return {t.ident for t in threading.enumerate() if t.name == STREAMLIT_SCRIPT_THREAD and t.ident is not None}


def foreground_work() -> contextlib.AbstractContextManager[None]:
    """Mark a block as work a user is waiting for: latency timing in other threads yields to it."""
    return FOREGROUND.work()


def mark_foreground_thread() -> None:
    """Mark the calling thread (one Streamlit script run) as foreground work until it ends."""
    FOREGROUND.mark_thread()


def foreground_state(exclude_current: bool = True) -> ForegroundState:
    """Foreground work in flight in this process, by default not counting the calling thread's."""
    return FOREGROUND.state(threading.get_ident() if exclude_current else None)


# --------------------------------------------------------------------------- the measurement lock


class MeasurementLock:
    """A re-entrant lock whose blocked callers are recorded as waiting, not working; across processes on one host
    too: the outermost holder also holds ``fcntl.flock`` on ``lock_file()`` (set by ``explorer.latency.timing`` to
    the data directory's ``measurement.lock``), so replicas sharing a data directory never time at once. The
    kernel drops the file lock when a process dies; a lock file that cannot be opened leaves the lock in-process."""

    def __init__(self, lock_file: Callable[[], Path | None] | None = None) -> None:
        self._lock = threading.RLock()
        self._depth = 0  # nesting of the thread that holds _lock
        self._file: IO | None = None  # the open lock file while held
        self.lock_file = lock_file

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        deadline = None if timeout < 0 else time.monotonic() + timeout
        if not blocking:
            got = self._lock.acquire(False)
        else:
            with FOREGROUND.waiting():
                got = self._lock.acquire(True, timeout)
        if not got:
            return False
        if self._depth == 0 and not self._take_file(blocking, deadline):
            self._lock.release()
            return False
        self._depth += 1
        return True

    def _take_file(self, blocking: bool, deadline: float | None) -> bool:
        path = self.lock_file() if self.lock_file is not None else None
        if path is None:
            return True
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(path, "a+")  # noqa: SIM115 - held open until release
        except OSError as error:
            log.warning(
                "measurement lock file %s cannot be opened (%s): locking within this process only",
                path,
                error.strerror or error,
            )
            return True
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._file = handle
                return True
            except BlockingIOError:  # another process is timing
                if not blocking or (deadline is not None and time.monotonic() >= deadline):
                    handle.close()
                    return False
                with FOREGROUND.waiting():
                    time.sleep(FILE_LOCK_POLL_S)

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        self._lock.release()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


MEASUREMENT_LOCK = MeasurementLock()


# --------------------------------------------------------------------------- thread counts


@contextlib.contextmanager
def torch_threads(threads: int) -> Iterator[None]:
    """Run a block with ``torch.set_num_threads(threads)``; restore the previous count after."""
    threads = check_int("threads", threads, 1)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def counting_threads() -> Iterator[None]:
    """Foreground work with one intra-op thread (this thread's count only: a measurement keeps its own)."""
    with foreground_work(), torch_threads(COUNTING_THREADS):
        yield


def measurement_running() -> bool:
    """True while another thread, or another process sharing the lock file, holds the measurement lock."""
    if MEASUREMENT_LOCK.acquire(blocking=False):
        MEASUREMENT_LOCK.release()
        return False
    return True
