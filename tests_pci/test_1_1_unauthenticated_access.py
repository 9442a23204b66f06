"""PCI 1.1 — all access to orchestration components and supporting services requires
authentication and individual accountability."""

from __future__ import annotations

from urllib.parse import urlsplit

from kubepci import check
from kubepci.analysis import anonymous, endpoints
from kubepci.analysis.flags import (
    binds_all_interfaces,
    etcd_client_auth_gap,
    extra_always_allow_paths,
)
from kubepci.analysis.rbac import binding_findings
from kubepci.facade import Cluster
from kubepci.verdict import EvidenceUnavailable, Finding


@check("api-server-anonymous-probe")
def test_api_server_refuses_unauthenticated_requests(cluster: Cluster) -> None:
    """1.1.1 — unauthenticated callers reach nothing beyond /healthz, /livez, /readyz and
    /version (live probes of resource and non-resource paths without credentials)."""
    probes = cluster.session.api_server_probes()
    cluster.probes_evidence("Unauthenticated requests to the API server", probes)
    silent = anonymous.unanswered(probes)
    if silent:
        # A path that did not answer may be the one that serves content anonymously.
        raise EvidenceUnavailable(
            "API server did not answer: " + "; ".join(p.line() for p in silent[:5])
        )
    cluster.judge(
        anonymous.api_server_findings(probes),
        passed="every non-health path refused unauthenticated requests (401/403)",
    )


@check("api-server-anonymous-config")
def test_api_server_anonymous_auth_disabled_or_limited(cluster: Cluster) -> None:
    """1.1.1 — --anonymous-auth=false, or anonymous limited to health paths by an
    AuthenticationConfiguration (flags read from command and args; absent means true)."""
    findings = []
    for flags in cluster.flags("kube-apiserver"):
        names = ["anonymous-auth", "authentication-config"]
        cluster.evidence(f"kube-apiserver flags ({flags.pod})", flags.evidence(names), "flags")
        if "anonymous-auth" in flags.explicit or not flags.get("authentication-config"):
            if flags.is_true("anonymous-auth"):
                findings.append(
                    Finding(
                        "Pod",
                        *flags.pod.split("/", 1),
                        "anonymous authentication is enabled for every path: "
                        + flags.source("anonymous-auth"),
                    )
                )
        else:
            # With --authentication-config the anonymous section of that file decides; the
            # file is on the node, so its effect is judged by the live probe check.
            cluster.evidence(
                "Anonymous access decided by the AuthenticationConfiguration",
                f"{flags.source('authentication-config')}; see api-server-anonymous-probe",
            )
    cluster.judge(findings, passed="anonymous authentication is disabled or path-limited")


@check("anonymous-rbac-bindings")
def test_rbac_grants_nothing_to_anonymous(cluster: Cluster) -> None:
    """1.1.1 — no RoleBinding or ClusterRoleBinding gives system:anonymous or
    system:unauthenticated more than the health and version paths."""
    grants = anonymous.anonymous_grants(cluster.rbac)
    cluster.evidence("Grants to anonymous callers", [g.path() for g in grants], "rbac")
    excessive = [g for g in grants if anonymous.excessive_anonymous_grant(g)]
    findings = binding_findings(
        excessive, lambda g: f"{anonymous.excessive_anonymous_grant(g)}: {g.path()}"
    )
    cluster.judge(findings, passed="anonymous callers are granted health and version paths only")


def _always_allow(cluster: Cluster, component: str) -> None:
    findings = []
    for flags in cluster.flags(component):
        names = ["authorization-always-allow-paths", "bind-address", "secure-port"]
        cluster.evidence(f"{component} flags ({flags.pod})", flags.evidence(names), "flags")
        extra = extra_always_allow_paths(flags)
        if extra:
            exposure = (
                "on all interfaces"
                if binds_all_interfaces(flags)
                else f"on {flags.get('bind-address')}"
            )
            findings.append(
                Finding(
                    "Pod",
                    *flags.pod.split("/", 1),
                    f"--authorization-always-allow-paths adds {', '.join(extra)} beyond the "
                    f"default health paths, served {exposure}",
                )
            )
    cluster.judge(findings, passed="only /healthz, /readyz and /livez skip authorization")


