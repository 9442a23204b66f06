"""PCI 1.1.1 judged: what the API server serves without credentials, how its anonymous
authenticator is configured, and what RBAC grants anonymous callers.

The status rules and the anonymous authenticator's computation are in
:mod:`kubepci.analysis.anonymous`; this module turns the evidence of each check into its
:class:`~kubepci.analysis.judgement.Judgement`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kubepci.analysis import anonymous
from kubepci.analysis.anonymous import AnonymousAuth
from kubepci.analysis.flags import ComponentFlags
from kubepci.analysis.judgement import Draft, Judgement, Plan, drafted
from kubepci.analysis.rbac import RbacGraph, binding_findings
from kubepci.records.probes import ProbeResult
from kubepci.verdict import CheckOutcome, EvidenceUnavailable, Finding

PROBES_TITLE = "Unauthenticated requests to the API server"
CONFIG_FLAGS = ["anonymous-auth", "authentication-config", "authorization-mode"]


def _judge_api_server_probes(draft: Draft, probes: Sequence[ProbeResult]) -> Judgement:
    """Every non-health path refuses a request without credentials (401/403); a path that
    did not answer may be the one that serves content, so it leaves no verdict."""
    draft.probes(PROBES_TITLE, probes)
    silent = anonymous.unanswered(list(probes))
    if silent:
        raise EvidenceUnavailable(
            "API server did not answer: " + "; ".join(p.line() for p in silent[:5])
        )
    return draft.judge(
        anonymous.api_server_findings(list(probes)),
        passed="every non-health path refused unauthenticated requests (401/403)",
    )


judge_api_server_probes = drafted(_judge_api_server_probes)


@dataclass(frozen=True)
class AnonymousConfig:
    """Each instance's anonymous authenticator as its configuration gives it."""

    auths: tuple[AnonymousAuth, ...] = ()
    findings: tuple[Finding, ...] = ()


def plan_anonymous_config(instances: Sequence[ComponentFlags]) -> Plan[AnonymousConfig]:
    """Read each kube-apiserver's anonymous authentication from its flags and the
    AuthenticationConfiguration it names; then the live server is probed to check it."""
    draft = Draft()
    findings: list[Finding] = []
    auths: list[AnonymousAuth] = []
    try:
        for flags in instances:
            auth = anonymous.api_server_anonymous(flags, flags.files.get("authentication-config"))
            auths.append(auth)
            findings += anonymous.anonymous_config_findings(flags, auth)
            draft.record(
                f"kube-apiserver flags ({flags.pod})", flags.evidence(CONFIG_FLAGS), "flags"
            )
            draft.record(f"Anonymous authentication of {flags.pod}", auth.describe())
            if auth.known and flags.get("authentication-config"):
                draft.record(
                    "The configuration file as read now",
                    "kube-apiserver refuses changes to the anonymous section after it starts "
                    "(authentication.go: 'changed from initial configuration file'), so the "
                    "file may not be what it runs: the live answers below are checked against "
                    "it",
                )
    except CheckOutcome as outcome:
        return Plan(draft.ended(outcome), AnonymousConfig())
    return Plan(draft.so_far(), AnonymousConfig(tuple(auths), tuple(findings)))


def _judge_anonymous_config(
    draft: Draft, config: AnonymousConfig, probes: Sequence[ProbeResult], server: str
) -> Judgement:
    """Anonymous authentication is off, or limited to the health paths, and the live
    server agrees; where a configuration was not read, the live server decides alone and
    must have answered every non-health path (401 means anonymous requests are out)."""
    draft.probes(PROBES_TITLE, probes)
    findings = [
        *config.findings,
        *anonymous.anonymous_probe_findings(list(probes), list(config.auths)),
    ]
    undecided = anonymous.undecided_probes(list(probes))
    if not all(a.known for a in config.auths):
        if undecided and not findings:
            raise EvidenceUnavailable(
                "the anonymous configuration was not read and the API server did not answer "
                "clearly: " + "; ".join(p.line() for p in undecided[:5])
            )
        draft.record(
            "Limitation",
            "the anonymous configuration of at least one instance was not read; the live "
            f"server ({server}) decided on the paths probed",
        )
        return draft.judge(
            findings,
            passed="every probed non-health path answered 401: anonymous requests are not "
            "authenticated (configuration not read; decided by the live server)",
        )
    if undecided:
        draft.record(
            "Probes that did not tell (the configuration decided)", [p.line() for p in undecided]
        )
    return draft.judge(
        findings,
        passed="anonymous authentication is disabled or limited to health paths, and the live "
        "server agrees on every path probed",
    )


judge_anonymous_config = drafted(_judge_anonymous_config)


def _judge_anonymous_rbac(draft: Draft, graph: RbacGraph) -> Judgement:
    """No RoleBinding or ClusterRoleBinding gives system:anonymous or
    system:unauthenticated more than the health and version paths."""
    grants = anonymous.anonymous_grants(graph)
    draft.record("Grants to anonymous callers", [g.path() for g in grants], "rbac")
    excessive = [g for g in grants if anonymous.excessive_anonymous_grant(g)]
    findings = binding_findings(
        excessive, lambda g: f"{anonymous.excessive_anonymous_grant(g)}: {g.path()}"
    )
    return draft.judge(
        findings, passed="anonymous callers are granted health and version paths only"
    )


judge_anonymous_rbac = drafted(_judge_anonymous_rbac)
