"""1.1.1 judged (kubepci.analysis.api_server_access): live probes of the API server, its
anonymous authenticator's configuration, and RBAC grants to anonymous callers. Built on
the recorded answers of both local profiles, varied by hand."""

from __future__ import annotations

import dataclasses

from kubepci.analysis.api_server_access import (
    AnonymousConfig,
    judge_anonymous_config,
    judge_anonymous_rbac,
    judge_api_server_probes,
    plan_anonymous_config,
)
from kubepci.analysis.flags import ComponentFlags
from kubepci.records.probes import ProbeResult
from tests.support.judge_evidence import evidence, lines, recorded, titles

SERVER = "https://192.0.2.2:6443"
COMPLIANT = recorded("compliant")
NONCOMPLIANT = recorded("noncompliant")


def answered(
    probes: list[ProbeResult], path: str, status: int | None, error: str = ""
) -> list[ProbeResult]:
    """The probes with the one of ``path`` answered ``status`` (None: no answer)."""
    return [
        dataclasses.replace(p, status=status, error=error) if p.url == SERVER + path else p
        for p in probes
    ]


def apiserver(pod: str = "kube-system/kube-apiserver-cp", **flags: str) -> ComponentFlags:
    return ComponentFlags("kube-apiserver", pod, "cp", dict(flags))


# ------------------------------------------------------------------ live probes
def test_every_non_health_path_refused_passes() -> None:
    judgement = judge_api_server_probes(COMPLIANT.probes("api-server"))
    assert judgement.passed == "every non-health path refused unauthenticated requests (401/403)"
    assert judgement.findings == ()
    assert titles(judgement) == ["Unauthenticated requests to the API server"]
    assert len(evidence(judgement, "Unauthenticated requests to the API server")) == 14


def test_content_beyond_health_and_version_is_a_finding() -> None:
    judgement = judge_api_server_probes(NONCOMPLIANT.probes("api-server"))
    assert lines(judgement) == [
        "APIServer 192.0.2.2:6443: GET /api/v1/nodes without credentials answered 200",
        "APIServer 192.0.2.2:6443: GET /api/v1/pods without credentials answered 200",
    ]


def test_a_redirect_is_content_too() -> None:
    probes = answered(COMPLIANT.probes("api-server"), "/metrics", 302)
    assert lines(judge_api_server_probes(probes)) == [
        "APIServer 192.0.2.2:6443: GET /metrics without credentials answered 302"
    ]


def test_a_path_that_did_not_answer_leaves_no_verdict() -> None:
    probes = answered(COMPLIANT.probes("api-server"), "/api/v1/pods", None, "timed out")
    judgement = judge_api_server_probes(probes)
    assert judgement.unavailable == (
        f"API server did not answer: GET {SERVER}/api/v1/pods → no answer (timed out)"
    )
    assert titles(judgement) == ["Unauthenticated requests to the API server"]


def test_health_and_version_answers_are_no_finding() -> None:
    probes = answered(COMPLIANT.probes("api-server"), "/version", 200)
    assert judge_api_server_probes(probes).findings == ()


# ------------------------------------------------------------------ configuration
def test_the_compliant_file_limits_anonymous_requests_to_health_paths() -> None:
    plan = plan_anonymous_config(COMPLIANT.flags("kube-apiserver"))
    assert not plan.so_far.ends
    assert titles(plan.so_far) == [
        "kube-apiserver flags (kube-system/kube-apiserver-vm)",
        "Anonymous authentication of kube-system/kube-apiserver-vm",
        "The configuration file as read now",
    ]
    (auth,) = plan.then.auths
    assert auth.known and auth.enabled and set(auth.paths) == {"/livez", "/readyz", "/healthz"}
    judgement = judge_anonymous_config(plan.then, COMPLIANT.probes("api-server"), SERVER)
    assert judgement.findings == ()
    assert judgement.passed.startswith("anonymous authentication is disabled or limited")
    assert titles(judgement) == ["Unauthenticated requests to the API server"]


def test_anonymous_auth_on_every_path_is_a_finding() -> None:
    plan = plan_anonymous_config(NONCOMPLIANT.flags("kube-apiserver"))
    assert [f.detail.split(":")[0] for f in plan.then.findings] == [
        "anonymous authentication is enabled for every path"
    ]
    judgement = judge_anonymous_config(plan.then, NONCOMPLIANT.probes("api-server"), SERVER)
    # The live answers the configuration already names are not repeated.
    assert [f.kind for f in judgement.findings] == ["Pod"]


def test_a_live_answer_the_configuration_does_not_allow_is_a_finding() -> None:
    plan = plan_anonymous_config(COMPLIANT.flags("kube-apiserver"))
    probes = answered(COMPLIANT.probes("api-server"), "/api", 403)
    judgement = judge_anonymous_config(plan.then, probes, SERVER)
    assert lines(judgement) == [
        "APIServer 192.0.2.2:6443: GET /api without credentials answered 403: the server "
        "authenticates anonymous requests there (with anonymous off it answers 401)"
    ]


