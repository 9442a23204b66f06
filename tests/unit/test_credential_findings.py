"""1.3.1 and 1.6.1 on the person's own credential: every credential client-go sends is
judged, and a person holding a ServiceAccount token is judged on that token."""

from __future__ import annotations

from typing import Any

import pytest

from kubepci.access.credential import classify_user
from kubepci.analysis import credentials
from tests.builders import cert_data_user, exec_user
from tests.unit.test_credential import LEGACY_CLAIMS, OIDC_CLAIMS, recorded_claims, unsigned_jwt

Obj = dict[str, Any]
PERSON = {"username": "oidc:jane@example.com", "groups": ["system:authenticated"]}
LIMIT = 86400


def bound(lifetime: int | None, **private: Any) -> str:
    claims = dict(recorded_claims("bound-capped-1h"))
    claims["kubernetes.io"] = {**claims["kubernetes.io"], **private}
    if lifetime is None:
        claims.pop("exp")
    else:
        claims["exp"] = claims["iat"] + lifetime
    return unsigned_jwt(claims)


def sa_identity(ns: str = "payments", name: str = "payments-api") -> Obj:
    return {"username": f"system:serviceaccount:{ns}:{name}", "groups": []}


# ------------------------------------------------------------------ 1.3.1 revocable
# user entry, SelfSubjectReview, expected finding classes
REVOCABLE: dict[str, tuple[Obj, Obj, list[str]]] = {
    "exec plugin": (exec_user(), PERSON, []),
    "client certificate": (cert_data_user("jane"), PERSON, ["client-certificate"]),
    "certificate sent alongside a token": (
        {**cert_data_user("jane"), "token": "opaque"},
        PERSON,
        ["client-certificate"],
    ),
    "certificate silencing an exec plugin": (
        {**exec_user(), **cert_data_user("jane")},
        PERSON,
        ["client-certificate"],
    ),
    "legacy ServiceAccount token": (
        {"token": unsigned_jwt(LEGACY_CLAIMS)},
        sa_identity("payments", "default"),
        ["legacy-service-account-token"],
    ),
    "certificate and legacy token": (
        {**cert_data_user("jane"), "token": unsigned_jwt(LEGACY_CLAIMS)},
        PERSON,
        ["client-certificate", "legacy-service-account-token"],
    ),
    "bound token within policy": ({"token": bound(3600)}, sa_identity(), []),
    "bound token at the limit": ({"token": bound(LIMIT)}, sa_identity(), []),
    "bound token beyond policy": (
        {"token": bound(LIMIT + 1)},
        sa_identity(),
        ["long-lived-service-account-token"],
    ),
    "bound token without expiry": (
        {"token": bound(None)},
        sa_identity(),
        ["long-lived-service-account-token"],
    ),
    "static opaque token": ({"token": "opaque"}, PERSON, []),
    "OIDC ID token pasted in": ({"token": unsigned_jwt(OIDC_CLAIMS)}, PERSON, []),
}


@pytest.mark.parametrize("case", list(REVOCABLE))
def test_revocation_findings(case: str) -> None:
    user, identity, expected = REVOCABLE[case]
    credential = classify_user(user)
    assert credentials.unjudged(credential, identity, revocable=True) == ""
    found = credentials.revocation_findings("jane", credential, LIMIT)
    assert [f.finding_class for f in found] == expected
    assert all(f.ref == "KubeconfigUser jane" for f in found)
    assert all(f.namespace == "" for f in found)  # a kubeconfig user has no namespace


def test_legacy_token_finding_says_how_it_is_revoked() -> None:
    credential = classify_user({"token": unsigned_jwt(LEGACY_CLAIMS)})
    (finding,) = credentials.revocation_findings("jane", credential, LIMIT)
    assert finding.detail.startswith("holds ")
    assert finding.detail.endswith("; it is revoked only by deleting that Secret")


def test_certificate_finding_says_it_is_sent_alongside_and_first() -> None:
    credential = classify_user({**cert_data_user("jane", ["dev"]), "token": "opaque"})
    (finding,) = credentials.revocation_findings("jane", credential, LIMIT)
    assert finding.detail == (
        "client certificate CN=jane O=dev: client certificates cannot be revoked; sent "
        "alongside static bearer token in the kubeconfig, and authenticated first"
    )


def test_long_lived_bound_token_says_how_it_is_revoked() -> None:
    credential = classify_user({"token": bound(2 * LIMIT, pod={"name": "api", "uid": "u"})})
    (finding,) = credentials.revocation_findings("jane", credential, LIMIT)
    assert "bound to Pod payments/api, lives 172800s, beyond the 86400s policy" in finding.detail
    assert finding.detail.endswith("revoked only by deleting Pod payments/api")
    unbound = classify_user({"token": bound(2 * LIMIT)})
    (finding,) = credentials.revocation_findings("jane", unbound, LIMIT)
    assert finding.detail.endswith("deleting ServiceAccount payments/payments-api")


