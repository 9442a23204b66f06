"""A TLS reverse proxy in front of the real API server that injects faults.

The suite is pointed at it through a kubeconfig (bearer token, the proxy's own CA), so it
sees a real API server that answers slowly, with 429/5xx, or stops mid-run. Faults are
rules matched on the request path, applied in order; everything else is forwarded.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = ipaddress.ip_address("127.0.0.1")


@dataclass
class Fault:
    """Answer ``status`` (or stall ``delay`` seconds) for requests whose path contains
    ``path``, ``times`` times (None = always)."""

    path: str
    status: int = 0
    delay: float = 0.0
    times: int | None = None
    retry_after: str = ""
    hits: int = 0

    def applies(self, path: str) -> bool:
        return self.path in path and (self.times is None or self.hits < self.times)


@dataclass
class ProxyState:
    upstream: str
    upstream_ca: str
    faults: list[Fault] = field(default_factory=list)
    stop_after: int | None = None  # requests forwarded before the "API server" stops
    seen: Counter[str] = field(default_factory=Counter)
    forwarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def self_signed(directory: Path) -> tuple[Path, Path, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubepci-fault-proxy")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]
            ),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    cert_path, key_path = directory / "proxy.crt", directory / "proxy.key"
    cert_path.write_bytes(pem)
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, pem


def _handler(state: ProxyState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # quiet
            return

        def _relay(self) -> None:
            path = self.path
            with state.lock:
                # Unauthenticated probes pass through too; count them apart.
                who = "" if self.headers.get("Authorization") else "anonymous "
                state.seen[f"{who}{self.command} {path.split('?')[0]}"] += 1
                fault = next((f for f in state.faults if f.applies(path)), None)
                if fault:
                    fault.hits += 1
                stopped = state.stop_after is not None and state.forwarded >= state.stop_after
            if stopped:
                # The API server is gone: drop the connection without an answer.
                self.close_connection = True
                self.connection.close()
                return
            if fault and fault.delay:
                time.sleep(fault.delay)
            if fault and fault.status:
                body = b'{"kind":"Status","message":"injected by the fault proxy"}'
                self.send_response(fault.status)
                if fault.retry_after:
                    self.send_header("Retry-After", fault.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() in ("authorization", "accept", "content-type", "user-agent")
            }
            upstream = requests.request(
                self.command,
                state.upstream + path,
                headers=headers,
                data=body,
                verify=state.upstream_ca,
                timeout=60,
                # A redirect is the API server's answer to relay (the service proxy passes
                # a backend's 302 on); following it would leave this machine.
                allow_redirects=False,
            )
            with state.lock:
                state.forwarded += 1
            self.send_response(upstream.status_code)
            self.send_header(
                "Content-Type", upstream.headers.get("Content-Type", "application/json")
            )
            for name in ("Location", "WWW-Authenticate"):
                if name in upstream.headers:
                    self.send_header(name, upstream.headers[name])
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            self.wfile.write(upstream.content)

        do_GET = _relay
        do_POST = _relay

    return Handler


class FaultProxy:
    def __init__(self, upstream: str, upstream_ca: str, workdir: Path) -> None:
        self.state = ProxyState(upstream.rstrip("/"), upstream_ca)
        cert, key, self.ca_pem = self_signed(workdir)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.state))
        self.server.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
