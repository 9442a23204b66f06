"""The node axis: Node objects on this machine's loopback range, as nodes behind firewalls.

Every fake node's InternalIP is on 127.0.0.0/8 and nowhere else, in three shares:

- **answering** (127.10.x.y): a small TLS listener of the bench's own answers every
  request with 401, as a kubelet with anonymous authentication off does;
- **filtered** (127.11.x.y): an iptables rule the bench adds drops every packet to them,
  as a firewall does, so each probe waits its whole timeout (removed in ``finally``);
- **refusing** (127.12.x.y): nothing listens, the connection is refused at once.

The kubelet port is :data:`KUBELET_PORT` (the node's ``daemonEndpoints``), not 10250,
which the real kubelet may serve on every local address. The nodes carry a NoSchedule and
a NoExecute taint of the bench's own, so no DaemonSet pod lands on them, and hold no pod:
the node lifecycle controller marks them unreachable, with nothing to evict. The API
server's node proxy refuses loopback targets, so their ``configz`` fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kubernetes import client as k8s

from bench.estate import PREFIX
from bench.kube import Obj, list_all, send

Say = Callable[[str], None]
KUBELET_PORT = 20250
SHARES = {"answering": 10, "filtered": 11, "refusing": 12}  # second octet of each range
FILTERED_RANGE = "127.11.0.0/16"
RULE_COMMENT = f"{PREFIX}-filtered"
LABEL = f"{PREFIX}/fake-node"
ANSWER = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 12\r\nConnection: close\r\n\r\nUnauthorized"


@dataclass(frozen=True)
class FakeNode:
    name: str
    address: str
    share: str


def plan(count: int) -> list[FakeNode]:
    """``count`` nodes: half filtered, the rest answering and refusing in turn."""
    nodes: list[FakeNode] = []
    for i in range(count):
        share = "filtered" if i % 2 == 0 else ("answering" if i % 4 == 1 else "refusing")
        k = i // (2 if share == "filtered" else 4)
        address = f"127.{SHARES[share]}.{k // 250}.{k % 250 + 1}"
        assert ipaddress.ip_address(address).is_loopback  # never any other address
        nodes.append(FakeNode(f"{PREFIX}-node-{share[0]}-{k:04d}", address, share))
    return nodes


def manifest(node: FakeNode) -> Obj:
    taint = {"key": f"{PREFIX}/fake", "value": "true"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": node.name,
            "labels": {"app.kubernetes.io/part-of": PREFIX, LABEL: node.share},
        },
        "spec": {"taints": [{**taint, "effect": "NoSchedule"}, {**taint, "effect": "NoExecute"}]},
        # Nodes take their status on create (pkg/registry/core/node/strategy.go).
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": node.address},
                {"type": "Hostname", "address": node.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": KUBELET_PORT}},
        },
    }


def create(api: k8s.ApiClient, nodes: list[FakeNode], threads: int = 16) -> None:
    def one(node: FakeNode) -> None:
        send(api, "POST", "/api/v1/nodes", body=manifest(node), ok=(201, 409))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(one, nodes))


def remove(api: k8s.ApiClient, say: Say, threads: int = 16) -> int:
    """Delete every fake node (by label and name prefix); how many there were."""
    names = [
        n["metadata"]["name"]
        for n in list_all(api, "/api/v1/nodes", labelSelector=LABEL)
        if n["metadata"]["name"].startswith(f"{PREFIX}-node-")
    ]
    with ThreadPoolExecutor(threads) as pool:
        list(
            pool.map(
                lambda name: send(api, "DELETE", f"/api/v1/nodes/{name}", ok=(200, 404)), names
            )
        )
    if names:
        say(f"  removed {len(names)} fake nodes")
    return len(names)


# ---------------------------------------------------------------- the firewall
RULE = ["INPUT", "-d", FILTERED_RANGE, "-p", "tcp", "-m", "comment", "--comment", RULE_COMMENT]


def _iptables(*args: str) -> int:
    return subprocess.run(["iptables", "-w", *args], capture_output=True, check=False).returncode


def drop_rule_present() -> bool:
    return _iptables("-C", *RULE, "-j", "DROP") == 0


def remove_drop_rule() -> int:
    """Delete the rule as often as it is there (bounded); how many were removed."""
    removed = 0
    for _ in range(20):
        if _iptables("-D", *RULE, "-j", "DROP") != 0:
            break
        removed += 1
    return removed


@contextlib.contextmanager
def firewalled() -> Iterator[None]:
    """The filtered share's packets dropped silently while inside; the rule always goes."""
    remove_drop_rule()
    if _iptables("-I", *RULE, "-j", "DROP") != 0:
        raise RuntimeError("iptables could not add the DROP rule for the filtered share")
    try:
        yield
    finally:
        remove_drop_rule()
        if drop_rule_present():
            raise RuntimeError(f"the iptables rule {RULE_COMMENT} is still there: remove it")


# ---------------------------------------------------------------- the answering kubelets
def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{PREFIX}-fake-kubelet")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "kubelet.crt", directory / "kubelet.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        writer.write(ANSWER)
        await writer.drain()
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
        pass
    finally:
        writer.close()


class Kubelets:
    """A 401-answering TLS listener on each answering address, in one background loop."""

    def __init__(self, addresses: list[str], port: int = KUBELET_PORT) -> None:
        self.addresses = addresses
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._servers: list[asyncio.Server] = []
        self._dir = tempfile.TemporaryDirectory(prefix=f"{PREFIX}-kubelet-")

    def __enter__(self) -> Kubelets:
        cert, key = _certificate(Path(self._dir.name))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._thread.start()

        async def start() -> list[asyncio.Server]:
            return [
                await asyncio.start_server(_answer, address, self.port, ssl=context, backlog=256)
                for address in self.addresses
            ]

        self._servers = asyncio.run_coroutine_threadsafe(start(), self._loop).result(60)
        return self

    def __exit__(self, *_: object) -> None:
        async def stop() -> None:
            for server in self._servers:
                server.close()
            for server in self._servers:
                await server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._dir.cleanup()


def refuses(address: str, port: int) -> bool:
    """Does ``address:port`` refuse a connection (nothing listening there)?"""
    with socket.socket() as sock:
        sock.settimeout(2)
        try:
            sock.connect((address, port))
        except ConnectionRefusedError:
            return True
        except OSError:
            return False
        return False
