"""The unauthenticated probes send no credentials: not an Authorization header, not a
cookie, and not what ~/.netrc or proxy settings would add. Proven against a real HTTP
server on loopback that records what it receives."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from kubepci.access.probes import AnonymousProber

CREDENTIAL_HEADERS = {"authorization", "proxy-authorization", "cookie"}


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="x"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


def test_probe_carries_no_credentials(
    recorder: tuple[str, list[dict[str, str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, received = recorder
    # A ~/.netrc entry for the probed host: requests would add Basic auth from it if the
    # session trusted the environment.
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login admin password hunter2\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("NETRC", str(netrc))
    monkeypatch.setenv("HTTP_PROXY", "http://user:pass@127.0.0.1:9")
    result = AnonymousProber(timeout=2).get(url + "/pods")
    assert result.status == 401
    assert result.credentials == "none"
    assert len(received) == 1
    assert CREDENTIAL_HEADERS.isdisjoint(received[0]), received[0]


def test_transcript_keeps_the_challenge(recorder: tuple[str, list[dict[str, str]]]) -> None:
    url, _ = recorder
    result = AnonymousProber(timeout=2).get(url + "/metrics")
    assert dict(result.headers)["www-authenticate"] == 'Basic realm="x"'
