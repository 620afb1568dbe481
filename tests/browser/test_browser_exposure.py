"""Exposure in a real browser against real ``streamlit run`` servers started with our config.toml.

* A throwaway page that logs a handled fault the way ``explorer`` does, then raises: the
  browser gets only Streamlit's generic message (no message, type, traceback or file path
  on screen, and none of the error in any websocket frame), while the server's stderr has
  both tracebacks.
* The real app started with no address flag listens on 127.0.0.1 only: not on the
  wildcard address, not on IPv6, and a connection to any other address of this machine is
  refused.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ENTRY, ROOT, free_port, stop_server, wait_healthy

pytestmark = pytest.mark.browser

SECRET = "SECRET-4711-do-not-show"
HANDLED = "HANDLED-0815-fault"  # a fault our code catches and logs (as explorer.latency does for a backend)
GENERIC = "This app has encountered an error"
PROBE = f'''
import logging

import streamlit as st

st.title("Exposure probe")
try:
    raise ValueError("{HANDLED}")
except ValueError:
    logging.getLogger("explorer.latency").exception("a backend failed")


def leak_something():
    raise RuntimeError("{SECRET} in " + __file__)


leak_something()
'''


@contextlib.contextmanager
def streamlit_run(script: str, cwd: Path, logs: Path) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """``streamlit run script`` in ``cwd`` with only a port and headless mode given: everything else comes
    from ``cwd/.streamlit/config.toml``. Yields (url, process, stderr file)."""
    port = free_port()
    stdout, stderr = logs / f"{port}.out", logs / f"{port}.err"
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(command, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_healthy(url, process, timeout=90)
            yield url, process, stderr
        finally:
            stop_server(process)


def wait_for_text(path: Path, text: str, timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text(encoding="utf-8", errors="replace")
        if text in content:
            return content
        time.sleep(0.2)
    return path.read_text(encoding="utf-8", errors="replace")


def test_an_error_shows_no_details_in_the_browser_and_its_traceback_in_the_server_log(tab, tmp_path):
    app = tmp_path / "app"
    (app / ".streamlit").mkdir(parents=True)
    shutil.copy(ROOT / ".streamlit" / "config.toml", app / ".streamlit" / "config.toml")
    (app / "probe.py").write_text(PROBE, encoding="utf-8")
    frames: list[bytes] = []

    def record(websocket) -> None:
        websocket.on(
            "framereceived", lambda payload: frames.append(payload if isinstance(payload, bytes) else payload.encode())
        )

    tab.on("websocket", record)
    with streamlit_run("probe.py", app, tmp_path) as (url, _, stderr):
        tab.goto(url)
        tab.get_by_text(GENERIC).first.wait_for(timeout=120_000)
        shown = tab.locator("body").inner_text()
        html = tab.content()
        log = wait_for_text(stderr, SECRET)
    assert "Exposure probe" in shown  # the page ran up to the error
    for leak in (SECRET, HANDLED, "RuntimeError", "Traceback", "leak_something", "probe.py", str(tmp_path)):
        assert leak not in shown and leak not in html, leak
    # Streamlit itself sends every browser the script's absolute path when a session starts
    # (README, "Serving a class"); what must not travel is anything of the error.
    for leak in (SECRET, "RuntimeError", "Traceback", "leak_something", 'probe.py", line'):
        assert not any(leak.encode() in frame for frame in frames), f"{leak} was sent to the browser"
    assert frames  # the websocket was seen, so the check above looked at real traffic
    assert "Traceback (most recent call last)" in log and SECRET in log
    assert "leak_something" in log and str(app / "probe.py") in log
    # what our code logs (Python's logging, no handler configured: its last-resort stderr handler)
    assert "a backend failed" in log and f"ValueError: {HANDLED}" in log


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket in LISTEN state on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as handle:
            for line in list(handle)[1:]:
                fields = line.split()
                address, port_hex = fields[1].split(":")
                if fields[3] == "0A" and int(port_hex, 16) == port:  # 0A: LISTEN
                    if len(address) == 8:
                        found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
                    else:
                        words = bytes.fromhex(address)
                        raw = b"".join(words[i : i + 4][::-1] for i in range(0, 16, 4))
                        found.add(socket.inet_ntop(socket.AF_INET6, raw))
    return found


def other_addresses() -> set[str]:
    """This machine's IPv4 addresses other than loopback (hostname lookup and the default route's)."""
    found = set()
    with contextlib.suppress(OSError):
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    with contextlib.suppress(OSError), contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as probe:
        probe.connect(("10.255.255.255", 1))  # UDP: picks the outgoing interface, sends nothing
        found.add(probe.getsockname()[0])
    return {a for a in found if not a.startswith("127.") and a != "0.0.0.0"}


def test_the_app_listens_on_loopback_only_by_default(tmp_path):
    with streamlit_run(ENTRY, ROOT, tmp_path) as (url, _, _):
        port = int(url.rsplit(":", 1)[1])
        assert listening_addresses(port) == {"127.0.0.1"}
        refused = []
        for address in sorted(other_addresses()):
            with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as client:
                client.settimeout(5)
                try:
                    client.connect((address, port))
                except (ConnectionRefusedError, TimeoutError, OSError):
                    refused.append(address)
                else:
                    pytest.fail(f"the app answered on {address}:{port}")
        print(f"listening on {listening_addresses(port)}; refused on {refused or 'no other address here'}")
