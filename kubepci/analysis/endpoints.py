"""Where to probe: node addresses, component ports, etcd URLs, services with endpoints and
kubelet read-only ports.

Pure functions from snapshot data (and control-plane flags, kubelet configz) to probe
targets; the probing itself happens in :mod:`kubepci.access.cluster`. What a service's
answers mean is judged in :mod:`kubepci.analysis.service_answers`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kubepci.analysis.flags import ComponentFlags
from kubepci.records.probes import ProbeResult
from kubepci.verdict import Finding

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
# Paths asked of every Service port, through the service proxy. `/` alone misjudges most
# supporting services (an exporter's `/` is 404, a UI's `/` redirects or shows a login
# while its API is open), so the data paths that real services serve are asked too:
SERVICE_PROBE_PATHS = (
    "/",  # the landing page: a UI, an API root, or where a redirect to a login starts
    "/metrics",  # Prometheus exposition: every exporter, most Go and Java services
    "/api/v1/query?query=up",  # Prometheus query API (also Thanos, Mimir, VictoriaMetrics)
    "/federate?match%5B%5D=up",  # Prometheus federation: dumps the matching series
    "/api",  # API roots: Kubernetes-style servers, Grafana's /api, admin REST APIs
    "/api/v1",  # versioned API roots (Kubernetes-style, Prometheus, Alertmanager v1)
    "/v1",  # HashiCorp-style APIs (Vault, Consul, Nomad) and other versioned roots
    "/debug/pprof/",  # Go's net/http/pprof: heap, goroutine stacks, command line
)
# Health paths (/healthz, /-/healthy, /livez) are not asked: they are meant to answer
# anyone, as 1.1.1 allows for the API server, so their 200 proves nothing either way.


@dataclass(frozen=True)
class NodeAddress:
    node: str
    address: str
    kubelet_port: int


def node_addresses(nodes: Sequence[Obj]) -> list[NodeAddress]:
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
        return self.proxy_prefix(self.scheme) + "/"

    def proxy_prefix(self, scheme: str) -> str:
        """The service proxy's path for this port over ``scheme``, without the trailing /.

        The proxy accepts ``[scheme:]name:port`` (pkg/registry/core/service/storage/
        storage.go, ResourceLocation); the numeric port is unambiguous.
        """
        prefix = {"http": "", "https": "https:"}[scheme]  # the suite proxies no other scheme
        return f"/api/v1/namespaces/{self.namespace}/services/{prefix}{self.name}:{self.port}/proxy"

    @property
    def ref(self) -> str:
        return f"Service {self.namespace}/{self.name}"


def services_to_probe(
    services: Sequence[Obj], endpoint_slices: Sequence[Obj]
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
        namespace, name = str(meta["namespace"]), str(meta["name"])  # Services are namespaced
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


# The kubelet's default read-only port (k8s.io/kubernetes pkg/cluster/ports/ports.go,
# KubeletReadOnlyPort), used when a kubelet's configuration cannot be read.
DEFAULT_READ_ONLY_PORT = 10255
_WILDCARD = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class ReadOnlyTarget:
    """Where to look for one kubelet's unauthenticated read-only port, and why there."""

    node: str
    address: str
    port: int
    basis: str

    @property
    def url(self) -> str:
        return f"http://{url_host(self.address)}:{self.port}/pods"


def read_only_targets(nodes: list[NodeAddress], configz: dict[str, Obj]) -> list[ReadOnlyTarget]:
    """The port each kubelet serves read-only on, from its /configz where it was read.

    The kubelet serves it on ``address`` when ``readOnlyPort`` > 0 (cmd/kubelet/app/
    server.go, startKubelet). /configz is the v1beta1 KubeletConfiguration, whose
    ``readOnlyPort`` is omitted when 0 (k8s.io/kubelet config/v1beta1/types.go,
    ``omitempty``): absent means disabled, and the default port is probed to confirm. A
    kubelet whose configuration was not read is probed on the default port, and the
    target says that it is an assumption. ``configz`` maps node name to ``{"config": ...}``
    or ``{"error": reason}``.
    """
    out: list[ReadOnlyTarget] = []
    for node in nodes:
        if not node.address:
            continue
        entry = configz.get(node.node) or {"error": "no configz entry for the node"}
        if "config" not in entry:
            out.append(
                ReadOnlyTarget(
                    node.node,
                    node.address,
                    DEFAULT_READ_ONLY_PORT,
                    f"configz not read ({entry.get('error', 'unknown reason')}): the "
                    f"configured port is unknown, so the default {DEFAULT_READ_ONLY_PORT} "
                    "is assumed",
                )
            )
            continue
        config = entry["config"] or {}
        port = int(config.get("readOnlyPort") or 0)
        bind = str(config.get("address") or "")
        address = node.address
        where = ""
        if bind not in _WILDCARD:
            if _is_loopback(bind):
                where = f"; bound to {bind}, so the node address should refuse it"
            else:
                address, where = bind, f"; bound to {bind}"
        if port > 0:
            out.append(
                ReadOnlyTarget(node.node, address, port, f"configz readOnlyPort={port}{where}")
            )
        else:
            out.append(
                ReadOnlyTarget(
                    node.node,
                    address,
                    DEFAULT_READ_ONLY_PORT,
                    "configz readOnlyPort is 0 (disabled); the default "
                    f"{DEFAULT_READ_ONLY_PORT} is probed to confirm{where}",
                )
            )
    return out


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address == "localhost"


def read_only_port_findings(
    targets: list[ReadOnlyTarget], probes: list[ProbeResult]
) -> tuple[list[Finding], list[str]]:
    """Findings (an HTTP answer of any status: the port serves without authentication) and
    what could not be told (no answer other than a refused connection: a filtered port or
    a reset says nothing about the kubelet). ``probes`` is in ``targets`` order."""
    findings: list[Finding] = []
    unclear: list[str] = []
    for target, probe in zip(targets, probes, strict=True):
        if probe.status is not None:
            findings.append(
                Finding(
                    "Node",
                    "",
                    target.node,
                    # No "credentials:" before the URL: the redactor would take it for a value.
                    f"read-only port {target.port} answered {probe.status} to GET "
                    f"{probe.url} without credentials ({target.basis})",
                )
            )
        elif probe.error != "connection refused":
            unclear.append(f"{target.node}: {probe.line()} ({target.basis})")
    return findings, unclear
