"""A real ``streamlit run`` server on 127.0.0.1, and a Chromium page waiting for its script run to end.

The one copy of the server's command and its life cycle, shared by the tests (``tests/conftest.py``),
the replicas behind nginx (``tests/servers/nginx.py``), the benchmarks and ``scripts/screenshots.py``.
A server runs in its own process group (it is stopped with everything it started) with a data
directory the caller chooses; nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTRY = "streamlit_app.py"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--no-first-run",
]
RUN_TIMEOUT_S = 180  # a cold page builds and traces a model on a busy 2-core machine
QUIET_S = 1.0  # no "running" status for this long: the script run is over
STATUS = '[data-testid="stStatusWidget"]'
SKELETON = '[data-testid="stSkeleton"]'


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int, extra: Sequence[str] = ()) -> list[str]:
    """``streamlit run streamlit_app.py`` on 127.0.0.1:``port``, headless, no telemetry, no file watcher."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        ENTRY,
        "--server.headless",
        "true",
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        *extra,
    ]


def start_server(port: int, log_path: Path, env: Mapping[str, str], extra: Sequence[str] = ()) -> subprocess.Popen:
    """The server on ``port`` in a process group of its own, ``env`` laid over this process's, output to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:  # the child keeps its own copy
        return subprocess.Popen(
            server_command(port, extra),
            cwd=ROOT,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Until ``url``'s health check answers 200; raises if the server exits first or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit at {url} exited early with status {process.returncode}")
        with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            if response.status == 200:
                return
        time.sleep(0.3)
    raise TimeoutError(f"streamlit at {url} not healthy after {timeout:.0f}s")


def stop_server(process: subprocess.Popen, timeout: float = 15) -> None:
    """SIGTERM to the process group (open websockets don't hold it), then SIGKILL to whatever is left of it."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # a worker or child left behind
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)


def script_running(tab) -> bool:
    """Streamlit shows its 'running' status widget (or skeletons) while a script run is in progress."""
    return tab.locator(STATUS).count() > 0 or tab.locator(SKELETON).count() > 0


def wait_idle(tab, timeout_s: float = RUN_TIMEOUT_S) -> float:
    """Wait until the script run is over: a title is drawn and no 'running' status for 1 s.

    Returns the moment (``time.monotonic()``) the page went quiet: the end of the run.
    """
    tab.wait_for_selector("h1", timeout=timeout_s * 1000)
    deadline = time.monotonic() + timeout_s
    quiet_since = None
    while time.monotonic() < deadline:
        if script_running(tab):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > QUIET_S:
            return quiet_since
        time.sleep(0.2)
    raise TimeoutError(f"the app was still running after {timeout_s:.0f}s")
