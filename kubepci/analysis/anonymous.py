"""Verdict rules for unauthenticated access (PCI 1.1): probe statuses and anonymous RBAC.

Status codes mean different things per component (a peer tool flags kubelet 403 as
"open"); the rules here say exactly which answer is a finding and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from kubepci.analysis.access_review import ALWAYS_ALLOW, authorizer_chain
from kubepci.analysis.endpoints import HEALTH_PATHS, VERSION_PATHS
from kubepci.analysis.flags import ComponentFlags, ConfigFile
from kubepci.analysis.rbac import Grant, RbacGraph, Subject
from kubepci.records.probes import ProbeResult
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
    # A stored rule names resources (with API groups) or non-resource URLs, never both and
    # never neither (pkg/apis/rbac/validation/validation.go ValidatePolicyRule).
    if rule.resources:
        return f"grants {rule.text()} on API resources"
    extra = [u for u in rule.non_resource_urls if u not in PUBLIC_PATHS]
    if extra:
        return f"grants {','.join(rule.verbs)} on {', '.join(extra)}"
    return ""


# ----------------------------------------------------------------------- configuration
# kube-apiserver's anonymous authenticator as its options compute it (Kubernetes v1.35.4):
# pkg/kubeapiserver/options/authentication.go ToAuthenticationConfig (file section, else
# the flag, the two mutually exclusive), ApplyAuthorization (the flag is reset to false
# when the authorization modes hold AlwaysAllow), loadAuthenticationConfigFromData (strict
# decoding of apiserver.config.k8s.io/{v1,v1beta1,v1alpha1}); validation in
# k8s.io/apiserver/pkg/apis/apiserver/validation ValidateAuthenticationConfiguration; the
# authenticator in k8s.io/apiserver/pkg/authentication/request/anonymous (conditions are
# exact request paths; none means every path).

AUTHN_GROUP = "apiserver.config.k8s.io"
AUTHN_VERSIONS = ("v1", "v1beta1", "v1alpha1")
AUTHN_KIND = "AuthenticationConfiguration"
_AUTHN_FIELDS = {"apiVersion", "kind", "jwt", "anonymous"}
# An answer that says an unauthenticated request was authenticated (as system:anonymous):
# authorization or routing answered. 401 says it was not; anything else says neither.
_AUTHENTICATED = frozenset({403, 404, 405})


def is_health_path(path: str) -> bool:
    """/healthz, /livez, /readyz and their individual checks (/readyz/etcd)."""
    return any(path == h or path.startswith(h + "/") for h in HEALTH_PATHS)


@dataclass(frozen=True)
class AnonymousAuth:
    """What one kube-apiserver's anonymous authenticator does."""

    known: bool  # False: its configuration could not be read; the live server decides
    enabled: bool = False
    paths: tuple[str, ...] = ()  # conditions; none (while enabled) means every path
    how: str = ""  # where this comes from, for the evidence

    def allows(self, path: str) -> bool:
        return self.enabled and (not self.paths or path in self.paths)

    def describe(self) -> str:
        if not self.known:
            return f"not known from the configuration: {self.how}"
        if not self.enabled:
            return f"disabled ({self.how})"
        where = ", ".join(self.paths) if self.paths else "every path"
        return f"enabled on {where} ({self.how})"


def _strict_problem(document: dict[str, Any]) -> str:
    """Why kube-apiserver's strict decoder or validation would refuse the file ('' if not)."""
    api_version, kind = str(document.get("apiVersion", "")), document.get("kind")
    group, _, version = api_version.partition("/")
    if group != AUTHN_GROUP or version not in AUTHN_VERSIONS or kind != AUTHN_KIND:
        return f"not an {AUTHN_GROUP} {AUTHN_KIND} (apiVersion {api_version or '?'}, kind {kind})"
    unknown = sorted(set(document) - _AUTHN_FIELDS)
    if unknown:
        return f"unknown field(s) {', '.join(unknown)} (strict decoding)"
    section = document.get("anonymous")
    if section is None:
        return ""
    if not isinstance(section, dict) or set(section) - {"enabled", "conditions"}:
        return "anonymous must be a mapping of enabled and conditions (strict decoding)"
    if not isinstance(section.get("enabled", False), bool):
        return f"anonymous.enabled {section['enabled']!r} is not a boolean"
    conditions = section.get("conditions") or []
    if not isinstance(conditions, list) or any(
        not isinstance(c, dict) or set(c) - {"path"} or not isinstance(c.get("path", ""), str)
        for c in conditions
    ):
        return "anonymous.conditions must be a list of {path: string} (strict decoding)"
    if conditions and not section.get("enabled", False):
        return "anonymous.conditions set while enabled is false (validation refuses it)"
    return ""