def _component_probe(cluster: Cluster, component: str) -> None:
    findings = []
    for flags in cluster.flags(component):
        urls = endpoints.component_urls(flags, cluster.session.node_addresses)
        if not urls:
            raise EvidenceUnavailable(f"no network address found for {flags.pod}'s node")
        probes = cluster.session.component_probes(component, flags)
        cluster.probes_evidence(f"Unauthenticated requests to {flags.pod}", probes)
        if all(p.status is None for p in probes):
            errors = {p.error for p in probes}
            if errors != {"connection refused"}:
                raise EvidenceUnavailable(
                    f"{urls[0]} did not answer ({', '.join(sorted(errors))}); cannot tell "
                    "whether it serves content without credentials"
                )
            cluster.evidence(
                f"{flags.pod} is not reachable on the node address",
                f"{urls[0]} refused connections; bound to {flags.get('bind-address')}",
            )
        findings += anonymous.component_findings(component, probes)
    cluster.judge(findings, passed="no sensitive path answered without credentials")


@check("controller-manager-always-allow-paths")
def test_controller_manager_always_allow_paths_default(cluster: Cluster) -> None:
    """1.1.2 — the controller manager lets only the default health paths skip
    authorization (--authorization-always-allow-paths)."""
    _always_allow(cluster, "kube-controller-manager")


@check("controller-manager-anonymous-probe")
def test_controller_manager_serves_nothing_anonymously(cluster: Cluster) -> None:
    """1.1.2 — live probes of /metrics, /configz and /debug/pprof/ on port 10257
    without credentials."""
    _component_probe(cluster, "kube-controller-manager")


@check("scheduler-always-allow-paths")
def test_scheduler_always_allow_paths_default(cluster: Cluster) -> None:
    """1.1.3 — the scheduler lets only the default health paths skip authorization."""
    _always_allow(cluster, "kube-scheduler")


@check("scheduler-anonymous-probe")
def test_scheduler_serves_nothing_anonymously(cluster: Cluster) -> None:
    """1.1.3 — live probes of /metrics, /configz and /debug/pprof/ on port 10259
    without credentials."""
    _component_probe(cluster, "kube-scheduler")


def _node_of(cluster: Cluster, url: str) -> str:
    host = urlsplit(url).hostname or ""
    return next((n.node for n in cluster.session.node_addresses if n.address == host), host)


@check("kubelet-anonymous-probe")
def test_kubelets_reject_anonymous_requests(cluster: Cluster) -> None:
    """1.1.4 — every kubelet answers 401 to an unauthenticated GET /pods on 10250
    (403 means anonymous auth is on; 200 means the kubelet is open)."""
    probes = cluster.session.kubelet_probes()
    if not probes:
        raise EvidenceUnavailable("no node has an address to probe")
    cluster.probes_evidence("Unauthenticated requests to each kubelet", probes)
    silent = anonymous.unanswered(probes)
    if silent:
        raise EvidenceUnavailable(
            "; ".join(f"{_node_of(cluster, p.url)}: {p.line()}" for p in silent)
        )
    findings = [f for p in probes if (f := anonymous.kubelet_finding(_node_of(cluster, p.url), p))]
    cluster.judge(findings, passed="every kubelet answered 401 without credentials")


@check("kubelet-read-only-port")
def test_kubelets_do_not_serve_read_only_port(cluster: Cluster) -> None:
    """1.1.4 — no kubelet serves the unauthenticated read-only port 10255."""
    probes = cluster.session.read_only_port_probes()
    if not probes:
        raise EvidenceUnavailable("no node has an address to probe")
    cluster.probes_evidence("Plain HTTP requests to each kubelet's port 10255", probes)
    unclear = [p for p in probes if p.status is None and p.error != "connection refused"]
    if unclear:
        # A filtered port (timeout) or a reset mid-stream says nothing about the kubelet.
        raise EvidenceUnavailable(
            "; ".join(f"{_node_of(cluster, p.url)}: {p.line()}" for p in unclear)
        )
    findings = [
        Finding(
            "Node", "", _node_of(cluster, p.url), f"read-only port answered {p.status}: {p.url}"
        )
        for p in probes
        if p.status is not None
    ]
    cluster.judge(findings, passed="port 10255 refused connections on every node")


