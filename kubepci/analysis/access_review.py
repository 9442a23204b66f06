"""The API server's own authorizer as evidence: SubjectAccessReview questions and answers.

Pure: no I/O. :class:`~kubepci.access.cluster.ClusterSession` sends the reviews; this
module builds their bodies, reads their answers and judges them.

- Each RBAC finding carries a *witness*, one ``(Identity, Request)`` the RBAC evaluator
  (:mod:`kubepci.analysis.authorizer`) allows. One SubjectAccessReview per witness
  confirms it: :func:`confirmations`. A disagreement is an error of the suite.
- :data:`UNBOUND_PROBE` asks whether an identity that nothing binds may do a few risky
  things. If the server allows what RBAC (over the recorded bindings) does not, an
  authorizer other than RBAC grants it to everyone: :func:`permissive_authorizer_findings`.
- The authorizer chain as configured (``--authorization-mode`` or the
  AuthorizationConfiguration of ``--authorization-config``):
  :func:`authorization_mode_findings`, following
  ``pkg/kubeapiserver/options/authorization.go`` (Kubernetes v1.35.4).

A SubjectAccessReview stores nothing: it is a question, answered and forgotten. The
server adds no groups to ``spec.groups`` (unlike a real request, which gains
``system:authenticated``), so every identity is sent with all its groups spelled out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kubepci.analysis.authorizer import Identity, Request
from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.judgement import pod_finding
from kubepci.verdict import Finding

Obj = dict[str, Any]
Pair = tuple[Identity, Request]

SUBJECT_ACCESS_REVIEW = "/apis/authorization.k8s.io/v1/subjectaccessreviews"

# A ServiceAccount no binding should name: its namespace need not exist (a review asks
# about a name, not an object).
PROBE_NAMESPACE = "kubepci-unbound-probe"
UNBOUND_IDENTITY = Identity.service_account(PROBE_NAMESPACE, PROBE_NAMESPACE)
UNBOUND_PROBE: list[Pair] = [
    (UNBOUND_IDENTITY, request)
    for request in (
        Request("get", resource="secrets", namespace="kube-system"),
        Request("create", resource="pods", namespace="kube-system"),
        Request("impersonate", resource="groups", name="system:masters"),
        Request("create", group="rbac.authorization.k8s.io", resource="clusterrolebindings"),
        Request("get", resource="nodes", subresource="proxy"),
    )
]

# The chain's authorizer types (pkg/kubeapiserver/authorizer/modes/modes.go).
ALWAYS_ALLOW = "AlwaysAllow"
ALWAYS_DENY = "AlwaysDeny"
WEBHOOK = "Webhook"
ABAC = "ABAC"
RBAC = "RBAC"
NODE = "Node"
# Only these return Deny; Node, RBAC and ABAC allow or have no opinion.
MAY_DENY = frozenset({WEBHOOK, ALWAYS_DENY})
# Setting any of these is a "legacy flag" (AddFlags' AreLegacyFlagsSet): with
# --authorization-config as well, Validate refuses to start the server.
LEGACY_FLAGS = (
    "authorization-mode",
    "authorization-webhook-config-file",
    "authorization-webhook-version",
    "authorization-webhook-cache-authorized-ttl",
    "authorization-webhook-cache-unauthorized-ttl",
)
CONFIG_GROUP = "apiserver.config.k8s.io"
CONFIG_KIND = "AuthorizationConfiguration"


@dataclass(frozen=True)
class AccessAnswer:
    """A SubjectAccessReview's status: what the whole authorizer chain decided."""

    allowed: bool
    # True only when an authorizer said Deny (a webhook, AlwaysDeny); RBAC never denies,
    # it has no opinion, so a request RBAC does not grant is neither allowed nor denied.
    denied: bool = False
    reason: str = ""
    evaluation_error: str = ""

    @classmethod
    def from_status(cls, status: Obj) -> AccessAnswer:
        return cls(
            bool(status.get("allowed")),
            bool(status.get("denied")),
            str(status.get("reason") or ""),
            str(status.get("evaluationError") or ""),
        )

    def to_json(self) -> Obj:
        return {
            "allowed": self.allowed,
            "denied": self.denied,
            "reason": self.reason,
            "evaluation_error": self.evaluation_error,
        }

    @classmethod
    def from_json(cls, raw: Obj) -> AccessAnswer:
        return cls(
            bool(raw["allowed"]),
            bool(raw.get("denied")),
            str(raw.get("reason") or ""),
            str(raw.get("evaluation_error") or ""),
        )

    def text(self) -> str:
        """``allowed``, ``denied`` or ``not allowed (no authorizer had an opinion)``, then
        the server's reason and evaluation error when it gave them."""
        if self.allowed:
            verdict = "allowed"
        elif self.denied:
            verdict = "denied"
        else:
            verdict = "not allowed (no authorizer had an opinion)"
        details = []
        if self.reason:
            details.append(f"reason: {self.reason}")
        if self.evaluation_error:
            details.append(f"evaluation error: {self.evaluation_error}")
        return f"{verdict}; {'; '.join(details)}" if details else verdict