def test_service_account_seen_only_by_the_api_server_cannot_be_judged() -> None:
    credential = classify_user(exec_user("/usr/bin/vault-k8s-token"))
    reason = credentials.unjudged(credential, sa_identity("ci", "deployer"), revocable=True)
    assert "ServiceAccount ci/deployer (SelfSubjectReview)" in reason
    assert "its kind and lifetime cannot be read" in reason
    # The plugin check can judge it: the person is not authenticating as themselves.
    assert credentials.unjudged(credential, sa_identity("ci", "deployer"), revocable=False) == ""


def test_refused_entries_cannot_be_judged() -> None:
    credential = classify_user({"token": "t", "username": "u"})
    for revocable in (True, False):
        assert "kubectl cannot use this user entry" in credentials.unjudged(
            credential, PERSON, revocable
        )


# ------------------------------------------------------------------ 1.6.1 plugin
PLUGIN: dict[str, tuple[Obj, Obj, list[str]]] = {
    "exec plugin": (exec_user(), PERSON, []),
    "oidc auth-provider": ({"auth-provider": {"name": "oidc"}}, PERSON, []),
    "exec plugin yielding a ServiceAccount": (
        exec_user(),
        sa_identity("ci", "deployer"),
        ["service-account-token"],
    ),
    "static token": ({"token": "opaque"}, PERSON, ["static-credential"]),
    "token silencing the exec plugin": (
        {**exec_user(), "token": "opaque"},
        PERSON,
        ["static-credential"],
    ),
    "basic auth": ({"username": "admin", "password": "p"}, PERSON, ["static-credential"]),
    "client certificate": (cert_data_user("jane"), PERSON, ["client-certificate"]),
    "certificate with an auth-provider": (
        {**cert_data_user("jane"), "auth-provider": {"name": "oidc"}},
        PERSON,
        ["client-certificate"],
    ),
    "legacy ServiceAccount token": (
        {"token": unsigned_jwt(LEGACY_CLAIMS)},
        sa_identity("payments", "default"),
        ["service-account-token"],
    ),
    "short bound ServiceAccount token": (
        {"token": bound(600)},
        sa_identity(),
        ["service-account-token"],
    ),
    "nothing": ({}, {"username": "system:anonymous", "groups": []}, ["no-credential"]),
}


@pytest.mark.parametrize("case", list(PLUGIN))
def test_static_credential_findings(case: str) -> None:
    user, identity, expected = PLUGIN[case]
    credential = classify_user(user)
    assert credentials.unjudged(credential, identity, revocable=False) == ""
    found = credentials.static_credential_findings("jane", credential, identity)
    assert [f.finding_class for f in found] == expected
    assert all(f.ref == "KubeconfigUser jane" and f.namespace == "" for f in found)


def test_static_credential_findings_say_what_is_sent() -> None:
    def detail(user: Obj, identity: Obj = PERSON) -> list[str]:
        found = credentials.static_credential_findings("jane", classify_user(user), identity)
        return [f.detail for f in found]

    assert detail({}, {"username": "system:anonymous", "groups": []}) == ["sends no credentials"]
    assert detail({"token": "opaque"}) == [
        "authenticates with static bearer token in the kubeconfig, a static credential"
    ]
    assert detail({}, sa_identity("ci", "d")) == [
        "authenticates as ServiceAccount ci/d (SelfSubjectReview) through its credential: a "
        "shared workload identity, not the person's own, and no MFA"
    ]


def test_service_account_finding_names_the_account_and_the_token() -> None:
    credential = classify_user({"token": unsigned_jwt(LEGACY_CLAIMS)})
    (finding,) = credentials.static_credential_findings("jane", credential, PERSON)
    assert finding.detail.startswith(
        "authenticates with a legacy secret-based token of ServiceAccount payments/default"
    )
    assert finding.detail.endswith("a shared workload identity, not the person's own, and no MFA")
    alongside = classify_user({**cert_data_user("jane"), "token": bound(600)})
    found = credentials.static_credential_findings("jane", alongside, PERSON)
    assert [f.finding_class for f in found] == ["client-certificate", "service-account-token"]
    assert found[1].detail.startswith("also sends a TokenRequest token of ServiceAccount")
    plugin = classify_user(exec_user())
    (reviewed,) = credentials.static_credential_findings("jane", plugin, sa_identity("ci", "d"))
    assert reviewed.detail.startswith(
        "authenticates as ServiceAccount ci/d (SelfSubjectReview) through exec plugin"
    )


def test_reviewed_service_account() -> None:
    assert credentials.reviewed_service_account(sa_identity("a", "b")) == "a/b"
    assert credentials.reviewed_service_account(PERSON) == ""
