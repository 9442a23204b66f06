"""PCI 1.1 — all access to orchestration components and supporting services requires
authentication and individual accountability."""

from __future__ import annotations

from kubepci import check
from kubepci.analysis import (
    api_server_access,
    component_access,
    etcd_access,
    kubelet_access,
    service_access,
)
from kubepci.facade import Cluster
from kubepci.records.probes import ProbeResult
from kubepci.verdict import EvidenceUnavailable


@check("api-server-anonymous-probe")
def test_api_server_refuses_unauthenticated_requests(cluster: Cluster) -> None:
    """1.1.1 — unauthenticated callers reach nothing beyond /healthz, /livez, /readyz and
    /version (live probes of resource and non-resource paths without credentials)."""
    cluster.conclude(api_server_access.judge_api_server_probes(cluster.api_server_probes()))


@check("api-server-anonymous-config")
def test_api_server_anonymous_auth_disabled_or_limited(cluster: Cluster) -> None:
    """1.1.1 — anonymous authentication is off, or limited to the health paths, as
    kube-apiserver computes it: the AuthenticationConfiguration's anonymous section
    (--authentication-config, read under --node-root), else --anonymous-auth (default
    true; reset by AlwaysAllow). Where the file cannot be read the live server decides:
    an answer other than 401 on a non-health path means anonymous requests are in."""
    config = api_server_access.plan_anonymous_config(cluster.flags("kube-apiserver"))
    cluster.conclude(config.so_far, final=False)
    cluster.conclude(
        api_server_access.judge_anonymous_config(
            config.then, cluster.api_server_probes(), cluster.target.server
        )
    )


@check("anonymous-rbac-bindings")
def test_rbac_grants_nothing_to_anonymous(cluster: Cluster) -> None:
    """1.1.1 — no RoleBinding or ClusterRoleBinding gives system:anonymous or
    system:unauthenticated more than the health and version paths."""
    cluster.conclude(api_server_access.judge_anonymous_rbac(cluster.rbac))


def _always_allow(cluster: Cluster, component: str) -> None:
    cluster.conclude(component_access.judge_always_allow_paths(component, cluster.flags(component)))


def _component_probe(cluster: Cluster, component: str) -> None:
    instances = cluster.flags(component)
    nodes = cluster.node_addresses
    probed: list[list[ProbeResult]] = []
    for flags in component_access.serving_instances(instances):
        cluster.conclude(component_access.plan_instance_probe(flags, nodes), final=False)
        probes = cluster.component_probes(component, flags)
        cluster.conclude(component_access.judge_instance_answers(flags, nodes, probes), final=False)
        probed.append(probes)
    cluster.conclude(component_access.judge_component_probes(component, probed, instances))


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


@check("kubelet-anonymous-probe")
def test_kubelets_reject_anonymous_requests(cluster: Cluster) -> None:
    """1.1.4 — every kubelet answers 401 to an unauthenticated GET /pods on 10250
    (403 means anonymous auth is on; 200 means the kubelet is open)."""
    probes = cluster.kubelet_probes()
    cluster.conclude(kubelet_access.judge_kubelet_probes(probes, cluster.node_addresses))


@check("kubelet-read-only-port")
def test_kubelets_do_not_serve_read_only_port(cluster: Cluster) -> None:
    """1.1.4 — no kubelet serves the unauthenticated read-only port: the port each kubelet's
    configz gives (readOnlyPort), or the default 10255 where configz cannot be read."""
    try:
        configz = cluster.kubelet_configz()
    except EvidenceUnavailable as exc:
        configz = kubelet_access.configz_not_read(cluster.node_addresses, exc.reason)
    targets = kubelet_access.plan_read_only_probes(cluster.node_addresses, configz)
    cluster.conclude(targets.so_far, final=False)
    probes = cluster.read_only_port_probes(targets.then)
    every_node = [n.node for n in cluster.node_addresses]
    cluster.conclude(kubelet_access.judge_read_only_probes(targets.then, probes, every_node))


@check("kubelet-config")
def test_kubelet_configuration_disables_anonymous_access(cluster: Cluster) -> None:
    """1.1.4 — each kubelet's effective configuration (/configz through the node proxy):
    anonymous off, Webhook authorization, readOnlyPort 0. Without the optional nodes/proxy
    grant (confirmed by the API server) it is manual, the live probes judging 1.1.4."""
    cluster.conclude(kubelet_access.judge_kubelet_config(cluster.kubelet_configz()))


@check("etcd-client-cert-auth")
def test_etcd_requires_client_certificates(cluster: Cluster) -> None:
    """1.1.5 — every etcd client and peer listener demands a client certificate: TLS
    (no http:// or unix:// URL) with --client-cert-auth=true or a --trusted-ca-file (either
    makes etcd's TLS listener verify one), certificate files rather than auto TLS. Read as
    etcd does: command line, ETCD_* variables, or the --config-file under --node-root."""
    cluster.conclude(etcd_access.judge_etcd_client_cert_auth(cluster.flags("etcd")))


@check("etcd-anonymous-probe")
def test_etcd_refuses_clients_without_certificates(cluster: Cluster) -> None:
    """1.1.5 — a TLS client without a certificate cannot read etcd's /version."""
    urls = etcd_access.plan_etcd_probes(cluster.flags("etcd"))
    cluster.conclude(urls.so_far, final=False)
    cluster.conclude(etcd_access.judge_etcd_probes(cluster.etcd_probes(urls.then)))


@check("service-anonymous-probe")
def test_services_demand_credentials(cluster: Cluster) -> None:
    """1.1.6 — in-cluster services serve no content to unauthenticated callers: every
    Service port with ready endpoints, asked its landing page and the data paths real
    services serve (endpoints.SERVICE_PROBE_PATHS) through the credential-stripping service
    proxy, redirects followed and TLS tried where the port answers like a TLS server."""
    ports = service_access.plan_service_probes(
        cluster.snapshot.services, cluster.snapshot.endpoint_slices
    )
    cluster.conclude(ports.so_far, final=False)
    answers = cluster.service_probes(ports.then)
    cluster.conclude(service_access.judge_service_probes(ports.then, answers))
