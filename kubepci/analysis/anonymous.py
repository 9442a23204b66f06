"""Verdict rules for unauthenticated access (PCI 1.1): probe statuses and anonymous RBAC.

Status codes mean different things per component (a peer tool flags kubelet 403 as
"open"); the rules here say exactly which answer is a finding and why.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from kubepci.access.probes import ProbeResult
from kubepci.analysis.endpoints import HEALTH_PATHS, VERSION_PATHS
from kubepci.analysis.rbac import Grant, RbacGraph, Subject
from kubepci.verdict import Finding

ANONYMOUS_SUBJECTS = (
    Subject("User", "system:anonymous"),
    Subject("Group", "system:unauthenticated"),
)
PUBLIC_PATHS = frozenset(HEALTH_PATHS + VERSION_PATHS)


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def served_without_credentials(
    kind: str, probes: list[ProbeResult], allowed: frozenset[str], redirects_count: bool
) -> list[Finding]:
    """Content answered without credentials on a path outside ``allowed``.

    For the API server a redirect is content too (it serves nothing that needs one); the
    controller manager and scheduler answer only 2xx for what they serve.
    """
    ceiling = 400 if redirects_count else 300
    findings = []
    for probe in probes:
        path = _path(probe.url)
        if path in allowed or probe.status is None or not 200 <= probe.status < ceiling:
            continue
        findings.append(
            Finding(
                kind,
                "",
                urlsplit(probe.url).netloc,
                f"GET {path} without credentials answered {probe.status}",
            )
        )
    return findings


def api_server_findings(probes: list[ProbeResult]) -> list[Finding]:
    """Any 2xx/3xx on a path beyond health and version is content served to anyone."""
    return served_without_credentials("APIServer", probes, PUBLIC_PATHS, redirects_count=True)


def unanswered(probes: list[ProbeResult]) -> list[ProbeResult]:
    return [p for p in probes if p.status is None]


ENDPOINT_KINDS = {"kube-controller-manager": "ControllerManager", "kube-scheduler": "Scheduler"}


def component_findings(component: str, probes: list[ProbeResult]) -> list[Finding]:
    """Controller manager / scheduler: content on anything but health paths is a finding."""
    kind = ENDPOINT_KINDS.get(component, component)
    return served_without_credentials(kind, probes, frozenset(HEALTH_PATHS), redirects_count=False)


def kubelet_finding(node: str, probe: ProbeResult) -> Finding | None:
    """401 is the only good answer: 403 means anonymous requests are authenticated as
    system:anonymous and merely not authorised; 200 means anyone can use the kubelet."""
    if probe.status == 401:
        return None
    if probe.status == 403:
        detail = (
            "403: anonymous authentication is enabled (requests become system:anonymous; "
            "only authorization stops them)"
        )
    elif probe.status is not None and 200 <= probe.status < 300:
        detail = f"{probe.status}: serves the kubelet API to anyone without credentials (critical)"
    elif probe.status is not None:
        detail = f"unexpected answer {probe.status} to an unauthenticated GET /pods"
    else:
        return None
    return Finding("Node", "", node, f"kubelet {urlsplit(probe.url).netloc} {detail}")


def anonymous_grants(graph: RbacGraph) -> list[Grant]:
    return list(graph.where(lambda s: s in ANONYMOUS_SUBJECTS))


def excessive_anonymous_grant(grant: Grant) -> str:
    """Why a grant to anonymous callers goes beyond health and version paths ('' if not)."""
    rule = grant.rule
    if rule.resources or (rule.api_groups and not rule.non_resource_urls):
        return f"grants {rule.text()} on API resources"
    extra = [u for u in rule.non_resource_urls if u not in PUBLIC_PATHS]
    if extra:
        return f"grants {','.join(rule.verbs)} on {', '.join(extra)}"
    return ""