@check("kubelet-config")
def test_kubelet_configuration_disables_anonymous_access(cluster: Cluster) -> None:
    """1.1.4 — each kubelet's effective configuration (/configz through the node proxy):
    anonymous off, Webhook authorization, readOnlyPort 0."""
    configs = cluster.session.kubelet_configz()
    cluster.evidence("Kubelet authentication settings (configz)", configs, "objects")
    errors = [f"{node}: {c['error']}" for node, c in sorted(configs.items()) if "error" in c]
    if errors:
        raise EvidenceUnavailable("cannot read kubelet configz: " + "; ".join(errors))
    if not configs:
        raise EvidenceUnavailable("no nodes to read kubelet configuration from")
    findings = []
    for node, entry in sorted(configs.items()):
        config = entry["config"]
        authn = config.get("authentication") or {}
        if (authn.get("anonymous") or {}).get("enabled", False):
            findings.append(
                Finding("Node", "", node, "kubelet authentication.anonymous.enabled=true")
            )
        mode = (config.get("authorization") or {}).get("mode", "")
        if mode != "Webhook":
            findings.append(Finding("Node", "", node, f"kubelet authorization.mode={mode or '?'}"))
        if int(config.get("readOnlyPort") or 0) != 0:
            findings.append(
                Finding("Node", "", node, f"kubelet readOnlyPort={config['readOnlyPort']}")
            )
    cluster.judge(findings, passed="every kubelet: anonymous off, Webhook authorization, no 10255")


@check("etcd-client-cert-auth")
def test_etcd_requires_client_certificates(cluster: Cluster) -> None:
    """1.1.5 — etcd requires client certificates: --client-cert-auth=true or a
    --trusted-ca-file (either makes its TLS listener demand one), and no plain-HTTP URL."""
    findings = []
    for flags in cluster.flags("etcd"):
        names = ["client-cert-auth", "trusted-ca-file", "listen-client-urls", "auto-tls"]
        cluster.evidence(f"etcd flags ({flags.pod})", flags.evidence(names), "flags")
        gap = etcd_client_auth_gap(flags)
        if gap:
            findings.append(Finding("Pod", *flags.pod.split("/", 1), f"etcd: {gap}"))
    cluster.judge(findings, passed="etcd requires client certificates signed by its CA")


@check("etcd-anonymous-probe")
def test_etcd_refuses_clients_without_certificates(cluster: Cluster) -> None:
    """1.1.5 — a TLS client without a certificate cannot read etcd's /version."""
    instances = cluster.flags("etcd")
    urls = sorted({u for flags in instances for u in endpoints.etcd_client_urls(flags)})
    reachable = [u for u in urls if not endpoints.is_loopback_url(u)]
    if not reachable:
        cluster.not_applicable(
            f"etcd listens only on loopback ({', '.join(urls) or 'no URLs'}); "
            "not reachable from the network"
        )
    probes = cluster.session.etcd_probes(reachable)
    cluster.probes_evidence("Requests to etcd without a client certificate", probes)
    findings, unclear = [], []
    for probe in probes:
        if probe.status is not None and probe.status < 500:
            findings.append(
                Finding(
                    "Etcd",
                    "",
                    urlsplit(probe.url).netloc,
                    f"answered {probe.status} to a client without a certificate",
                )
            )
        elif (
            probe.status is None
            and "certificate" not in probe.error
            and "handshake" not in probe.error
        ):
            unclear.append(probe)
    if unclear and not findings:
        raise EvidenceUnavailable("; ".join(p.line() for p in unclear))
    cluster.judge(findings, passed="every etcd client URL refused a client without a certificate")


@check("service-anonymous-probe")
def test_services_demand_credentials(cluster: Cluster) -> None:
    """1.1.6 — in-cluster services do not serve content to unauthenticated callers
    (every Service port with ready endpoints, through the credential-stripping proxy)."""
    ports, skipped = endpoints.services_to_probe(
        cluster.snapshot.services, cluster.snapshot.endpoint_slices
    )
    if skipped:
        cluster.evidence("Services not probed", skipped)
    if not ports:
        cluster.not_applicable("no Service has ready endpoints to probe")
    probes = cluster.session.service_probes(ports)
    cluster.probes_evidence("Unauthenticated requests through the service proxy", probes)
    findings, not_http = [], []
    for port, probe in zip(ports, probes, strict=True):
        if probe.status is not None and 200 <= probe.status < 300:
            findings.append(
                Finding(
                    "Service",
                    port.namespace,
                    port.name,
                    f"port {port.port} served {probe.status} to a request without credentials",
                )
            )
        elif probe.status is None or probe.status >= 500:
            not_http.append(f"{port.ref}:{port.port} ({probe.status or probe.error})")
    if not_http:
        cluster.evidence("Ports not judged (no HTTP answer through the proxy)", not_http)
    if not_http and len(not_http) == len(ports):
        raise EvidenceUnavailable(
            "no probed service port gave an HTTP answer: " + "; ".join(not_http)
        )
    cluster.judge(
        findings, passed=f"{len(ports) - len(not_http)} HTTP service port(s) demanded credentials"
    )
