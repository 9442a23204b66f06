"""PCI 1.1.4 judged: kubelets refuse anonymous requests, serve no read-only port, and are
configured so (anonymous off, Webhook authorization, readOnlyPort 0).

What each kubelet answer means is in :func:`kubepci.analysis.anonymous.kubelet_finding`;
where the read-only port is looked for, in :mod:`kubepci.analysis.endpoints`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from kubepci.analysis import anonymous, kubelet_config
from kubepci.analysis.endpoints import (
    NodeAddress,
    ReadOnlyTarget,
    read_only_port_findings,
    read_only_targets,
)
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted
from kubepci.records.probes import ProbeResult
from kubepci.verdict import EvidenceUnavailable, ManualAttestation

Obj = dict[str, Any]
NO_ADDRESS = "no node has an address to probe"
NOT_PROBED = "no address to probe the kubelet of node(s) "


def node_of(url: str, nodes: Sequence[NodeAddress]) -> str:
    """The node a probed URL's host is the address of (the host itself if none is)."""
    host = urlsplit(url).hostname or ""
    return next((n.node for n in nodes if n.address == host), host)


def _judge_kubelet_probes(
    draft: Draft, probes: Sequence[ProbeResult], nodes: Sequence[NodeAddress]
) -> Judgement:
    """Every kubelet answers 401 to GET /pods on 10250 without credentials; a kubelet that
    did not answer leaves no verdict."""
    if not probes:
        raise EvidenceUnavailable(NO_ADDRESS)
    draft.probes("Unauthenticated requests to each kubelet", probes)
    silent = anonymous.unanswered(list(probes))
    if silent:
        raise EvidenceUnavailable("; ".join(f"{node_of(p.url, nodes)}: {p.line()}" for p in silent))
    findings = [f for p in probes if (f := anonymous.kubelet_finding(node_of(p.url, nodes), p))]
    unprobed = never_probed(nodes)
    if unprobed and not findings:
        # A kubelet that was not asked is not one that refused.
        raise EvidenceUnavailable(NOT_PROBED + ", ".join(unprobed))
    return draft.judge(findings, passed="every kubelet answered 401 without credentials")


judge_kubelet_probes = drafted(_judge_kubelet_probes)


def never_probed(nodes: Sequence[NodeAddress]) -> list[str]:
    """Nodes without an InternalIP or ExternalIP: their kubelets cannot be probed."""
    return sorted(n.node for n in nodes if not n.address)


def configz_not_read(nodes: Sequence[NodeAddress], reason: str) -> dict[str, Obj]:
    """Every node's configz entry when none could be read: the reason, for each."""
    return {n.node: {"error": reason} for n in nodes}


def plan_read_only_probes(
    nodes: Sequence[NodeAddress], configz: Mapping[str, Obj]
) -> Plan[list[ReadOnlyTarget]]:
    """Where to look for each kubelet's read-only port, and why there (recorded first)."""
    draft = Draft()
    targets = read_only_targets(list(nodes), dict(configz))
    if not targets:
        return Plan(draft.ended(EvidenceUnavailable(NO_ADDRESS)), [])
    draft.record(
        "Read-only port probed on each kubelet, and why that port",
        [f"{t.node}: {t.url} ({t.basis})" for t in targets],
    )
    return Plan(draft.so_far(), targets)


def _judge_read_only_probes(
    draft: Draft,
    targets: Sequence[ReadOnlyTarget],
    probes: Sequence[ProbeResult],
    all_nodes: Sequence[str] = (),
) -> Judgement:
    """Any HTTP answer on a read-only port is a finding; a refused connection is the pass;
    a filtered port (timeout) or a reset says nothing about the kubelet."""
    draft.probes("Plain HTTP requests to each kubelet's read-only port", probes)
    findings, unclear = read_only_port_findings(list(targets), list(probes))
    if unclear and not findings:
        raise EvidenceUnavailable("; ".join(unclear))
    unprobed = sorted(set(all_nodes) - {t.node for t in targets})
    if unprobed and not findings:
        raise EvidenceUnavailable(NOT_PROBED + ", ".join(unprobed))
    ports = ", ".join(sorted({str(t.port) for t in targets}))
    return draft.judge(
        findings, passed=f"the read-only port ({ports}) refused connections on every node"
    )


judge_read_only_probes = drafted(_judge_read_only_probes)


def _judge_kubelet_config(draft: Draft, configz: Mapping[str, Obj]) -> Judgement:
    """Each kubelet's effective configuration: authentication.anonymous.enabled false,
    authorization.mode Webhook, readOnlyPort 0 (omitted from configz when 0). Without the
    optional nodes/proxy grant (confirmed by the API server) and no finding elsewhere it
    is manual: the live probes judge 1.1.4 (:mod:`kubepci.analysis.kubelet_config`)."""
    draft.record("Kubelet authentication settings (configz)", configz, "objects")
    judged = kubelet_config.judge_configz(dict(configz))
    if judged.errors:
        raise EvidenceUnavailable("cannot read kubelet configz: " + "; ".join(judged.errors))
    if not configz:
        raise EvidenceUnavailable("no nodes to read kubelet configuration from")
    if judged.not_granted and not judged.findings:
        raise ManualAttestation(judged.not_granted_reason())
    return draft.judge(
        judged.findings, passed="every kubelet: anonymous off, Webhook authorization, no 10255"
    )


judge_kubelet_config = drafted(_judge_kubelet_config)
