"""Where to probe: node addresses, component ports, etcd URLs and services with endpoints.

Pure functions from snapshot data (and control-plane flags) to probe targets; the
probing itself happens in :mod:`kubepci.access.cluster`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kubepci.analysis.flags import ComponentFlags

Obj = dict[str, Any]

# Non-resource paths an unauthenticated caller may reach on any component.
HEALTH_PATHS = ("/healthz", "/livez", "/readyz")
VERSION_PATHS = ("/version", "/version/")
API_SERVER_PROBE_PATHS = (
    *HEALTH_PATHS,
    "/version",
    "/api",
    "/apis",
    "/api/v1/namespaces",
    "/api/v1/nodes",
    "/api/v1/pods",
    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    "/metrics",
    "/openapi/v2",
    "/logs/",
    "/debug/pprof/",
)
COMPONENT_PROBE_PATHS = ("/healthz", "/metrics", "/configz", "/debug/pprof/")


@dataclass(frozen=True)
class NodeAddress:
    node: str
    address: str
    kubelet_port: int


def node_addresses(nodes: list[Obj]) -> list[NodeAddress]:
    """Each node's InternalIP (ExternalIP if it has none) and kubelet port."""
    out: list[NodeAddress] = []
    for node in nodes:
        status = node.get("status") or {}
        addresses: dict[str, str] = {}
        for entry in status.get("addresses") or []:
            # Dual-stack nodes list an address per family; the first is the primary.
            addresses.setdefault(str(entry.get("type")), str(entry.get("address") or ""))
        address = addresses.get("InternalIP") or addresses.get("ExternalIP") or ""
        port = int(
            ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port")
            or 10250
        )
        out.append(NodeAddress(str(node["metadata"]["name"]), str(address), port))
    return out


def url_host(address: str) -> str:
    """Bracket IPv6 literals for use in a URL."""
    try:
        if ipaddress.ip_address(address).version == 6:
            return f"[{address}]"
    except ValueError:
        pass
    return address


def component_urls(flags: ComponentFlags, nodes: list[NodeAddress]) -> list[str]:
    """Base URLs of a controller-manager or scheduler instance as seen from the network."""
    port = flags.get("secure-port")
    address = next((n.address for n in nodes if n.node == flags.node), "")
    return [f"https://{url_host(address)}:{port}"] if address and port != "0" else []


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def etcd_client_urls(flags: ComponentFlags) -> list[str]:
    """The client URLs etcd advertises (what the API server and others dial)."""
    urls = flags.get("advertise-client-urls") or flags.get("listen-client-urls")
    return sorted({u.strip().rstrip("/") for u in urls.split(",") if u.strip()})


@dataclass(frozen=True)
class ServicePort:
    namespace: str
    name: str
    port: int
    port_name: str
    scheme: str  # http or https

    @property
    def proxy_path(self) -> str:
        prefix = "https:" if self.scheme == "https" else ""
        # The service proxy accepts [scheme:]name:port; the numeric port is unambiguous.
        return (
            f"/api/v1/namespaces/{self.namespace}/services/{prefix}{self.name}:{self.port}/proxy/"
        )

    @property
    def ref(self) -> str:
        return f"Service {self.namespace}/{self.name}"


def services_to_probe(
    services: list[Obj], endpoint_slices: list[Obj]
) -> tuple[list[ServicePort], list[str]]:
    """TCP ports of Services that have ready endpoints, and why others were left out.

    A Service without ready endpoints cannot answer anything, so probing it would only
    cost requests; the ``kubernetes`` Service is the API server, probed directly.
    """
    ready = {
        (s["metadata"]["namespace"], s["metadata"]["service"])
        for s in endpoint_slices
        if s.get("ready")
    }
    chosen: list[ServicePort] = []
    skipped: list[str] = []
    for service in services:
        meta = service["metadata"]
        namespace, name = str(meta.get("namespace", "")), str(meta["name"])
        if (namespace, name) == ("default", "kubernetes"):
            continue
        spec = service.get("spec") or {}
        if spec.get("type") == "ExternalName":
            skipped.append(
                f"Service {namespace}/{name}: ExternalName (no endpoints in the cluster)"
            )
            continue
        if (namespace, name) not in ready:
            skipped.append(f"Service {namespace}/{name}: no ready endpoints")
            continue
        for port in spec.get("ports") or []:
            if (port.get("protocol") or "TCP") != "TCP":
                skipped.append(f"Service {namespace}/{name}:{port.get('port')}: not TCP")
                continue
            port_name = str(port.get("name") or "")
            app = str(port.get("appProtocol") or "").lower()
            https = app == "https" or port_name.startswith("https") or port.get("port") == 443
            chosen.append(
                ServicePort(
                    namespace, name, int(port["port"]), port_name, "https" if https else "http"
                )
            )
    return chosen, skipped