def api_server_anonymous(flags: ComponentFlags, file: ConfigFile | None) -> AnonymousAuth:
    """The effective anonymous authentication of one kube-apiserver instance."""
    prefix = ""
    path = flags.get("authentication-config")
    if path:
        if file is None or file.document is None:
            reason = file.unread if file else f"--authentication-config={path}: not read"
            return AnonymousAuth(
                False,
                how=f"--authentication-config={path} (set on pod {flags.pod}) may configure "
                f"it, and the file was not read ({reason})",
            )
        problem = _strict_problem(file.document)
        if problem:
            return AnonymousAuth(
                False,
                how=f"kube-apiserver would refuse {file.read_from}: {problem}, so the file as "
                "read does not describe the running server",
            )
        section = file.document.get("anonymous")
        if section is not None:
            if flags.is_set("anonymous-auth"):
                return AnonymousAuth(
                    False,
                    how=f"{file.read_from} has an anonymous section and --anonymous-auth is set "
                    "too: kube-apiserver refuses to start so (the two are mutually exclusive)",
                )
            paths = tuple(str(c.get("path", "")) for c in section.get("conditions") or [])
            return AnonymousAuth(
                True,
                bool(section.get("enabled", False)),
                paths,
                f"the anonymous section of {file.read_from} (--authentication-config on pod "
                f"{flags.pod})",
            )
        prefix = f"{file.read_from} has no anonymous section, so the flag applies: "
    how = prefix + flags.source("anonymous-auth")
    enabled = flags.is_true("anonymous-auth")
    if enabled and not flags.get("authorization-config"):
        chain, _ = authorizer_chain(flags, None)
        if chain is not None and ALWAYS_ALLOW in chain:
            return AnonymousAuth(  # known, and not enabled (the field's default)
                True,
                how=how + "; reset to false because the authorization modes hold AlwaysAllow "
                "(ApplyAuthorization; AlwaysAllow itself is judged as an authorizer finding)",
            )
    return AnonymousAuth(True, enabled, (), how)


def anonymous_config_findings(flags: ComponentFlags, auth: AnonymousAuth) -> list[Finding]:
    """Anonymous authentication on every path, or on paths beyond the health checks."""
    if not auth.known or not auth.enabled:
        return []
    namespace, _, name = flags.pod.partition("/")
    if not auth.paths:
        return [
            Finding(
                "Pod",
                namespace,
                name,
                f"anonymous authentication is enabled for every path: {auth.how}",
            )
        ]
    # "" is a condition no request path can equal: it lets nothing in.
    wide = sorted({p for p in auth.paths if p and not is_health_path(p)})
    if not wide:
        return []
    return [
        Finding(
            "Pod",
            namespace,
            name,
            f"anonymous requests are authenticated on {', '.join(wide)}, beyond the health "
            f"paths: {auth.how}",
        )
    ]


def authenticated_anonymously(probes: list[ProbeResult]) -> list[ProbeResult]:
    """Probes of non-health paths whose answer shows the request authenticated as
    system:anonymous (403 from authorization, 404/405 from routing, or content)."""
    return [
        p
        for p in probes
        if p.status is not None
        and not is_health_path(_path(p.url))
        and (p.status in _AUTHENTICATED or 200 <= p.status < 400)
    ]


def anonymous_probe_findings(
    probes: list[ProbeResult], auths: list[AnonymousAuth]
) -> list[Finding]:
    """Paths the live server authenticates anonymously that no instance's known
    configuration allows (all of them when no configuration is known)."""
    findings = []
    for probe in authenticated_anonymously(probes):
        path = _path(probe.url)
        if any(a.known and a.allows(path) for a in auths):
            continue  # the configuration finding names it already
        findings.append(
            Finding(
                "APIServer",
                "",
                urlsplit(probe.url).netloc,
                f"GET {path} without credentials answered {probe.status}: the server "
                "authenticates anonymous requests there (with anonymous off it answers 401)",
            )
        )
    return findings


def undecided_probes(probes: list[ProbeResult]) -> list[ProbeResult]:
    """Non-health probes whose answer says nothing about authentication (no answer, 5xx)."""
    return [
        p
        for p in probes
        if not is_health_path(_path(p.url))
        and p.status != 401
        and p not in authenticated_anonymously([p])
    ]