# ----------------------------------------------------------------------- the questions
def review_body(identity: Identity, request: Request) -> Obj:
    """The SubjectAccessReview for one pair (spec.user/groups and the request's attributes)."""
    spec: Obj = {"user": identity.user, "groups": list(identity.groups)}
    if request.is_resource:
        attributes = {"verb": request.verb, "resource": request.resource}
        for key in ("namespace", "group", "subresource", "name"):
            value = getattr(request, key)
            if value:
                attributes[key] = value
        spec["resourceAttributes"] = attributes
    else:
        spec["nonResourceAttributes"] = {"path": request.path, "verb": request.verb}
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec}


def pair_json(identity: Identity, request: Request) -> Obj:
    return {"identity": identity.to_json(), "request": request.to_json()}


def pair_from_json(raw: Obj) -> Pair:
    who = raw["identity"]
    return Identity(str(who["user"]), tuple(str(g) for g in who.get("groups") or ())), Request(
        **{str(k): str(v) for k, v in raw["request"].items()}
    )


def unique_pairs(pairs: Sequence[Pair]) -> list[Pair]:
    """Each distinct pair once, sorted: the same question set is the same store entry,
    whichever order (and however many times) the checks asked it."""
    return sorted(set(pairs))


def pairs_digest(pairs: Sequence[Pair]) -> str:
    """SHA-256 of the canonical JSON of the distinct pairs: the store entry's key."""
    canonical = json.dumps(
        [pair_json(i, r) for i, r in unique_pairs(pairs)],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def describe(identity: Identity, request: Request) -> str:
    groups = ", ".join(identity.groups) or "none"
    return f"{identity.user} (groups: {groups}) to {request.text()}"


def _aligned(name: str, pairs: Sequence[Any], *others: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
    """The pairs zipped with their answers, which must be as many: a ValueError naming
    the judgement otherwise (answers recorded for other questions are never judged)."""
    for other in others:
        if len(other) != len(pairs):
            raise ValueError(f"{name}: {len(pairs)} pairs but {len(other)} answers")
    return zip(pairs, *others, strict=True)


# ----------------------------------------------------------------------- the judgements
CONFIRMED = "authorizer: allowed"


def confirmations(
    witnesses: Sequence[Pair], answers: Sequence[AccessAnswer]
) -> tuple[list[str], list[str]]:
    """Per witness, ``"authorizer: allowed"`` or a line naming the disagreement; and the
    disagreements alone. Every witness is a pair the RBAC evaluator allows, so each
    disagreement is an error of the suite (or an authorizer before RBAC that denies it):
    the caller reports it, it never drops it."""
    lines: list[str] = []
    disagreements: list[str] = []
    for (identity, request), answer in _aligned("confirmations", witnesses, answers):
        if answer.allowed:
            lines.append(CONFIRMED)
            continue
        line = (
            f"authorizer disagrees: the RBAC evaluator allows {describe(identity, request)}, "
            f"but the API server's SubjectAccessReview answered {answer.text()}"
        )
        lines.append(line)
        disagreements.append(line)
    return lines, disagreements


def permissive_authorizer_findings(
    probe: Sequence[Pair], evaluator_allows: Sequence[bool], answers: Sequence[AccessAnswer]
) -> list[Finding]:
    """A finding per probe request the server allows and RBAC does not: an authorizer
    other than RBAC (AlwaysAllow, a permissive webhook) is granting it to everyone.

    A request RBAC allows proves nothing about the other authorizers (RBAC findings cover
    it); one the server refuses is as it should be for an unbound identity.
    """
    findings = []
    for (identity, request), rbac_allows, answer in _aligned(
        "permissive_authorizer_findings", probe, evaluator_allows, answers
    ):
        if not answer.allowed or rbac_allows:
            continue
        said = f"; the server's reason: {answer.reason}" if answer.reason else ""
        findings.append(
            Finding(
                "AuthorizerChain",
                "",
                "kube-apiserver",
                f"a made-up identity, {describe(identity, request)}, is allowed, though RBAC "
                "over the recorded bindings does not grant it: an authorizer other than RBAC "
                "(AlwaysAllow, a permissive webhook) is granting everyone" + said,
                "permissive-authorizer",
            )
        )
    return findings


def probe_disagreements(
    probe: Sequence[Pair], evaluator_allows: Sequence[bool], answers: Sequence[AccessAnswer]
) -> list[str]:
    """Probe requests RBAC allows but the server does not: like :func:`confirmations`'
    disagreements (an error of the suite, or an earlier authorizer that denies)."""
    aligned = _aligned("probe_disagreements", probe, evaluator_allows, answers)
    allowed = [(pair, a) for pair, ok, a in aligned if ok]
    return confirmations([p for p, _ in allowed], [a for _, a in allowed])[1]


def authorizer_chain(flags: ComponentFlags, config: Obj | None) -> tuple[list[str] | None, str]:
    """The chain's authorizer types in order, and where they come from.

    None when they cannot be known: ``--authorization-config`` names a file that was not
    read, or it is set together with a legacy flag (the server refuses to start so).
    Without ``--authorization-config`` an absent or empty ``--authorization-mode`` means
    AlwaysAllow (``Complete``: ``len(Modes) == 0`` → ``[AlwaysAllow]``).
    """
    path = flags.explicit.get("authorization-config")
    if path:
        legacy = [f"--{name}" for name in LEGACY_FLAGS if name in flags.explicit]
        if legacy:
            return None, (
                f"--authorization-config={path} is set together with {', '.join(legacy)} on pod "
                f"{flags.pod}: kube-apiserver refuses to start so (the two are mutually "
                "exclusive), so these flags do not describe the running server"
            )
        if config is None:
            return None, (
                f"--authorization-config={path} (set on pod {flags.pod}) decides the chain, "
                "and the file was not read (it is on the control-plane node: run with "
                "--node-root there)"
            )
        api_version = str(config.get("apiVersion", ""))
        if config.get("kind") != CONFIG_KIND or not api_version.startswith(CONFIG_GROUP + "/"):
            return None, (
                f"{path} is not an {CONFIG_GROUP} {CONFIG_KIND} "
                f"(apiVersion {api_version or '?'}, kind {config.get('kind') or '?'})"
            )
        authorizers = config.get("authorizers") or []
        types = [str(a.get("type", "")) if isinstance(a, dict) else "?" for a in authorizers]
        return types, f"authorizers[].type in {path} (--authorization-config on pod {flags.pod})"
    if "authorization-mode" not in flags.explicit:
        return [ALWAYS_ALLOW], (
            f"neither --authorization-mode nor --authorization-config is set on pod "
            f"{flags.pod}: kube-apiserver defaults to AlwaysAllow"
        )
    modes = [m.strip() for m in flags.explicit["authorization-mode"].split(",") if m.strip()]
    if not modes:
        return [ALWAYS_ALLOW], (
            f"--authorization-mode is empty on pod {flags.pod}: kube-apiserver defaults to "
            "AlwaysAllow"
        )
    return modes, flags.source("authorization-mode")


def authorization_mode_findings(
    flags: ComponentFlags, config: Obj | None
) -> tuple[list[Finding], list[str]]:
    """Findings (AlwaysAllow in the chain) and evidence lines for one kube-apiserver.

    A Webhook or ABAC authorizer is reported as evidence, "not judged": its decisions are
    made outside RBAC, where this suite's RBAC analysis does not reach; the unbound
    identity probe (:data:`UNBOUND_PROBE`) tests what the live chain actually allows.
    """
    chain, source = authorizer_chain(flags, config)
    if chain is None:
        return [], [
            f"authorizer chain of {flags.pod} not judged from its configuration: {source}; "
            "the unbound-identity SubjectAccessReview probe judges the live chain"
        ]
    evidence = [f"authorizer chain of {flags.pod}: {' → '.join(chain) or '(empty)'} ({source})"]
    findings: list[Finding] = []
    if ALWAYS_ALLOW in chain:
        before = chain[: chain.index(ALWAYS_ALLOW)]
        deniers = [t for t in before if t in MAY_DENY]
        unless = (
            f" (unless {' or '.join(deniers)}, earlier in the chain, denies it)" if deniers else ""
        )
        findings.append(
            pod_finding(
                flags.pod,
                f"AlwaysAllow is in the authorizer chain ({source}): every request is "
                f"authorized, whoever makes it{unless}",
                "always-allow-authorizer",
            )
        )
    outside = [t for t in chain if t in (WEBHOOK, ABAC)]
    if outside:
        evidence.append(
            f"not judged: decisions made outside RBAC ({', '.join(outside)} in the chain of "
            f"{flags.pod}); the RBAC analysis covers what RBAC grants, the unbound-identity "
            "probe what the live chain allows"
        )
    if RBAC not in chain:
        evidence.append(
            f"RBAC is not in the chain of {flags.pod}: its bindings grant nothing there, and "
            "the RBAC analysis describes objects this server ignores"
        )
    unknown = [t for t in chain if t not in (ALWAYS_ALLOW, ALWAYS_DENY, WEBHOOK, ABAC, RBAC, NODE)]
    if unknown:
        evidence.append(
            f"unknown authorizer type(s) {', '.join(unknown)}: kube-apiserver refuses them "
            "(modes are case-sensitive)"
        )
    return findings, evidence
