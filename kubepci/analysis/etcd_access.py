"""PCI 1.1.5 judged: every etcd listener demands a client certificate, and a TLS client
without one cannot read etcd's /version.

What etcd's listeners accept is in :mod:`kubepci.analysis.etcd` (through
:func:`kubepci.analysis.flags.etcd_listener_gaps`).
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from kubepci.analysis.endpoints import etcd_client_urls, is_loopback_url
from kubepci.analysis.flags import ComponentFlags, etcd_listener_gaps
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted, pod_finding
from kubepci.records.probes import ProbeResult
from kubepci.verdict import CheckOutcome, EvidenceUnavailable, Finding, NotApplicable

LISTENER_SETTINGS = [
    "listen-client-urls", "listen-client-http-urls", "client-cert-auth", "trusted-ca-file",
    "cert-file", "auto-tls", "listen-peer-urls", "peer-client-cert-auth",
    "peer-trusted-ca-file", "peer-cert-file", "peer-auto-tls", "config-file",
]  # fmt: skip
# A handshake that failed over the missing certificate is etcd refusing the client.
_HANDSHAKE_REFUSALS = ("certificate", "handshake")


def _judge_etcd_client_cert_auth(draft: Draft, instances: Sequence[ComponentFlags]) -> Judgement:
    """Every client and peer listener is TLS with a client certificate demanded
    (--client-cert-auth or a --trusted-ca-file) from certificate files, not auto TLS."""
    findings: list[Finding] = []
    for flags in instances:
        draft.record(f"etcd settings ({flags.pod})", flags.evidence(LISTENER_SETTINGS), "flags")
        findings += [pod_finding(flags.pod, f"etcd {gap}") for gap in etcd_listener_gaps(flags)]
    return draft.judge(findings, passed="every etcd listener requires a client certificate")


judge_etcd_client_cert_auth = drafted(_judge_etcd_client_cert_auth)


def plan_etcd_probes(instances: Sequence[ComponentFlags]) -> Plan[list[str]]:
    """The client URLs etcd advertises that are reachable from the network (not loopback);
    with none, the probe does not apply."""
    draft = Draft()
    try:
        urls = sorted({u for flags in instances for u in etcd_client_urls(flags)})
        reachable = [u for u in urls if not is_loopback_url(u)]
        if not reachable:
            raise NotApplicable(
                f"etcd listens only on loopback ({', '.join(urls) or 'no URLs'}); "
                "not reachable from the network"
            )
    except CheckOutcome as outcome:
        return Plan(draft.ended(outcome), [])
    return Plan(draft.so_far(), reachable)


def _refused_in_handshake(probe: ProbeResult) -> bool:
    return probe.status is None and any(word in probe.error for word in _HANDSHAKE_REFUSALS)


def _judge_etcd_probes(draft: Draft, probes: Sequence[ProbeResult]) -> Judgement:
    """Any HTTP answer to a client without a certificate is a finding: etcd's TLS listener
    with --client-cert-auth or --trusted-ca-file rejects such a client in the handshake
    (go.etcd.io/etcd/client/pkg/transport listener.go: tls.RequireAndVerifyClientCert),
    so even a 5xx means the handshake completed without one. A handshake refused for the
    certificate is the pass; any other silence (a timeout, a refused connection) says
    nothing and leaves no verdict."""
    draft.probes("Requests to etcd without a client certificate", probes)
    findings: list[Finding] = []
    unclear: list[ProbeResult] = []
    for probe in probes:
        if probe.status is not None:
            findings.append(
                Finding(
                    "Etcd",
                    "",
                    urlsplit(probe.url).netloc,
                    f"answered {probe.status} to a client without a certificate",
                )
            )
        elif probe.status is None and not _refused_in_handshake(probe):
            unclear.append(probe)
    if unclear and not findings:
        raise EvidenceUnavailable("; ".join(p.line() for p in unclear))
    return draft.judge(
        findings, passed="every etcd client URL refused a client without a certificate"
    )


judge_etcd_probes = drafted(_judge_etcd_probes)
