"""PCI 1.1 — all access to orchestration components and supporting services requires
authentication and individual accountability."""

from __future__ import annotations

from urllib.parse import urlsplit

from kubepci import check
from kubepci.analysis import anonymous, endpoints, service_answers
from kubepci.analysis.flags import (
    binds_all_interfaces,
    etcd_listener_gaps,
    extra_always_allow_paths,
    serves_nothing,
)
from kubepci.analysis.rbac import binding_findings
from kubepci.analysis.service_answers import PortVerdict
from kubepci.facade import Cluster
from kubepci.verdict import EvidenceUnavailable, Finding


@check("api-server-anonymous-probe")
def test_api_server_refuses_unauthenticated_requests(cluster: Cluster) -> None:
    """1.1.1 — unauthenticated callers reach nothing beyond /healthz, /livez, /readyz and
    /version (live probes of resource and non-resource paths without credentials)."""
    probes = cluster.api_server_probes()
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
    """1.1.1 — anonymous authentication is off, or limited to the health paths, as
    kube-apiserver computes it: the AuthenticationConfiguration's anonymous section
    (--authentication-config, read under --node-root), else --anonymous-auth (default
    true; reset by AlwaysAllow). Where the file cannot be read the live server decides:
    an answer other than 401 on a non-health path means anonymous requests are in."""
    findings, auths = [], []
    for flags in cluster.flags("kube-apiserver"):
        auth = anonymous.api_server_anonymous(flags, flags.files.get("authentication-config"))
        auths.append(auth)
        findings += anonymous.anonymous_config_findings(flags, auth)
        cluster.evidence(
            f"kube-apiserver flags ({flags.pod})",
            flags.evidence(["anonymous-auth", "authentication-config", "authorization-mode"]),
            "flags",
        )
        cluster.evidence(f"Anonymous authentication of {flags.pod}", auth.describe())
        if auth.known and flags.get("authentication-config"):
            cluster.evidence(
                "The configuration file as read now",
                "kube-apiserver refuses changes to the anonymous section after it starts "
                "(authentication.go: 'changed from initial configuration file'), so the "
                "file may not be what it runs: the live answers below are checked against it",
            )
    probes = cluster.api_server_probes()
    cluster.probes_evidence("Unauthenticated requests to the API server", probes)
    findings += anonymous.anonymous_probe_findings(probes, auths)
    undecided = anonymous.undecided_probes(probes)
    if not all(a.known for a in auths):
        # Decided by the live server: it must have answered every non-health path.
        if undecided and not findings:
            raise EvidenceUnavailable(
                "the anonymous configuration was not read and the API server did not answer "
                "clearly: " + "; ".join(p.line() for p in undecided[:5])
            )
        cluster.evidence(
            "Limitation",
            "the anonymous configuration of at least one instance was not read; the live "
            f"server ({cluster.target.server}) decided on the paths probed",
        )
        passed = (
            "every probed non-health path answered 401: anonymous requests are not "
            "authenticated (configuration not read; decided by the live server)"
        )
    else:
        if undecided:
            lines = [p.line() for p in undecided]
            cluster.evidence("Probes that did not tell (the configuration decided)", lines)
        passed = (
            "anonymous authentication is disabled or limited to health paths, and the live "
            "server agrees on every path probed"
        )
    cluster.judge(findings, passed=passed)


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
    findings, serving = [], 0
    for flags in cluster.flags(component):
        names = ["authorization-always-allow-paths", "bind-address", "secure-port"]
        cluster.evidence(f"{component} flags ({flags.pod})", flags.evidence(names), "flags")
        if component == "kube-scheduler" and flags.get("config"):
            # pkg/scheduler/apis/config/v1 KubeSchedulerConfiguration has no serving or
            # authorization settings: these stay flags whatever the file says.
            cluster.evidence(
                f"{flags.pod} reads --config={flags.get('config')}",
                "KubeSchedulerConfiguration holds no serving or authorization settings, so the "
                "flags above decide them",
            )
        if serves_nothing(flags):
            cluster.evidence(f"{flags.pod} serves nothing", flags.source("secure-port"))
            continue
        serving += 1
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
                    f"default health paths, served {exposure}: "
                    + flags.source("authorization-always-allow-paths"),
                )
            )
    cluster.judge(
        findings,
        passed="only /healthz, /readyz and /livez skip authorization"
        if serving
        else "--secure-port=0 on every instance: nothing is served, so no path is open",
    )


def _component_probe(cluster: Cluster, component: str) -> None:
    findings = []
    for flags in cluster.flags(component):
        urls = endpoints.component_urls(flags, cluster.node_addresses)
        if not urls:
            raise EvidenceUnavailable(f"no network address found for {flags.pod}'s node")
        probes = cluster.component_probes(component, flags)
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
    return next((n.node for n in cluster.node_addresses if n.address == host), host)


