"""nginx in front of replicas (tests/servers/nginx.py, deploy/nginx.conf.template): a cookie nginx sets
pins each client to the replica that answered, websockets are passed through, X-Replica names the
replica. First behind two tiny HTTP servers, then (load tier) behind two `streamlit run` replicas."""

from __future__ import annotations

import contextlib
import http.server
import re
import socket
import threading
import urllib.request

import pytest

from tests.servers.nginx import COOKIE, REPLICA_HEADER, NginxUnavailable, nginx_binary, nginx_proxy, start_replicas


@pytest.fixture(scope="module")
def nginx_available():
    try:
        nginx_binary()
    except NginxUnavailable as error:
        pytest.skip(str(error))


class Replica(http.server.BaseHTTPRequestHandler):
    """Answers GET with the address it serves on; an Upgrade request with 101, then echoes one line."""

    protocol_version = "HTTP/1.1"  # nginx passes a 101 on only from an HTTP/1.1 upstream

    def do_GET(self):
        name = f"127.0.0.1:{self.server.server_address[1]}"
        if self.headers.get("Upgrade", "").lower() == "websocket":
            assert self.headers.get("Connection", "").lower() == "upgrade"
            self.send_response(101)
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.end_headers()
            self.wfile.flush()
            line = self.rfile.readline()  # the tunnel: bytes after the 101 reach us and our answer goes back
            self.wfile.write(b"echo from " + name.encode() + b": " + line)
            self.wfile.flush()
            self.close_connection = True
            return
        body = name.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def proxy(nginx_available):
    servers = [http.server.ThreadingHTTPServer(("127.0.0.1", 0), Replica) for _ in range(2)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        with nginx_proxy([f"127.0.0.1:{s.server_address[1]}" for s in servers]) as running:
            yield running
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


def get(url: str, cookie: str | None = None) -> tuple[str, str, str | None]:
    """(body, X-Replica, Set-Cookie) of one GET, with ``cookie`` as the routing cookie's value."""
    body, headers = get_with_headers(url, cookie)
    return body, headers[REPLICA_HEADER], headers["Set-Cookie"]


def get_with_headers(url: str, cookie: str | None = None):
    request = urllib.request.Request(url, headers={"Cookie": f"{COOKIE}={cookie}"} if cookie else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode(), response.headers


def test_a_new_client_lands_somewhere_and_gets_the_cookie(proxy):
    body, replica, set_cookie = get(proxy.url)
    assert replica in proxy.upstreams and body == replica
    assert set_cookie.startswith(f"{COOKIE}={replica};") and "HttpOnly" in set_cookie


def test_new_clients_are_spread(proxy):
    assert {get(proxy.url)[1] for _ in range(4)} == set(proxy.upstreams)  # round robin over both


def test_the_cookie_pins_a_client(proxy):
    _, first, set_cookie = get(proxy.url)
    cookie = set_cookie.split(";")[0].split("=", 1)[1]
    landed = [get(proxy.url, cookie) for _ in range(10)]
    assert {replica for _, replica, _ in landed} == {first}
    assert {body for body, _, _ in landed} == {first}
    assert all(again is None for _, _, again in landed)  # nginx sets it only when it changes


def test_two_cookies_two_replicas(proxy):
    for upstream in proxy.upstreams:
        assert {get(proxy.url, upstream)[1] for _ in range(3)} == {upstream}


def test_a_cookie_naming_no_replica_is_balanced_and_replaced(proxy):
    body, replica, set_cookie = get(proxy.url, "203.0.113.9:80")  # never proxied to an address a client names
    assert replica in proxy.upstreams and body == replica
    assert set_cookie.startswith(f"{COOKIE}={replica};")


def test_a_websocket_upgrade_is_passed_through(proxy):
    pinned = proxy.upstreams[1]
    with contextlib.closing(socket.create_connection(("127.0.0.1", proxy.port), timeout=10)) as sock:
        sock.sendall(
            (
                f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{proxy.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nCookie: {COOKIE}={pinned}\r\n\r\n"
            ).encode()
        )
        reader = sock.makefile("rb")
        status = reader.readline()
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            key, _, value = line.decode().partition(":")
            headers[key.strip().lower()] = value.strip()
        assert status.startswith(b"HTTP/1.1 101"), status
        assert headers["upgrade"].lower() == "websocket" and headers["x-replica"] == pinned
        sock.sendall(b"ping\n")
        assert reader.readline() == f"echo from {pinned}: ping\n".encode()


def test_a_replica_down_sends_its_clients_elsewhere(nginx_available):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Replica)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    alive = f"127.0.0.1:{server.server_address[1]}"
    with contextlib.closing(socket.socket()) as closed:
        closed.bind(("127.0.0.1", 0))
        dead = f"127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening: connection refused
        try:
            with nginx_proxy([dead, alive]) as running:
                body, replica, set_cookie = get(running.url, dead)
        finally:
            server.shutdown()
            server.server_close()
    assert body == replica == alive
    assert set_cookie.startswith(f"{COOKIE}={alive};")


def test_static_files_are_cached_once_for_every_replica(proxy):
    """/static/ is served from nginx's cache after its first fetch, whichever replica a client is pinned to;
    the app's pages are never cached."""
    first, headers = get_with_headers(proxy.url + "/static/js/index.test.js")
    assert headers["X-Cache-Status"] == "MISS"
    for pinned in proxy.upstreams:
        again, headers = get_with_headers(proxy.url + "/static/js/index.test.js", pinned)
        assert again == first and headers["X-Cache-Status"] == "HIT"
    served = {get(proxy.url + "/", pinned)[0] for pinned in proxy.upstreams}
    assert served == set(proxy.upstreams)  # each page answered by its own replica, not a cached copy


def test_listens_on_loopback_only(proxy):
    assert f"listen 127.0.0.1:{proxy.port};" in proxy.config
    assert [line for line in proxy.config.splitlines() if line.strip().startswith("listen ")] == [
        f"        listen 127.0.0.1:{proxy.port};"
    ]


@pytest.mark.load
def test_two_streamlit_replicas_behind_nginx(nginx_available, tmp_path):
    """Two `streamlit run` servers: each cookie jar reaches its own replica, health and websocket pass."""
    with start_replicas(2, {"EXPLORER_WARMUP": "0"}, log_dir=tmp_path) as (running, replicas):
        pinned = [url.removeprefix("http://") for url in replicas]
        seen = []
        for replica in pinned:
            body, landed, _ = get(running.url + "/", replica)
            assert "<html" in body.lower()
            seen.append(landed)
            request = urllib.request.Request(running.url + "/_stcore/health", headers={"Cookie": f"{COOKIE}={replica}"})
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200 and response.headers[REPLICA_HEADER] == replica
        assert seen == pinned and seen[0] != seen[1]
        # Streamlit's own websocket answers the upgrade through the proxy (Origin checked against Host).
        with contextlib.closing(socket.create_connection(("127.0.0.1", running.port), timeout=30)) as sock:
            sock.sendall(
                (
                    f"GET /_stcore/stream HTTP/1.1\r\nHost: 127.0.0.1:{running.port}\r\n"
                    f"Origin: {running.url}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    f"Sec-WebSocket-Protocol: streamlit\r\nCookie: {COOKIE}={pinned[1]}\r\n\r\n"
                ).encode()
            )
            response = sock.makefile("rb")
            status = response.readline()
            assert status.startswith(b"HTTP/1.1 101"), status + response.read(500)
        # Streamlit's frontend files come from nginx's cache after the first browser fetched them.
        page, _, _ = get(running.url + "/", pinned[0])
        script = re.search(r'src="\.?(/static/[^"]+\.js)"', page).group(1)
        statuses = [get_with_headers(running.url + script, replica)[1]["X-Cache-Status"] for replica in pinned]
        assert statuses == ["MISS", "HIT"]


@pytest.mark.load
@pytest.mark.browser
def test_browsers_behind_nginx_get_a_replica_each_and_keep_it(nginx_available, browser, tmp_path):
    """Chromium through nginx: new browsers are spread over both replicas, each gets the cookie naming
    its replica, and the page works over the proxied websocket (a sidebar change redraws it)."""
    busy = '[data-testid="stStatusWidget"], [data-testid="stSkeleton"], [data-stale="true"]'
    with start_replicas(2, {"EXPLORER_WARMUP": "0"}, log_dir=tmp_path) as (running, replicas):
        landed, both = [], {r.removeprefix("http://") for r in replicas}
        for _ in range(4):  # round robin: the second new browser lands on the other replica; a spare or two
            if set(landed) == both:
                break
            context = browser.new_context(viewport={"width": 1280, "height": 720})
            context.set_default_timeout(120_000)
            try:
                page = context.new_page()
                response = page.goto(running.url + "/Architecture")
                page.locator("h1").first.wait_for()
                cookie = [c["value"] for c in context.cookies() if c["name"] == COOKIE]
                assert cookie == [response.headers["x-replica"]]
                landed.append(cookie[0])
                radio = page.locator('[data-testid="stSidebar"] [data-testid="stRadio"]').nth(0)
                radio.get_by_text("g = 8", exact=True).click()
                page.wait_for_function("() => location.search.includes('groups=8')")
                page.wait_for_function(f"() => !document.querySelector({busy!r})")
                assert page.locator('[data-testid="stException"]').count() == 0
            finally:
                context.close()
        assert set(landed) == both