def test_known_configuration_decides_where_the_probes_do_not_tell() -> None:
    plan = plan_anonymous_config(COMPLIANT.flags("kube-apiserver"))
    probes = answered(COMPLIANT.probes("api-server"), "/metrics", 503)
    judgement = judge_anonymous_config(plan.then, probes, SERVER)
    assert judgement.passed.startswith("anonymous authentication is disabled or limited")
    assert evidence(judgement, "Probes that did not tell (the configuration decided)") == [
        f"GET {SERVER}/metrics → 503"
    ]


def unread_config() -> AnonymousConfig:
    plan = plan_anonymous_config([apiserver(**{"authentication-config": "/etc/authn.yaml"})])
    (auth,) = plan.then.auths
    assert not auth.known
    return plan.then


def test_without_the_file_the_live_server_decides() -> None:
    judgement = judge_anonymous_config(unread_config(), COMPLIANT.probes("api-server"), SERVER)
    assert judgement.passed == (
        "every probed non-health path answered 401: anonymous requests are not "
        "authenticated (configuration not read; decided by the live server)"
    )
    assert evidence(judgement, "Limitation") == (
        "the anonymous configuration of at least one instance was not read; the live "
        f"server ({SERVER}) decided on the paths probed"
    )


def test_without_the_file_an_unclear_answer_leaves_no_verdict() -> None:
    probes = answered(COMPLIANT.probes("api-server"), "/api", None, "timed out")
    judgement = judge_anonymous_config(unread_config(), probes, SERVER)
    assert judgement.unavailable == (
        "the anonymous configuration was not read and the API server did not answer "
        f"clearly: GET {SERVER}/api → no answer (timed out)"
    )
    assert titles(judgement) == ["Unauthenticated requests to the API server"]


def test_without_the_file_a_finding_outweighs_an_unclear_answer() -> None:
    probes = answered(COMPLIANT.probes("api-server"), "/api", None, "timed out")
    probes = answered(probes, "/api/v1/pods", 200)
    judgement = judge_anonymous_config(unread_config(), probes, SERVER)
    assert [f.name for f in judgement.findings] == ["192.0.2.2:6443"]
    assert "Limitation" in titles(judgement)


def test_a_flag_that_cannot_be_read_ends_with_the_instances_read_before() -> None:
    unreadable = dataclasses.replace(
        apiserver("kube-system/kube-apiserver-b"),
        unresolved={"authentication-config": "set from $(AUTHN)"},
    )
    plan = plan_anonymous_config([apiserver(**{"anonymous-auth": "false"}), unreadable])
    assert plan.so_far.unavailable == (
        "kube-system/kube-apiserver-b: --authentication-config cannot be read: set from $(AUTHN)"
    )
    assert titles(plan.so_far) == [
        "kube-apiserver flags (kube-system/kube-apiserver-cp)",
        "Anonymous authentication of kube-system/kube-apiserver-cp",
    ]
    assert plan.then == AnonymousConfig()


# ------------------------------------------------------------------ RBAC
def test_anonymous_grants_beyond_health_paths_are_findings() -> None:
    judgement = judge_anonymous_rbac(NONCOMPLIANT.rbac_graph)
    assert len(judgement.findings) == 2
    assert all("on API resources" in f.detail for f in judgement.findings)
    assert titles(judgement) == ["Grants to anonymous callers"]


def test_the_default_anonymous_grants_pass() -> None:
    judgement = judge_anonymous_rbac(COMPLIANT.rbac_graph)
    assert judgement.findings == ()
    assert judgement.passed == "anonymous callers are granted health and version paths only"
    assert evidence(judgement, "Grants to anonymous callers")  # the health paths, listed


def test_every_instance_is_judged_and_recorded() -> None:
    """Two kube-apiservers: the first one's finding is kept when the second has none, and
    each instance's flags and anonymous authenticator are recorded under its own pod."""
    rbac = {"authorization-mode": "Node,RBAC"}
    opened = apiserver("kube-system/kube-apiserver-a", **{"anonymous-auth": "true"}, **rbac)
    closed = apiserver("kube-system/kube-apiserver-b", **{"anonymous-auth": "false"}, **rbac)
    plan = plan_anonymous_config([opened, closed])
    assert [f.name for f in plan.then.findings] == ["kube-apiserver-a"]
    assert [a.known for a in plan.then.auths] == [True, True]
    assert [(e.title, e.kind) for e in plan.so_far.evidence] == [
        ("kube-apiserver flags (kube-system/kube-apiserver-a)", "flags"),
        ("Anonymous authentication of kube-system/kube-apiserver-a", "text"),
        ("kube-apiserver flags (kube-system/kube-apiserver-b)", "flags"),
        ("Anonymous authentication of kube-system/kube-apiserver-b", "text"),
    ]
    assert plan.so_far.evidence[2].content == closed.evidence(
        ["anonymous-auth", "authentication-config", "authorization-mode"]
    )


def test_silence_on_many_paths_names_the_first_five() -> None:
    probes = [
        dataclasses.replace(p, status=None, error="timed out")
        for p in COMPLIANT.probes("api-server")
    ]
    assert len(probes) > 5
    reason = judge_api_server_probes(probes).unavailable
    assert reason == "API server did not answer: " + "; ".join(p.line() for p in probes[:5])
