"""Warm the caches a class will ask for, once per server process, in a background thread.

A teacher clicks through the paper's models: g in {1, 2, 3, 4, 8} at widths 1x and 0.5x,
224x224. Counting one of them (``cached_counts``) takes a fraction of a second and measuring a
stage's channel mixing with and without the shuffle (``cached_stage_mixing``) about as
much again: enough to make a sidebar click feel slow in front of a class. The first page
run of the process starts one daemon thread that fills those caches, paper configs first
in the order a lecture meets them, and Stage2 (the Channel shuffle page's default stage).
Before those it reads the result store once (``result_store().all()``), so the stored
measurements are decoded here and not during the first Latency page after a restart.

Bounded: it only calls the app's own bounded caches (``tests/app/test_cache_bounds.py``) and
stays within them: 10 counted models (of 64), 20 mixing results (of 32); the models it builds
pass through ``cached_model`` (8 entries), so it never holds more than that either.
Polite: it works with one intra-op thread, and before each item waits while a page run
of any session is in flight (``explorer.concurrency.foreground_state``), so it never
slows the click it exists to speed up; it also leaves a config alone that a user has
made heavy (confirmation needed: never, at 224x224 for these).

``EXPLORER_WARMUP=0`` in the server's environment turns it off (the in-process AppTest
tests do, so that no background thread competes with them; their ``streamlit run``
servers keep it on).

Stops at interpreter exit: a daemon thread still inside torch while the interpreter tears
down aborts the process ("terminate called without an active exception", status 134). So
``start`` registers ``stop`` to run when the main thread has finished (``threading``'s own
exit hook, before ``atexit`` and before any module is torn down): it sets a flag the thread
checks between items and joins it, so at most the item in progress (about a second) is
finished first. A server stopped with Ctrl-C exits the same way.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from explorer import PAPER_GROUPS, ShuffleNetConfig
from explorer.concurrency import foreground_state

log = logging.getLogger("ui.shell.warmup")

WARM_WIDTHS = (1.0, 0.5)
WARM_STAGE = 2
POLL_S = 0.05
MAX_WAIT_S = 30.0  # per item: a server busy for longer than this gets warmed anyway, between runs
STOP_JOIN_S = 120.0  # at exit: the item in progress finishes first (a second or so; more on a loaded machine)
_lock = threading.Lock()
_thread: threading.Thread | None = None
_stop = threading.Event()


def warm_configs() -> list[ShuffleNetConfig]:
    """The paper's configs a class meets first: 1x before 0.5x, g = 3 (the default) first."""
    order = (3, *[g for g in PAPER_GROUPS if g != 3])
    return [ShuffleNetConfig(groups=g, width=w) for w in WARM_WIDTHS for g in order]


def _wait_for_quiet() -> None:
    deadline = time.monotonic() + MAX_WAIT_S
    while foreground_state().busy and time.monotonic() < deadline and not _stop.is_set():
        _stop.wait(POLL_S)


def _warm() -> None:
    from ui.latency.jobs import result_store
    from ui.mixing.measured import cached_stage_mixing
    from ui.shell.cache import cached_counts

    started = time.monotonic()
    try:
        result_store().all()
    except Exception:  # noqa: BLE001 - best effort: the page reads the store again and reports what is wrong
        log.exception("reading the result store ahead of the first page failed")
    for config in warm_configs():
        for job in (
            lambda config=config: cached_counts(config),
            lambda config=config: cached_stage_mixing(config, WARM_STAGE),
            lambda config=config: cached_stage_mixing(config.with_(shuffle=False), WARM_STAGE),
        ):
            _wait_for_quiet()
            if _stop.is_set():
                log.info("cache warm-up stopped: the process is exiting")
                return
            try:
                job()
            except Exception:  # noqa: BLE001 - warming is best effort; the page computes it again and reports
                log.exception("warming the caches for %s failed", config.label)
    log.info("caches warm for %d paper configs in %.1f s", len(warm_configs()), time.monotonic() - started)


def start() -> threading.Thread | None:
    """Start the warm-up thread, once per process (later calls return the same thread; None when turned off)."""
    global _thread
    with _lock:
        if _thread is None and os.environ.get("EXPLORER_WARMUP", "1") != "0":
            _stop.clear()
            _thread = threading.Thread(target=_warm, name="explorer-cache-warmup", daemon=True)
            _at_exit(stop)
            _thread.start()
        return _thread


def stop(timeout: float = STOP_JOIN_S) -> None:
    """Ask the warm-up thread to stop after the item in progress, and wait for it (at exit; safe to call twice)."""
    _stop.set()
    thread = _thread
    if thread is not None and thread.is_alive() and thread is not threading.current_thread():
        thread.join(timeout)


def _at_exit(function) -> None:
    """Run ``function`` when the main thread is done, before the interpreter tears anything down.

    ``threading._register_atexit`` runs while non-daemon threads are joined (``threading._shutdown``),
    earlier than ``atexit``; it is private, so ``atexit`` is the fallback.
    """
    try:
        threading._register_atexit(function)  # type: ignore[attr-defined]
    except (AttributeError, RuntimeError):  # no such hook here, or the interpreter is already shutting down
        atexit.register(function)