@check("kubelet-anonymous-probe")
def test_kubelets_reject_anonymous_requests(cluster: Cluster) -> None:
    """1.1.4 — every kubelet answers 401 to an unauthenticated GET /pods on 10250
    (403 means anonymous auth is on; 200 means the kubelet is open)."""
    probes = cluster.kubelet_probes()
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
    """1.1.4 — no kubelet serves the unauthenticated read-only port: the port each kubelet's
    configz gives (readOnlyPort), or the default 10255 where configz cannot be read."""
    try:
        configz = cluster.kubelet_configz()
    except EvidenceUnavailable as exc:
        configz = {n.node: {"error": exc.reason} for n in cluster.node_addresses}
    targets = endpoints.read_only_targets(cluster.node_addresses, configz)
    if not targets:
        raise EvidenceUnavailable("no node has an address to probe")
    cluster.evidence(
        "Read-only port probed on each kubelet, and why that port",
        [f"{t.node}: {t.url} ({t.basis})" for t in targets],
    )
    probes = cluster.read_only_port_probes(targets)
    cluster.probes_evidence("Plain HTTP requests to each kubelet's read-only port", probes)
    findings, unclear = endpoints.read_only_port_findings(targets, probes)
    if unclear and not findings:
        # A filtered port (timeout) or a reset mid-stream says nothing about the kubelet.
        raise EvidenceUnavailable("; ".join(unclear))
    ports = ", ".join(sorted({str(t.port) for t in targets}))
    cluster.judge(
        findings, passed=f"the read-only port ({ports}) refused connections on every node"
    )


@check("kubelet-config")
def test_kubelet_configuration_disables_anonymous_access(cluster: Cluster) -> None:
    """1.1.4 — each kubelet's effective configuration (/configz through the node proxy):
    anonymous off, Webhook authorization, readOnlyPort 0."""
    configs = cluster.kubelet_configz()
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
    """1.1.5 — every etcd client and peer listener demands a client certificate: TLS
    (no http:// or unix:// URL) with --client-cert-auth=true or a --trusted-ca-file (either
    makes etcd's TLS listener verify one), certificate files rather than auto TLS. Read as
    etcd does: command line, ETCD_* variables, or the --config-file under --node-root."""
    findings = []
    names = [
        "listen-client-urls", "listen-client-http-urls", "client-cert-auth", "trusted-ca-file",
        "cert-file", "auto-tls", "listen-peer-urls", "peer-client-cert-auth",
        "peer-trusted-ca-file", "peer-cert-file", "peer-auto-tls", "config-file",
    ]  # fmt: skip
    for flags in cluster.flags("etcd"):
        cluster.evidence(f"etcd settings ({flags.pod})", flags.evidence(names), "flags")
        for gap in etcd_listener_gaps(flags):
            findings.append(Finding("Pod", *flags.pod.split("/", 1), f"etcd {gap}"))
    cluster.judge(findings, passed="every etcd listener requires a client certificate")


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
    probes = cluster.etcd_probes(reachable)
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
    """1.1.6 — in-cluster services serve no content to unauthenticated callers: every
    Service port with ready endpoints, asked its landing page and the data paths real
    services serve (endpoints.SERVICE_PROBE_PATHS) through the credential-stripping service
    proxy, redirects followed and TLS tried where the port answers like a TLS server."""
    ports, skipped = endpoints.services_to_probe(
        cluster.snapshot.services, cluster.snapshot.endpoint_slices
    )
    if skipped:
        cluster.evidence("Services not probed", skipped)
    if not ports:
        cluster.not_applicable("no Service has ready endpoints to probe")
    answers = cluster.service_probes(ports)
    judgements = [
        service_answers.judge_port(port, paths) for port, paths in zip(ports, answers, strict=True)
    ]
    cluster.probes_evidence(
        "Unauthenticated requests through the service proxy",
        [request for paths in answers for path in paths for request in path.requests],
    )
    cluster.evidence("Verdict per service port", [j.line() for j in judgements])
    refused = [j for j in judgements if j.verdict is PortVerdict.SUITE_REFUSED]
    if refused:
        raise EvidenceUnavailable(
            "the API server refused the suite's services/proxy requests: "
            + "; ".join(j.ref for j in refused)
        )
    limits = [line for j in judgements if (line := service_answers.limitation(j))]
    if limits:
        cluster.evidence("Limitations: service ports or paths not judged", limits)
    findings = [j.finding() for j in judgements if j.verdict is PortVerdict.SERVED_CONTENT]
    unjudged = [j for j in judgements if j.verdict is PortVerdict.NOT_JUDGED]
    if unjudged and not findings:
        # A port that could serve content and was never judged is never passed over.
        raise EvidenceUnavailable(
            f"{len(unjudged)} service port(s) could not be judged: "
            + "; ".join(service_answers.limitation(j) for j in unjudged[:5])
        )
    if not findings and all(j.verdict is PortVerdict.CANNOT_SERVE for j in judgements):
        raise EvidenceUnavailable(
            "no probed service port answered HTTP or HTTPS: "
            + "; ".join(service_answers.limitation(j) for j in judgements[:5])
        )
    demanded = sum(j.verdict is PortVerdict.DEMANDS_CREDENTIALS for j in judgements)
    nothing = [j.ref for j in judgements if j.verdict is PortVerdict.SERVED_NOTHING]
    cannot = [j.ref for j in judgements if j.verdict is PortVerdict.CANNOT_SERVE]
    passed = f"{demanded} service port(s) demanded credentials (401/403, a challenge or a sign-in)"
    if nothing:
        passed += (
            f"; {len(nothing)} served nothing on the probed paths and asked for no "
            f"credentials ({', '.join(nothing)})"
        )
    if cannot:
        passed += f"; {len(cannot)} cannot serve HTTP content ({', '.join(cannot)})"
    cluster.judge(findings, passed=passed)
