"""The service-proxy prober on real sockets: a loopback HTTP server stands in for the API
server, so the bytes, timeouts and redirects are real (the address is 127.0.0.1 only).

What it must do: send once, with a short read timeout (a hanging backend costs one
timeout); never follow a redirect itself (a 3xx is the answer to record, and following it
could leave the cluster); read a bounded part of a body that never ends; keep the headers
the verdict needs; mark a sign-in form even past the excerpt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client as k8s

from kubepci.access.probes import BODY_EXCERPT, BODY_READ
from kubepci.access.service_proxy import ServiceProxyProber
from kubepci.analysis import service_answers

SEEN: list[tuple[str, str]] = []
DROPPED: list[str] = []


class FakeApiServer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        SEEN.append((self.path, self.headers.get("Authorization", "")))
        if self.path.endswith("/drop-once") and DROPPED.count(self.path) == 0:
            # As a server closing a kept-alive connection: no answer at all.
            DROPPED.append(self.path)
            self.close_connection = True
            self.connection.shutdown(2)
            return
        if self.path.endswith("/redirect"):
            self._send(302, b"", Location="https://sso.example.invalid/oauth2/authorize")
        elif self.path.endswith("/hang"):
            time.sleep(2.0)
            self._send(200, b"late")
        elif self.path.endswith("/stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            try:
                for _ in range(20000):
                    self.wfile.write(b"x" * 1024)
            except OSError:
                pass
        elif self.path.endswith("/login"):
            head = b"<html><head><style>" + b"a{}" * 8000 + b"</style></head>"
            form = b'<body><form><input type="password" name="p"></form></body></html>'
            self._send(200, head + form, Content_Type="text/html")
        else:
            self._send(401, b"no", WWW_Authenticate='Bearer realm="x"', X_Other="dropped")


@pytest.fixture(scope="module")
def prober() -> Iterator[ServiceProxyProber]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApiServer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    configuration = k8s.Configuration()
    configuration.host = f"http://127.0.0.1:{server.server_address[1]}"
    configuration.api_key = {"BearerToken": "suite-token"}
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    try:
        yield ServiceProxyProber(k8s.ApiClient(configuration), timeout=0.5)
    finally:
        server.shutdown()
        server.server_close()


PREFIX = "/api/v1/namespaces/m/services/ui:80/proxy"


def test_redirect_is_recorded_not_followed(prober: ServiceProxyProber) -> None:
    SEEN.clear()
    result = prober.get(PREFIX + "/redirect")
    assert result.status == 302
    assert dict(result.headers)["location"].startswith("https://sso.example.invalid/")
    assert len(SEEN) == 1


def test_hanging_backend_costs_one_short_timeout(prober: ServiceProxyProber) -> None:
    SEEN.clear()
    started = time.monotonic()
    result = prober.get(PREFIX + "/hang")
    assert result.status is None and result.error == "timed out"
    assert time.monotonic() - started < 1.5
    assert len(SEEN) == 1  # sent once: no retry


def test_endless_body_is_read_to_a_bound(prober: ServiceProxyProber) -> None:
    started = time.monotonic()
    result = prober.get(PREFIX + "/stream")
    assert result.status == 200
    assert time.monotonic() - started < 3
    assert len(result.body) <= BODY_EXCERPT + 1
    after = prober.get(PREFIX + "/")  # the pool is still usable
    assert after.status == 401


def test_sign_in_form_is_marked_past_the_excerpt(prober: ServiceProxyProber) -> None:
    result = prober.get(PREFIX + "/login")
    assert "password" not in result.body  # the excerpt ends inside <style>
    assert service_answers.PASSWORD_MARK in result.marks
    assert BODY_READ > 24000


def test_kept_headers_and_the_suite_authenticates_to_the_api_server(
    prober: ServiceProxyProber,
) -> None:
    SEEN.clear()
    result = prober.get(PREFIX + "/")
    headers = dict(result.headers)
    assert headers["www-authenticate"] == 'Bearer realm="x"'
    assert "x-other" not in headers
    # The API server strips this before proxying; the backend never sees it.
    assert SEEN == [(PREFIX + "/", "Bearer suite-token")]
    assert result.credentials == "stripped by the API server's service proxy"
    assert result.url == prober.host + PREFIX + "/"


def test_unreachable_api_server_is_an_error_answer() -> None:
    configuration = k8s.Configuration()
    configuration.host = "http://127.0.0.1:9"  # discard port: nothing listens
    result = ServiceProxyProber(k8s.ApiClient(configuration), timeout=0.5).get(PREFIX + "/")
    assert result.status is None and result.error


def test_connection_closed_without_an_answer_is_sent_again_once(
    prober: ServiceProxyProber,
) -> None:
    """Regression: a pooled connection the API server had closed failed the probe of a
    healthy backend ("RemoteDisconnected"), and the services check errored on it."""
    SEEN.clear()
    result = prober.get(PREFIX + "/drop-once")
    assert result.status == 401, result.error
    assert [p for p, _ in SEEN] == [PREFIX + "/drop-once"] * 2
